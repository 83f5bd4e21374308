"""Automatic response to runtime Alerts, behind safeguards.

Playbooks (YAML data, :mod:`bastion.respond.playbook`) say which alerts trigger which actions.
Every action passes through one gate, :class:`bastion.respond.engine.Responder`: kill switch,
circuit breaker, allow-lists, blast-radius limits, approval by another person, dry-run mode,
intent record before apply, automatic undo after a TTL; every step lands in the hash-chained,
append-only audit log (:mod:`bastion.respond.ledger`).
"""
