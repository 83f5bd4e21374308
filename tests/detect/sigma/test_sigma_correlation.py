"""Sigma correlation rules: event_count, value_count, temporal, temporal_ordered; group-by,
timespan and expiring state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sigma_helpers import events

from bastion.detect.sigma.engine import SigmaEngine

BASE = """
title: Failed logon
name: failed_logon
id: 0b8e3f8a-1111-4000-8000-000000000001
logsource: {product: windows, service: security}
level: low
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: Logon
name: logon
id: 0b8e3f8a-1111-4000-8000-000000000002
logsource: {product: windows, service: security}
level: low
detection:
  sel: {EventID: 4624}
  condition: sel
"""
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def corr(kind: str, extra: str, rules: str = "[failed_logon]", generate: bool = False) -> str:
    """A correlation over the base rules."""
    return (
        BASE
        + f"""---
title: Correlated {kind}
id: 0b8e3f8a-1111-4000-8000-0000000000ff
level: high
correlation:
  type: {kind}
  rules: {rules}
  group-by: [TargetUserName]
  timespan: 5m
  generate: {str(generate).lower()}
{extra}
"""
    )


def logon(eid: int, user: str, seconds: float, ip: str = "10.0.0.1") -> dict:
    """A flat Security event ``seconds`` after T0."""
    return {
        "Channel": "Security",
        "EventID": eid,
        "TargetUserName": user,
        "IpAddress": ip,
        "SystemTime": (T0 + timedelta(seconds=seconds)).isoformat(),
    }


def run(rules_from, text: str, objs: list[dict]) -> tuple[list[str], SigmaEngine]:
    ruleset = rules_from(text)
    assert not ruleset.refused, [r.line() for r in ruleset.refused]
    engine = SigmaEngine(ruleset)
    out = []
    for event in events(objs):
        hits, corr_hits = engine.process(event)
        out += [h.rule.title for h in hits] + [f"{c.correlation.title}:{','.join(c.key)}" for c in corr_hits]
    return out, engine


def test_event_count_fires_per_group_inside_timespan(rules_from) -> None:
    text = corr("event_count", "  condition: {gte: 3}")
    out, _ = run(rules_from, text, [logon(4625, "bob", s) for s in (0, 10, 20)] + [logon(4625, "amy", 30)])
    assert out == ["Correlated event_count:bob"]


def test_event_count_timespan_is_enforced(rules_from) -> None:
    text = corr("event_count", "  condition: {gte: 3}")
    out, _ = run(rules_from, text, [logon(4625, "bob", s) for s in (0, 200, 400, 700)])
    assert out == []  # never three within five minutes


def test_generate_true_keeps_the_base_rule_alerts(rules_from) -> None:
    text = corr("event_count", "  condition: {gte: 2}", generate=True)
    out, _ = run(rules_from, text, [logon(4625, "bob", s) for s in (0, 1)])
    assert out == ["Failed logon", "Failed logon", "Correlated event_count:bob"]


def test_value_count_counts_distinct_values(rules_from) -> None:
    text = corr("value_count", "  condition: {gte: 3, field: IpAddress}")
    same_ip = [logon(4625, "bob", s, "10.0.0.1") for s in (0, 1, 2, 3)]
    many_ips = [logon(4625, "amy", s, f"10.0.0.{s}") for s in (10, 11, 12)]
    out, _ = run(rules_from, text, same_ip + many_ips)
    assert out == ["Correlated value_count:amy"]


def test_temporal_needs_every_rule_in_any_order(rules_from) -> None:
    text = corr("temporal", "", rules="[failed_logon, logon]")
    out, _ = run(rules_from, text, [logon(4624, "bob", 0), logon(4625, "bob", 5), logon(4625, "amy", 6)])
    assert out == ["Correlated temporal:bob"]  # generate: false keeps the base rules quiet


def test_temporal_ordered_needs_the_order(rules_from) -> None:
    text = corr("temporal_ordered", "", rules="[failed_logon, logon]")
    wrong = [logon(4624, "bob", 0), logon(4625, "bob", 5)]
    right = [logon(4625, "amy", 10), logon(4624, "amy", 20)]
    out, _ = run(rules_from, text, wrong + right)
    assert [o for o in out if o.startswith("Correlated")] == ["Correlated temporal_ordered:amy"]


def test_state_expires_with_the_timespan(rules_from) -> None:
    text = corr("event_count", "  condition: {gte: 100}")
    objs = [logon(4625, f"user{n}", n) for n in range(50)]
    _, engine = run(rules_from, text, objs)
    state = engine.states[0]
    assert state.size() == 50
    state.expire((T0 + timedelta(minutes=10)).timestamp())
    assert state.size() == 0 and not state.keys


def test_unknown_reference_and_lt_condition_are_refused(rules_from) -> None:
    ruleset = rules_from(corr("event_count", "  condition: {gte: 2}", rules="[nope]"))
    assert any("'nope', which is not loaded" in r.reason for r in ruleset.refused)
    ruleset = rules_from(corr("event_count", "  condition: {lt: 2}"))
    assert any("lt/lte" in r.reason for r in ruleset.refused)


def test_correlation_in_its_own_file_finds_rules_in_others(rules_from) -> None:
    base, correlation = corr("event_count", "  condition: {gte: 2}").rsplit("---", 1)
    ruleset = rules_from(base, correlation)
    assert not ruleset.refused and len(ruleset.correlations) == 1
