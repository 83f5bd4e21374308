"""Readiness: "are we ready to respond to a cyberattack?" answered from evidence.

Evidence (:mod:`.evidence`) is collected from reports on disk, a Bastion server or its store
(:mod:`.collect`) and from a dated questionnaire (:mod:`.questionnaire`); the data file
``mapping.yml`` (:mod:`.mapping`) ties each evidence kind to a readiness dimension and to the
OWASP DSOMM and SAMM 2 activities it proves; :mod:`.score` turns it into scores with their
reasoning, the three weakest points and a roadmap; :mod:`.render` writes table, JSON, Markdown
and a self-contained HTML report.
"""
