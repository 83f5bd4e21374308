"""The ``iac`` scanner: Terraform, plan JSON, CloudFormation, ARM, Kubernetes, Dockerfile and
docker-compose files checked against YAML/Python policies.

Each policy's verdict on a resource is pass, fail or unknown. A failure is a finding at the
resource's file and lines (the offending attribute's line is in the message and metadata);
unknown (a value only known at deploy time) is a notice with the reason, never a finding.
"""

from __future__ import annotations

from bastion.scan.iac.scanner import IacOptions, IacScanner

__all__ = ["IacOptions", "IacScanner"]
