"""Ingest: files, .gz, directories, stdin, followed files and syslog, split into records."""
