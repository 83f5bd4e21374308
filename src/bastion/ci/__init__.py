"""Bastion in pipelines: stage configuration (``[stages.NAME]``) for ``bastion scan --stage``."""

from bastion.ci.stages import Stage, StageSpec, builtin_stages, resolve_stage, stage_for_scan

__all__ = ["Stage", "StageSpec", "builtin_stages", "resolve_stage", "stage_for_scan"]
