"""Service catalog: pre-approved infrastructure templates, their versions and lifecycle.

A product (a Terraform module, a CloudFormation or ARM template, a Helm chart or Kubernetes
manifests, a Dockerfile) is published version by version through a gate (the iac, secrets and deps
scanners plus the product's own policies), approved by someone other than the publisher, then
deprecated and retired. A scheduled re-check marks versions that newer policies fail as
non-compliant and tells the owner and consumers. ``bastion catalog scan`` reports consumers'
uses of deprecated, retired or non-compliant versions as ``catalog.*`` findings.

Layout: :mod:`.semver` and :mod:`.model` (data), :mod:`.templates` (read a template's inputs
and outputs), :mod:`.artefact` (content-addressed archives), :mod:`.local` (the catalog
directory backend), :mod:`.gate` (publish gate), :mod:`.lifecycle` (transitions, re-check),
:mod:`.notify` (webhook and SMTP), :mod:`.consumers` (who uses what), :mod:`.rules` (the
``catalog.*`` rule family, read from ``rules.yml``).
"""
