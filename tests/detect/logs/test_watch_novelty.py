"""Unseen templates judged by how unlike the training templates they are; order by bigram surprisal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion.cli.main import main
from bastion.detect.ingest.records import lines_from_text, read_records
from bastion.detect.logs.features import SessionKey
from bastion.detect.logs.modelfile import read_model_file, write_model_file
from bastion.detect.logs.novelty import MAX_TEMPLATES, TemplateIndex, words
from bastion.detect.logs.pipeline import Detector, load_detector, train
from bastion.detect.logs.rates import RATE_NEAR, Observation, WindowModel, WindowScorer

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CYCLE = (
    ("app.Sched", "INFO", "scheduling job {n}"),
    ("app.Worker", "INFO", "job {n} started on slot {k}"),
    ("app.Worker", "INFO", "job {n} finished in {ms} ms"),
    ("app.Store", "INFO", "wrote {n} rows to table orders"),
)


def line(at: datetime, component: str, level: str, message: str) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S},000 {level} {component}: {message}"


def steady(start: datetime, minutes: int) -> list[tuple[datetime, str]]:
    """One line every 5 s, the four-step cycle in order."""
    out = []
    for i in range(minutes * 12):
        at = start + timedelta(seconds=5 * i)
        comp, level, msg = CYCLE[i % 4]
        out.append((at, line(at, comp, level, msg.format(n=i // 4, k=i % 7, ms=10 + i % 13))))
    return out


def text(items: list[tuple[datetime, str]]) -> str:
    return "\n".join(t for _, t in sorted(items, key=lambda x: x[0])) + "\n"


def detector_on(items: list[tuple[datetime, str]], near: float = RATE_NEAR) -> Detector:
    records = read_records(lines_from_text(text(items)))
    det, _ = train(records, "ranges", SessionKey("none"), rate_window=300.0, rate_near=near)
    return det


def window_kinds(det: Detector, items: list[tuple[datetime, str]]) -> dict[datetime, list[str]]:
    alerts = list(det.detect(read_records(lines_from_text(text(items)))))
    return {a.window_start: list(a.metadata["kinds"]) for a in alerts if a.entity_kind == "window"}


def test_words_are_lowercased_letters_without_values() -> None:
    assert words(["Wrote", "<*>", "rows", "to", "table", "orders.", "x", "0x1f"]) == {
        "wrote",
        "rows",
        "to",
        "table",
        "orders",
        "0x1f",
    }
    assert words(["<*>", "<*>"]) == frozenset()


def test_similarity_is_the_best_jaccard_to_a_known_template() -> None:
    index = TemplateIndex()
    index.add(["wrote", "<*>", "rows", "to", "table", "orders"])
    index.add(["job", "<*>", "started", "on", "slot", "<*>"])
    assert index.similarity(["wrote", "<*>", "rows", "to", "table", "orders"]) == 1.0
    assert index.similarity(["<*>", "<*>"]) == 1.0  # nothing but values: nothing new to say
    near = index.similarity(["failed", "to", "write", "<*>", "rows", "to", "table", "orders"])
    assert near == pytest.approx(4 / 7)
    assert index.similarity(["disk", "full", "while", "writing", "volume"]) == 0.0
    back = TemplateIndex.from_list(index.to_list())
    assert back.to_list() == index.to_list()
    with pytest.raises(TypeError):
        TemplateIndex.from_list(["not a list"])


def test_index_is_bounded() -> None:
    index = TemplateIndex()
    for i in range(MAX_TEMPLATES + 50):
        index.add([f"word{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676 % 26)}", "x" * 3])
    assert len(index.sets) == MAX_TEMPLATES


def test_near_variant_of_a_known_template_is_not_news(tmp_path: Path) -> None:
    det = detector_on(steady(T0, 120))
    start = T0 + timedelta(hours=2)
    at, later = start + timedelta(minutes=5, seconds=7), start + timedelta(minutes=20, seconds=7)
    items = [
        *steady(start, 30),
        (at, line(at, "app.Store", "ERROR", "failed to write 7 rows to table orders")),
        (later, line(later, "app.Store", "ERROR", "disk full while writing volume")),
    ]
    kinds = window_kinds(det, items)
    assert "new-error" not in kinds.get(start + timedelta(minutes=5), [])
    assert "new-error" in kinds[start + timedelta(minutes=20)]
    # the rule is a setting: off (near > 1), the variant is a new error as before
    off = detector_on(steady(T0, 120), near=2.0)
    assert "new-error" in window_kinds(off, items)[start + timedelta(minutes=5)]
    path = tmp_path / "m.bastion"
    det.save(path)
    back = load_detector(path)
    assert back.windows is not None and back.windows.near == det.windows.near  # type: ignore[union-attr]
    assert "new-error" not in window_kinds(back, items).get(start + timedelta(minutes=5), [])


def test_model_file_without_the_index_loads_with_the_old_rule(tmp_path: Path) -> None:
    det = detector_on(steady(T0, 120))
    path = tmp_path / "m.bastion"
    det.save(path)
    header, arrays = read_model_file(path)
    for key in ("templates", "near", "pair_lines"):
        del header["windows"][key]
    del header["windows"]["thresholds"]["sequence"]
    write_model_file(path, header, arrays)
    back = load_detector(path)
    assert back.windows is not None and back.windows.near > 1 and not back.windows.pair_lines
    at = T0 + timedelta(hours=2, minutes=5, seconds=7)
    items = [
        *steady(T0 + timedelta(hours=2), 30),
        (at, line(at, "app.Store", "ERROR", "failed to write 7 rows")),
    ]
    assert "new-error" in window_kinds(back, items)[T0 + timedelta(hours=2, minutes=5)]


def cycle(
    start: float, seconds: int, order: tuple[int, ...], rare: tuple[int, ...] = (), every: int = 0
) -> list[Observation]:
    """One event a second in ``order`` repeated; every ``every``-th round in ``rare`` order instead."""
    out = []
    for i in range(seconds):
        rnd, pos = divmod(i, len(order))
        seq = rare if every and rnd % every == every - 1 else order
        out.append(Observation(start + i, seq[pos], (f"e{seq[pos]}",), False, "c", f"event {seq[pos]}"))
    return out


def test_seen_transitions_in_an_unlikely_order_are_a_sequence_anomaly() -> None:
    model = WindowModel.learn(cycle(0.0, 3600, (1, 2, 3), rare=(1, 3, 2), every=20), window=60.0)
    assert model is not None and model.thresholds["sequence"] > 0
    normal = [
        w for w in WindowScorer(model).score_all(cycle(3600.0, 600, (1, 2, 3), (1, 3, 2), 20)) if w.kinds
    ]
    assert normal == []
    odd = list(WindowScorer(model).score_all(cycle(4200.0, 120, (1, 3, 2))))
    assert any("sequence" in w.kinds and "order" not in w.kinds for w in odd)
    flagged = next(w for w in odd if "sequence" in w.kinds)
    assert any("unlikely order" in r for r in flagged.reasons) and flagged.evidence


def test_an_unseen_error_alerts_in_every_window_it_comes_back_in() -> None:
    det = detector_on(steady(T0, 120))
    start = T0 + timedelta(hours=2)
    again = [start + timedelta(minutes=m, seconds=7) for m in (5, 20)]
    items = [
        *steady(start, 30),
        *((at, line(at, "app.Store", "ERROR", "disk full while writing volume")) for at in again),
    ]
    kinds = window_kinds(det, items)
    assert all("new-error" in kinds[start + timedelta(minutes=m)] for m in (5, 20))
    assert set(kinds) == {start + timedelta(minutes=5), start + timedelta(minutes=20)}


def test_watch_cli_reports_a_new_error_not_its_near_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_file, test_file, model = tmp_path / "train.log", tmp_path / "test.log", tmp_path / "m.bastion"
    train_file.write_text(text(steady(T0, 120)), encoding="utf-8")
    start = T0 + timedelta(hours=2)
    variant, foreign = start + timedelta(minutes=5, seconds=7), start + timedelta(minutes=20, seconds=7)
    items = [
        *steady(start, 30),
        (variant, line(variant, "app.Store", "ERROR", "failed to write 7 rows to table orders")),
        (foreign, line(foreign, "app.Store", "ERROR", "disk full while writing volume")),
    ]
    test_file.write_text(text(items), encoding="utf-8")
    assert (
        main(
            ["watch", "train", str(train_file), "--session", "none", "--rate-window", "300", "-o", str(model)]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["watch", "detect", str(test_file), "-m", str(model), "--format", "jsonl"]) == 1
    windows = [
        a for a in map(json.loads, capsys.readouterr().out.splitlines()) if a["entity_kind"] == "window"
    ]
    assert [a["metadata"]["kinds"] for a in windows] == [["new-error"]]
    assert "disk full" in " ".join(windows[0]["evidence"]) and "failed to write" not in " ".join(
        windows[0]["evidence"]
    )


def test_no_sequence_threshold_when_training_never_measured_one() -> None:
    # one event a minute: no 60 s window ever holds 3 transitions, so the feature was never measured
    sparse = [Observation(60.0 * i + 1, 1 + i % 2, (f"e{1 + i % 2}",), False, "c", "x") for i in range(120)]
    model = WindowModel.learn(sparse, window=60.0)
    assert model is not None and "sequence" not in model.thresholds
    busy = list(WindowScorer(model).score_all(cycle(7300.0, 60, (2, 2, 1, 1))))
    assert all("sequence" not in w.kinds for w in busy) and busy[0].values["sequence"] > 0
    assert WindowModel.from_dict(model.to_dict()).thresholds == model.thresholds
