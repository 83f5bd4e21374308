"""The time-window layer: new errors, bursts, silences, quiet components and reordering, per window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.detect.ingest.records import lines_from_text, read_records
from bastion.detect.logs.features import SessionKey
from bastion.detect.logs.pipeline import Detector, load_detector, train
from bastion.detect.logs.rates import LADDER, Observation, WindowModel, WindowScorer, choose_window

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CYCLE = (
    ("app.Sched", "INFO", "scheduling job {n}"),
    ("app.Worker", "INFO", "job {n} started on slot {k}"),
    ("app.Worker", "INFO", "job {n} finished in {ms} ms"),
    ("app.Store", "INFO", "wrote {n} rows to table orders"),
)


def line(at: datetime, component: str, level: str, message: str) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S},000 {level} {component}: {message}"


def steady(start: datetime, minutes: int, reverse_at: set[int] | None = None) -> list[tuple[datetime, str]]:
    """One line every 5 s, the four-step cycle in order (reversed in the minutes ``reverse_at``)."""
    out = []
    for i in range(minutes * 12):
        at = start + timedelta(seconds=5 * i)
        cycle = CYCLE[::-1] if reverse_at and i // 12 in reverse_at else CYCLE
        comp, level, msg = cycle[i % 4]
        out.append((at, line(at, comp, level, msg.format(n=i // 4, k=i % 7, ms=10 + i % 13))))
    return out


def text(items: list[tuple[datetime, str]]) -> str:
    return "\n".join(t for _, t in sorted(items, key=lambda x: x[0])) + "\n"


@pytest.fixture(scope="module")
def detector() -> Detector:
    records = read_records(lines_from_text(text(steady(T0, 120))))
    det, summary = train(records, "ranges", SessionKey("none"), rate_window=300.0)
    assert det.windows is not None and summary.rate_window == 300.0
    return det


def window_kinds(det: Detector, items: list[tuple[datetime, str]]) -> dict[datetime, list[str]]:
    alerts = list(det.detect(read_records(lines_from_text(text(items)))))
    return {a.window_start: list(a.metadata["kinds"]) for a in alerts if a.entity_kind == "window"}


def test_normal_continuation_raises_no_window_alert(detector: Detector) -> None:
    assert window_kinds(detector, steady(T0 + timedelta(hours=2), 60)) == {}
    assert detector.last_scorer is not None and detector.last_scorer.scored == 12


def test_each_injected_anomaly_is_found_in_its_window(detector: Detector) -> None:
    start = T0 + timedelta(hours=2)
    items = [x for x in steady(start, 60, reverse_at={42}) if not (start + timedelta(minutes=15) <= x[0] <
             start + timedelta(minutes=20))]  # fmt: skip
    items = [x for x in items if not (start + timedelta(minutes=30) <= x[0] < start + timedelta(minutes=35)
             and "app.Store" in x[1])]  # fmt: skip
    at = start + timedelta(minutes=5, seconds=7)
    items.append((at, line(at, "app.Store", "ERROR", "disk full while writing table orders")))
    burst = start + timedelta(minutes=50, seconds=1)
    items += [(burst, line(burst, "app.Sched", "INFO", f"scheduling job {i}")) for i in range(200)]
    kinds = window_kinds(detector, items)
    assert "new-error" in kinds[start + timedelta(minutes=5)]
    assert "silence" in kinds[start + timedelta(minutes=15)]
    assert "quiet" in kinds[start + timedelta(minutes=30)]
    assert "order" in kinds[start + timedelta(minutes=40)]
    assert "burst" in kinds[start + timedelta(minutes=50)]
    # the only other window: the first transition after the quiet one (Store -> Sched never followed Worker)
    assert set(kinds) - {start + timedelta(minutes=m) for m in (5, 15, 30, 40, 50)} <= {
        start + timedelta(minutes=35)
    }


def test_window_alert_explains_and_grades(detector: Detector) -> None:
    at = T0 + timedelta(hours=2, minutes=1)
    items = [*steady(T0 + timedelta(hours=2), 20), (at, line(at, "app.Store", "ERROR", "disk full on /data"))]
    alerts = [
        a for a in detector.detect(read_records(lines_from_text(text(items)))) if a.entity_kind == "window"
    ]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.detector == "watch.window" and alert.metadata["kind"] == "new-error"
    assert "unseen template" in alert.explanation and alert.score > 1
    assert any("disk full" in e for e in alert.evidence)
    assert alert.severity.value in ("medium", "high", "critical")


def test_model_file_keeps_the_window_layer(detector: Detector, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "m.bastion"
    detector.save(path)
    back = load_detector(path)
    assert back.windows is not None and detector.windows is not None
    assert back.windows.to_dict() == detector.windows.to_dict()


def obs(t: float, event: int = 1, component: str = "c") -> Observation:
    return Observation(t, event, ("e",), False, component, "line")


def test_window_length_is_chosen_from_the_training_rate() -> None:
    _, summary = train(read_records(lines_from_text(text(steady(T0, 120)))), "ranges", SessionKey("none"))
    assert summary.rate_window == 60.0  # 12 lines a minute: the shortest length holding 10


def test_too_few_windows_means_no_layer_and_window_choice() -> None:
    assert WindowModel.learn([obs(0.0), obs(1.0)], window=60.0) is None
    assert WindowModel.learn([obs(0.0)]) is None
    dense = [obs(float(i)) for i in range(0, 3600)]
    assert choose_window(dense, 20.0) == 30.0
    sparse = [obs(float(i * 1000)) for i in range(10)]
    assert choose_window(sparse, 20.0) in LADDER


def test_late_lines_count_in_their_window_and_long_gaps_are_bounded() -> None:
    model = WindowModel.learn([obs(float(i)) for i in range(0, 600)], window=60.0)
    assert model is not None
    scorer = WindowScorer(model, history=5)
    scorer.add(obs(600.0))
    scorer.add(obs(660.0))
    scorer.add(obs(610.0))  # one window late: still counted in 600's window
    closed = scorer.add(obs(720.0))
    assert [w.start for w in closed] == [600.0] and closed[0].lines == 2
    closed = scorer.add(obs(720.0 + 60.0 * 20_000))
    assert scorer.gaps_skipped > 0 and len(scorer.history) == 5
    assert list(scorer.flush())


def test_damaged_window_state_is_an_input_error(detector: Detector, tmp_path: object) -> None:
    from pathlib import Path

    from bastion.detect.logs.modelfile import read_model_file, write_model_file
    from bastion.errors import InputError

    path = Path(str(tmp_path)) / "m.bastion"
    detector.save(path)
    header, arrays = read_model_file(path)
    header["windows"] = {"window": "x"}
    write_model_file(path, header, arrays)
    with pytest.raises(InputError, match="damaged model file"):
        load_detector(path)
