"""``bastion fix``: raise each vulnerable dependency to the smallest version that fixes every
known advisory, in the manifest that declares it; a unified diff and a pull-request text; the
lockfiles refreshed by each ecosystem's own tool. Nothing is written without ``--write``."""

from bastion.fix.describe import pull_request_text, summary_line
from bastion.fix.engine import Applied, FixResult, build_fix, refresh_lockfiles, write_changes
from bastion.fix.plan import Advisory, Upgrade, plan_upgrades

__all__ = [
    "Advisory",
    "Applied",
    "FixResult",
    "Upgrade",
    "build_fix",
    "plan_upgrades",
    "pull_request_text",
    "refresh_lockfiles",
    "summary_line",
    "write_changes",
]
