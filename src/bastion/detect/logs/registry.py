"""Model names to model classes: the one place that knows every model, deeplog included.

It sits above :mod:`models` and :mod:`deeplog` so neither imports the other's module back
(deeplog subclasses ``Model``; the name table needs both).
"""

from __future__ import annotations

from bastion.detect.logs.deeplog import DeepLogModel
from bastion.detect.logs.models import (
    CountRangeModel,
    InvariantsModel,
    IsolationForestModel,
    LogClusteringModel,
    Model,
    PCAModel,
    SequenceModel,
)
from bastion.errors import InputError, UsageError

__all__ = ["MODELS", "make_model", "model_class"]


MODELS: dict[str, type[Model]] = {
    m.name: m
    for m in (
        CountRangeModel,
        PCAModel,
        InvariantsModel,
        IsolationForestModel,
        LogClusteringModel,
        SequenceModel,
    )
}


def make_model(name: str) -> Model:
    """A new model by name; ``deeplog`` needs torch. UsageError for unknown names."""
    if name == "deeplog":
        model: Model = DeepLogModel()
        return model
    try:
        return MODELS[name]()
    except KeyError:
        choices = ", ".join([*MODELS, "deeplog"])
        raise UsageError(f"unknown model {name!r} (choose from {choices})") from None


def model_class(name: str) -> type[Model]:
    """The class of a model name, for loading."""
    if name == "deeplog":
        cls: type[Model] = DeepLogModel
        return cls
    if name not in MODELS:
        raise InputError(f"unknown model {name!r} in model file")
    return MODELS[name]
