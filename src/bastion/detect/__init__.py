"""Runtime detection: event streams in, explained :class:`bastion.findings.Alert` values out.

``ingest`` reads and frames records (files, rotation, syslog, headers, multi-line);
``logs`` learns templates and normal sessions of a system's logs; ``identity`` learns the normal
of each account from sign-ins; ``sinks`` is where every detector's alerts go.
"""
