"""Models on real HDFS sessions, persistence through model files, bad training data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bastion.detect.logs.modelfile import read_model_file, write_model_file
from bastion.detect.logs.registry import MODELS, make_model, model_class
from bastion.errors import InputError, UsageError

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def sessions(name: str) -> list[list[int]]:
    return [[int(t) for t in line.split()] for line in (LOGS / name).read_text().splitlines() if line.strip()]


TRAIN = sessions("hdfs_train_600")
ABNORMAL = sessions("hdfs_abnormal_300")
with (LOGS / "robust_log_valid_300.csv").open() as _f:
    NORMAL = [[int(t) for t in row["Sequence"].split()] for row in csv.DictReader(_f)]

# Minimum recall on the abnormal sample and maximum false-positive rate on held-out normals, per model,
# trained on 600 normal sessions (the benchmark trains on 4,855 and reaches more).
EXPECT = {
    "ranges": (0.9, 0.05),
    "pca": (0.7, 0.05),
    "invariants": (0.3, 0.05),
    "iforest": (0.3, 0.05),
    "logclustering": (0.7, 0.05),
    "sequence": (0.6, 0.05),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_detects_and_round_trips(name: str, tmp_path: Path) -> None:
    model = make_model(name)
    model.fit(TRAIN)
    recall = float(np.mean(model.predict(ABNORMAL)))
    fpr = float(np.mean(model.predict(NORMAL)))
    low_recall, high_fpr = EXPECT[name]
    assert recall >= low_recall, recall
    assert fpr <= high_fpr, fpr
    meta, arrays = model.state()
    write_model_file(tmp_path / "m.bastion", {"model": name, "model_state": meta}, arrays)
    header, loaded = read_model_file(tmp_path / "m.bastion")
    again = model_class(name).restore(header["model_state"], loaded)
    assert np.allclose(again.score(ABNORMAL[:50]), model.score(ABNORMAL[:50]))
    assert again.threshold == model.threshold
    assert len(model.score([])) == 0


def test_empty_and_all_anomalous_training() -> None:
    with pytest.raises(InputError, match="no training sessions"):
        make_model("pca").fit([])
    # Trained on anomalies only, the model learns them as normal: it must still run and
    # flag the normal sessions that look nothing like its training data.
    model = make_model("ranges")
    model.fit(ABNORMAL)
    assert model.predict(ABNORMAL).mean() == 0.0
    assert model.predict(NORMAL).mean() > 0.0


def test_unknown_models() -> None:
    with pytest.raises(UsageError, match="unknown model"):
        make_model("nope")
    with pytest.raises(InputError, match="unknown model"):
        model_class("nope")


def test_model_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such model file"):
        read_model_file(tmp_path / "missing")
    (tmp_path / "junk").write_bytes(b"\x00junk")
    with pytest.raises(InputError, match="not a Bastion watch model"):
        read_model_file(tmp_path / "junk")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(InputError, match="no header"):
        read_model_file(tmp_path / "plain.npz")
    write_model_file(tmp_path / "v.bastion", {"version": 7}, {})
    with pytest.raises(InputError, match="version 7 is not supported"):
        read_model_file(tmp_path / "v.bastion")
    write_model_file(tmp_path / "f.bastion", {"format": "other"}, {})
    with pytest.raises(InputError, match="not a Bastion watch model"):
        read_model_file(tmp_path / "f.bastion")
    with pytest.raises(InputError, match="cannot write"):
        write_model_file(tmp_path / "no" / "dir" / "m", {}, {})


@pytest.mark.slow
def test_deeplog() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: deeplog needs the bastion[deep] extra")
    assert torch is not None
    from bastion.detect.logs.deeplog import DeepLogModel

    model = DeepLogModel(epochs=3)
    model.fit(TRAIN)
    assert model.predict(ABNORMAL).mean() > 0.3
    meta, arrays = model.state()
    again = DeepLogModel.restore(meta, arrays)
    assert np.allclose(again.score(ABNORMAL[:20]), model.score(ABNORMAL[:20]))


def test_deeplog_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(UsageError, match=r"bastion\[deep\]"):
        make_model("deeplog")
