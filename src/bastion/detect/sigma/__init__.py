"""Sigma rules on Bastion's log streams: pySigma parses, Bastion compiles one shared matcher.

``loader`` reads rule files (every rule loads or is refused with a reason), ``compiler`` turns a
rule into a predicate and a literal key, ``index`` groups rules by log source and prefilters them
with Aho-Corasick, ``correlate`` runs correlation rules, ``pipeline`` and ``pipelines/*.yml`` map
raw logs to Sigma fields and log sources, ``events`` reads logs, ``alerts`` makes Alerts.
"""
