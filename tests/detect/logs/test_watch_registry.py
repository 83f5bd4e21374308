"""The model-name registry: one closed set of names, each mapped to its class."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bastion.detect.logs.models import Model
from bastion.detect.logs.registry import (
    CHOICES,
    MODELS,
    ModelName,
    class_of,
    make_model,
    model_class,
    parse_model_name,
)
from bastion.errors import InputError, UsageError


@pytest.mark.parametrize("name", list(ModelName))
def test_every_name_has_a_class_that_carries_it(name: ModelName) -> None:
    cls = class_of(name)
    assert issubclass(cls, Model) and cls.name == name.value
    assert model_class(name.value) is cls


def test_base_models_leave_out_the_torch_one() -> None:
    assert ModelName.DEEPLOG not in MODELS and len(MODELS) == len(ModelName) - 1
    assert CHOICES == "ranges, pca, invariants, iforest, logclustering, sequence, deeplog"
    assert isinstance(make_model("iforest"), class_of(ModelName.IFOREST))


def test_unknown_names_are_usage_or_input_errors() -> None:
    assert parse_model_name("pca") is ModelName.PCA
    with pytest.raises(UsageError, match=rf"^unknown model 'nope' \(choose from {CHOICES}\)$"):
        make_model("nope")
    with pytest.raises(InputError, match=r"^unknown model 'nope' in model file$"):
        model_class("nope")


def test_listing_the_names_loads_no_model_library() -> None:
    probe = "import sys, bastion.detect.logs.registry as r; r.CHOICES; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
