"""Model names to model classes: the one place that knows every model, deeplog included.

:class:`ModelName` is the closed set of names (``bastion watch train --model``, the ``model``
key of a model file); :func:`model_class` maps each to its class with one ``match`` arm per
member, so mypy fails when a name has no class. The module sits above :mod:`models` and
:mod:`deeplog` so neither imports the other's module back (deeplog subclasses ``Model``; the
name table needs both), and it imports them only when a class is asked for, so the command
line can list the names without loading numpy and scikit-learn.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

from bastion.errors import InputError, UsageError

if TYPE_CHECKING:
    from bastion.detect.logs.models import Model

__all__ = ["CHOICES", "MODELS", "ModelName", "class_of", "make_model", "model_class", "parse_model_name"]


class ModelName(StrEnum):
    """Every anomaly model ``bastion watch`` can learn, in the order the help lists them."""

    RANGES = "ranges"
    PCA = "pca"
    INVARIANTS = "invariants"
    IFOREST = "iforest"
    LOGCLUSTERING = "logclustering"
    SEQUENCE = "sequence"
    DEEPLOG = "deeplog"

    @property
    def needs_torch(self) -> bool:
        """Whether the model needs the optional PyTorch extra (``bastion[deep]``)."""
        return self is ModelName.DEEPLOG


MODELS: tuple[ModelName, ...] = tuple(name for name in ModelName if not name.needs_torch)
"""The models that need nothing beyond the base install."""

CHOICES = ", ".join(ModelName)
"""The names as the command line lists them."""


def parse_model_name(text: str) -> ModelName:
    """The model called ``text``; :class:`UsageError` naming the choices for anything else."""
    try:
        return ModelName(text)
    except ValueError:
        raise UsageError(f"unknown model {text!r} (choose from {CHOICES})") from None


def model_class(name: str) -> type[Model]:
    """The class of the model a model file names; :class:`InputError` for a name this
    version does not know."""
    try:
        member = ModelName(name)
    except ValueError:
        raise InputError(f"unknown model {name!r} in model file") from None
    return class_of(member)


def class_of(name: ModelName) -> type[Model]:
    """The class of a model, one arm per name (mypy checks that none is missing)."""
    from bastion.detect.logs import deeplog, models

    match name:
        case ModelName.RANGES:
            return models.CountRangeModel
        case ModelName.PCA:
            return models.PCAModel
        case ModelName.INVARIANTS:
            return models.InvariantsModel
        case ModelName.IFOREST:
            return models.IsolationForestModel
        case ModelName.LOGCLUSTERING:
            return models.LogClusteringModel
        case ModelName.SEQUENCE:
            return models.SequenceModel
        case ModelName.DEEPLOG:
            return deeplog.DeepLogModel
        case _:
            assert_never(name)


def make_model(name: str) -> Model:
    """A new model by name; ``deeplog`` needs torch. UsageError for unknown names."""
    return class_of(parse_model_name(name))()
