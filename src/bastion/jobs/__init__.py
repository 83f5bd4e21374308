"""Scan jobs past one machine: a Dramatiq task queue over Redis, or in-process without a broker.

``models`` (tables), ``board`` (job states and exactly-once results), ``fetch`` (a repository
cloned safely), ``scan`` (one repository scanned in a memory- and time-limited child),
``broker`` (the queue and its workers), ``org`` (the organisation's repositories and schedules).
"""
