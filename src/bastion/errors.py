"""Bastion's exception hierarchy; the CLI maps each to an exit code in one place.

::

    BastionError
    ├── UsageError        bad flags or values on the command line          (exit 2)
    ├── InputError        a target, baseline or data file that cannot be used (exit 2)
    │   └── ConfigError   bastion.toml / [tool.bastion] is invalid          (exit 2)
    └── ScannerError      a scanner failed; the engine records it and goes on
"""

from __future__ import annotations


class BastionError(Exception):
    """Base class for every error Bastion raises on purpose."""


class UsageError(BastionError):
    """The command line asked for something impossible (unknown scanner, bad value)."""


class InputError(BastionError):
    """An input file or directory cannot be used; the message names it and why."""


class ConfigError(InputError):
    """The configuration file is invalid; the message names the file, key and reason."""


class ScannerError(BastionError):
    """A scanner could not complete; recorded as a skipped scanner, the run goes on."""
