"""Anomaly models over sessions, trained on normal operation only.

Every model scores a session (higher is more abnormal) and keeps as threshold the highest
score it saw on its training sessions times ``margin``: training data is normal, so anything
stranger than all of it is an anomaly. A session holding an event never seen in training is
abnormal for every model (the ``unseen`` rule; the explanation names the event).

Models: ``pca`` (residual of the principal subspace, Xu et al. SOSP 2009), ``invariants``
(pairwise count invariants, after Lou et al. ATC 2010), ``ranges`` (per-event count ranges
of normal sessions), ``iforest`` (Isolation Forest),
``logclustering`` (distance to clusters of normal sessions, Lin et al. ICSE 2016), ``sequence``
(next-event top-k table over the last events, the count-free core of DeepLog) and ``deeplog``
(an LSTM next-event model, Du et al. CCS 2017; needs the ``bastion[deep]`` extra).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from bastion.detect.logs.features import Vocabulary, count_matrix
from bastion.errors import InputError

__all__ = [
    "CountRangeModel",
    "InvariantsModel",
    "IsolationForestModel",
    "LogClusteringModel",
    "Model",
    "PCAModel",
    "SequenceModel",
]

START, END = -2, -3


class Model(ABC):
    """Base class: fit on normal sessions, score any session."""

    name: ClassVar[str] = ""
    any_violation: ClassVar[bool] = False
    """True for models whose published rule flags any violation (threshold 0, not the
    highest training score): invariants mined with a support below 100 %, DeepLog's top-k."""

    def __init__(self, margin: float = 1.0) -> None:
        """``margin`` scales the threshold (the highest training score)."""
        self.margin = margin
        self.vocab = Vocabulary(())
        self.threshold = 0.0

    def fit(self, sequences: Sequence[Sequence[int]]) -> None:
        """Learn from normal sessions (event-id sequences)."""
        if not sequences:
            raise InputError("no training sessions: the logs held no line with a session key")
        self.vocab = Vocabulary(e for seq in sequences for e in seq)
        self._fit(sequences)
        if self.any_violation:
            self.threshold = 0.0
        else:
            scores = self._score(sequences)
            self.threshold = float(np.max(scores)) * self.margin if len(scores) else 0.0

    def score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Anomaly score of each session."""
        if not sequences:
            return np.zeros(0)
        return self._score(sequences)

    def predict(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """True where a session is abnormal: score above threshold, or an unseen event."""
        scores = self.score(sequences)
        unseen = np.array([any(e not in self.vocab.index for e in seq) for seq in sequences], dtype=bool)
        flags: np.ndarray = (scores > self.threshold + 1e-12) | unseen
        return flags

    # -- persistence: JSON-able settings + numpy arrays -----------------------------------
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Settings and arrays that :meth:`restore` reads back."""
        meta = {"margin": self.margin, "threshold": self.threshold, "vocab": self.vocab.ids}
        meta.update(self._meta())
        return meta, self._arrays()

    @classmethod
    def restore(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Model:
        """Rebuild a fitted model from :meth:`state`."""
        model = cls(margin=float(meta["margin"]))
        model.threshold = float(meta["threshold"])
        model.vocab = Vocabulary(int(e) for e in meta["vocab"])
        model._load(meta, arrays)
        return model

    @abstractmethod
    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        """Learn from normal sessions (the vocabulary is already built)."""

    @abstractmethod
    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Anomaly score of each session; higher is more abnormal."""

    def _meta(self) -> dict[str, Any]:
        return {}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _load(self, _meta: Mapping[str, Any], _arrays: Mapping[str, np.ndarray]) -> None:
        """Read the model's own state; a model with none keeps this default."""
        return None


def _idf(matrix: np.ndarray) -> np.ndarray:
    df = np.count_nonzero(matrix, axis=0)
    idf: np.ndarray = np.log((matrix.shape[0] + 1) / (df + 1)) + 1.0
    return idf


class PCAModel(Model):
    """Squared prediction error outside the subspace that keeps 95 % of the variance."""

    name = "pca"

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        x = count_matrix(sequences, self.vocab)
        self.idf = _idf(x)
        x = x * self.idf
        self.mean = x.mean(axis=0)
        centered = x - self.mean
        _, s, vt = np.linalg.svd(centered, full_matrices=False)
        var = s**2
        total = var.sum()
        k = int(np.searchsorted(np.cumsum(var) / total, 0.95) + 1) if total > 0 else 0
        self.components = vt[:k]

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        x = count_matrix(sequences, self.vocab) * self.idf - self.mean
        residual = x - (x @ self.components.T) @ self.components
        return np.asarray((residual**2).sum(axis=1))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"idf": self.idf, "mean": self.mean, "components": self.components}

    def _load(self, _meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.idf, self.mean, self.components = arrays["idf"], arrays["mean"], arrays["components"]


class InvariantsModel(Model):
    """Pairs of events whose counts keep a fixed small ratio in at least ``SUPPORT`` of the
    training sessions where either occurs (loglizer's default support, 0.98); a session that
    breaks any invariant is abnormal."""

    name = "invariants"
    any_violation = True
    RATIOS = (1.0, 2.0, 3.0, 0.5, 1.0 / 3.0)
    SUPPORT = 0.98

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        x = count_matrix(sequences, self.vocab)[:, :-1]
        present = np.count_nonzero(x, axis=0)
        columns = [c for c in range(x.shape[1]) if present[c] >= max(2, 0.05 * len(x))]
        pairs: list[tuple[int, int, float]] = []
        for i, a in enumerate(columns):
            for b in columns[i + 1 :]:
                both = (x[:, a] > 0) | (x[:, b] > 0)
                for r in self.RATIOS:
                    if np.mean(np.abs(x[both, a] - r * x[both, b]) < 1e-9) >= self.SUPPORT:
                        pairs.append((a, b, r))
                        break
        self.pairs = np.array(pairs, dtype=np.float64).reshape(-1, 3)

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        x = count_matrix(sequences, self.vocab)
        if not len(self.pairs):
            return np.zeros(len(sequences))
        a, b, r = self.pairs[:, 0].astype(int), self.pairs[:, 1].astype(int), self.pairs[:, 2]
        return np.asarray((np.abs(x[:, a] - r * x[:, b]) > 1e-9).sum(axis=1), dtype=np.float64)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"pairs": self.pairs}

    def _load(self, _meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.pairs = arrays["pairs"]


class IsolationForestModel(Model):
    """scikit-learn's Isolation Forest on count vectors; the fitted trees are refitted on load
    from the stored training matrix (no pickle), with the same seed."""

    name = "iforest"

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        self.train = count_matrix(sequences, self.vocab)
        self._build()

    def _build(self) -> None:
        from sklearn.ensemble import IsolationForest

        self.forest = IsolationForest(n_estimators=100, random_state=0).fit(self.train)

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        scores: np.ndarray = -self.forest.score_samples(count_matrix(sequences, self.vocab))
        return scores

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"train": self.train}

    def _load(self, _meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.train = arrays["train"]
        self._build()


class LogClusteringModel(Model):
    """Cosine distance (idf-weighted counts) to the nearest cluster of normal sessions."""

    name = "logclustering"
    MAX_DISTANCE = 0.3

    def _vectors(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        x = count_matrix(sequences, self.vocab) * self.idf
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        out: np.ndarray = x / np.where(norms == 0, 1.0, norms)
        return out

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        self.idf = _idf(count_matrix(sequences, self.vocab))
        x = np.unique(self._vectors(sequences), axis=0)
        centroids: list[np.ndarray] = []
        sizes: list[int] = []
        for v in x:
            if centroids:
                c = np.array(centroids)
                sims = c @ v / np.maximum(np.linalg.norm(c, axis=1), 1e-12)
                j = int(np.argmax(sims))
                if 1.0 - sims[j] <= self.MAX_DISTANCE:
                    centroids[j] = (centroids[j] * sizes[j] + v) / (sizes[j] + 1)
                    sizes[j] += 1
                    continue
            centroids.append(v.copy())
            sizes.append(1)
        self.centroids = np.array(centroids).reshape(-1, self.vocab.size)

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        v = self._vectors(sequences)
        c = self.centroids / np.maximum(np.linalg.norm(self.centroids, axis=1, keepdims=True), 1e-12)
        return np.asarray(1.0 - (v @ c.T).max(axis=1))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"idf": self.idf, "centroids": self.centroids}

    def _load(self, _meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.idf, self.centroids = arrays["idf"], arrays["centroids"]


class CountRangeModel(Model):
    """Each event's per-session count must stay within the range seen in training; the score
    is the total count outside the ranges (an event missing or repeated too often)."""

    name = "ranges"

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        x = count_matrix(sequences, self.vocab)
        self.low, self.high = x.min(axis=0), x.max(axis=0)

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        x = count_matrix(sequences, self.vocab)
        below = np.clip(self.low - x, 0, None)
        above = np.clip(x - self.high, 0, None)
        return np.asarray((below + above).sum(axis=1))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"low": self.low, "high": self.high}

    def _load(self, _meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.low, self.high = arrays["low"], arrays["high"]


class SequenceModel(Model):
    """Next-event table: after the last ``history`` events, the next one must be among the
    ``top_k`` most frequent followers seen in training (0: any follower seen, the strict table);
    unseen histories count as misses.
    Start and end markers make missing first or last events visible."""

    name = "sequence"

    def __init__(self, margin: float = 1.0, history: int = 1, top_k: int = 0) -> None:
        """``history`` events of context, ``top_k`` allowed followers."""
        super().__init__(margin)
        self.history = history
        self.top_k = top_k
        self.table: dict[tuple[int, ...], set[int]] = {}

    def _windows(self, seq: Sequence[int]) -> list[tuple[tuple[int, ...], int]]:
        padded = [START] * self.history + list(seq) + [END]
        return [(tuple(padded[i - self.history : i]), padded[i]) for i in range(self.history, len(padded))]

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        counts: dict[tuple[int, ...], dict[int, int]] = {}
        for seq in sequences:
            for hist, nxt in self._windows(seq):
                followers = counts.setdefault(hist, {})
                followers[nxt] = followers.get(nxt, 0) + 1
        self.table = {h: set(sorted(f, key=lambda e: -f[e])[: self.top_k or None]) for h, f in counts.items()}

    def misses(self, seq: Sequence[int]) -> list[tuple[tuple[int, ...], int]]:
        """The (history, next event) pairs of ``seq`` the table does not allow."""
        return [(h, n) for h, n in self._windows(seq) if n not in self.table.get(h, ())]

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        return np.array([len(self.misses(seq)) for seq in sequences], dtype=np.float64)

    def _meta(self) -> dict[str, Any]:
        return {"history": self.history, "top_k": self.top_k}

    def _arrays(self) -> dict[str, np.ndarray]:
        rows = [[*h, n] for h, followers in self.table.items() for n in sorted(followers)]
        return {"table": np.array(rows, dtype=np.int64).reshape(-1, self.history + 1)}

    def _load(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.history, self.top_k = int(meta["history"]), int(meta["top_k"])
        self.table = {}
        for row in arrays["table"].tolist():
            self.table.setdefault(tuple(row[:-1]), set()).add(row[-1])
