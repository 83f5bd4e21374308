"""Coverage as an ATT&CK Navigator layer (layer format 4.5, the JSON ATT&CK Navigator opens).

Each technique of the exercise gets a score (the detected share of its assessed runs, 0-100), a
colour from red (missed) to green (detected), and a comment with the counts and the median time to
detect; techniques not assessed are grey and unscored.
"""

from __future__ import annotations

from typing import Any

from bastion.drills.attack import ATTACK_NOTICE
from bastion.drills.scoring import Scoreboard, Stats

__all__ = ["layer"]

GREY = "#d9d9d9"


def layer(board: Scoreboard, name: str) -> dict[str, Any]:
    """The Navigator layer of ``board``."""
    techniques = []
    for tid, row in sorted(board.by_technique().items()):
        cov = row.coverage
        ttd = Stats.of(row.ttds)
        comment = (
            ", ".join(f"{k} {v}" for k, v in sorted(row.counts.items()))
            + f"; scenarios {', '.join(row.scenarios)}"
            + (
                f"; median TTD {ttd.median:.0f}s, p90 {ttd.p90:.0f}s"
                if ttd.median is not None and ttd.p90 is not None
                else ""
            )
        )
        entry: dict[str, Any] = {
            "techniqueID": tid,
            "comment": comment,
            "enabled": True,
            "showSubtechniques": True,
        }
        if cov is None:
            entry["color"] = GREY
        else:
            entry["score"] = round(cov * 100)
        techniques.append(entry)
    return {
        "name": f"Bastion drill: {name}",
        "versions": {"attack": "18", "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": f"Detection coverage measured by replayed attacks. {ATTACK_NOTICE}",
        "sorting": 3,
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#ff6666", "#ffe766", "#8ec843"], "minValue": 0, "maxValue": 100},
        "legendItems": [
            {"label": "missed", "color": "#ff6666"},
            {"label": "detected", "color": "#8ec843"},
            {"label": "not assessed", "color": GREY},
        ],
        "metadata": [{"name": "generator", "value": "bastion drill"}],
    }
