"""DeepLog-style next-event model (Du et al., CCS 2017): an LSTM reads the last ``history``
events and the next one must be among its ``top_k`` most likely; the session score is the
number of misses. Needs PyTorch (the ``bastion[deep]`` extra); runs on the GPU when present.
The weights are stored as plain arrays in the model file, never as a pickle.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bastion.detect.logs.models import Model
from bastion.errors import UsageError

__all__ = ["DeepLogModel", "require_torch"]


def require_torch() -> Any:
    """Import torch, or explain how to install it."""
    try:
        # Imported by name so that type checking does not walk all of torch.
        torch = importlib.import_module("torch")
    except ImportError:
        raise UsageError(
            "model 'deeplog' needs PyTorch: install the extra with `pip install 'bastion[deep]'`"
        ) from None
    return torch


class DeepLogModel(Model):
    """LSTM next-event model over event ids."""

    name = "deeplog"
    any_violation = True

    def __init__(
        self,
        margin: float = 1.0,
        history: int = 10,
        top_k: int = 9,
        hidden: int = 64,
        epochs: int = 10,
        seed: int = 0,
    ) -> None:
        """DeepLog's published settings: 10 events of history, top 9, 2 LSTM layers of 64."""
        super().__init__(margin)
        self.history, self.top_k, self.hidden, self.epochs, self.seed = history, top_k, hidden, epochs, seed
        self.torch = require_torch()
        self.net: Any = None

    # Token ids: 0 unseen, 1 start, 2 end, 3.. the training vocabulary.
    def _tokens(self, seq: Sequence[int]) -> list[int]:
        index = self.vocab.index
        return [1] * self.history + [index[e] + 3 if e in index else 0 for e in seq] + [2]

    def _windows(self, sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs: list[list[int]] = []
        ys: list[int] = []
        owner: list[int] = []
        for n, seq in enumerate(sequences):
            tokens = self._tokens(seq)
            for i in range(self.history, len(tokens)):
                xs.append(tokens[i - self.history : i])
                ys.append(tokens[i])
                owner.append(n)
        shape = (len(xs), self.history)
        return (
            np.array(xs, dtype=np.int64).reshape(shape),
            np.array(ys, dtype=np.int64),
            np.array(owner, dtype=np.int64),
        )

    def _build(self) -> Any:
        from torch import nn  # torch is present: require_torch() ran in __init__

        size = self.vocab.size + 3

        class Net(nn.Module):
            def __init__(self, hidden: int) -> None:
                super().__init__()
                self.embed = nn.Embedding(size, 32)
                self.lstm = nn.LSTM(32, hidden, num_layers=2, batch_first=True)
                self.out = nn.Linear(hidden, size)

            def forward(self, x: Any) -> Any:
                h, _ = self.lstm(self.embed(x))
                return self.out(h[:, -1, :])

        return Net(self.hidden).to(self._device())

    def _device(self) -> Any:
        return self.torch.device("cuda" if self.torch.cuda.is_available() else "cpu")

    def _fit(self, sequences: Sequence[Sequence[int]]) -> None:
        torch = self.torch
        torch.manual_seed(self.seed)
        x, y, _ = self._windows(sequences)
        # Identical windows carry no new information: train on each distinct (window, next) once,
        # weighted by how often it occurs.
        pairs, counts = np.unique(np.column_stack([x, y]), axis=0, return_counts=True)
        device = self._device()
        xt = torch.tensor(pairs[:, :-1], device=device)
        yt = torch.tensor(pairs[:, -1], device=device)
        wt = torch.tensor(np.sqrt(counts), dtype=torch.float32, device=device)
        self.net = self._build()
        optimizer = torch.optim.Adam(self.net.parameters(), lr=0.005)
        loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        for _ in range(self.epochs):
            order = torch.randperm(len(xt), generator=generator).to(device)
            for start in range(0, len(order), 256):
                batch = order[start : start + 256]
                optimizer.zero_grad()
                loss = (loss_fn(self.net(xt[batch]), yt[batch]) * wt[batch]).mean()
                loss.backward()
                optimizer.step()

    def _score(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        torch = self.torch
        x, y, owner = self._windows(sequences)
        scores = np.zeros(len(sequences))
        if not len(x):
            return scores
        uniq, inverse = np.unique(x, axis=0, return_inverse=True)
        self.net.eval()
        with torch.no_grad():
            tops = []
            for start in range(0, len(uniq), 4096):
                batch = torch.tensor(uniq[start : start + 4096], device=self._device())
                tops.append(self.net(batch).topk(self.top_k, dim=1).indices.cpu().numpy())
        top = np.concatenate(tops)[inverse.reshape(-1)]
        miss = ~(top == y[:, None]).any(axis=1)
        np.add.at(scores, owner, miss.astype(float))
        return scores

    def _meta(self) -> dict[str, Any]:
        return {"history": self.history, "top_k": self.top_k, "hidden": self.hidden}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {f"w_{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}

    def _load(self, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.history, self.top_k, self.hidden = int(meta["history"]), int(meta["top_k"]), int(meta["hidden"])
        self.net = self._build()
        state = {k[2:]: self.torch.tensor(v) for k, v in arrays.items() if k.startswith("w_")}
        self.net.load_state_dict(state)
