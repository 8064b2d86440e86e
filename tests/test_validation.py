import warnings

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator

from graphbias._validation import (DEPRECATED, Boolean, Callable, Device, Instance, Integer,
                                   Options, RandomState, Real, ValueGrid, check_scalar,
                                   deprecated_attribute, resolve_device, validate_params)


@pytest.mark.parametrize("constraint, good, bad", [
    (Integer(1), [1, np.int64(3), np.int32(7)], [0, 1.0, True, np.bool_(True), "2", None]),
    (Integer(0, 5), [0, 5], [-1, 6]),
    (Real(0, 1, closed="neither"), [0.5, np.float32(0.1), 1e-9], [0, 1, True, np.nan, "x"]),
    (Real(0), [0, 0.0, np.int64(2), 1e9], [-1e-9, np.inf]),
    (Options("a", "b"), ["a", "b"], ["c", 1, None]),
    (Boolean(), [True, False, np.bool_(False)], [0, 1, "True", None]),
    (Instance(list, tuple), [[], ()], [{}, "x"]),
    (Callable(), [len, int], [1, "f"]),
    (RandomState(), [None, 0, np.int64(5), np.random.RandomState(0),
                     np.random.default_rng(0)], [-1, 1.5, True, "0"]),
    (Device(), ["cpu", "cuda", "cuda:1", "auto", torch.device("cpu")],
     ["gpu", 3, None, "cuda:x"]),
    (ValueGrid(Integer(0)), [0, [0, 2], (1,), np.array([1, 2]), np.int64(3)],
     [-1, [], [1, -1], [1.5], "1", np.zeros((2, 2), dtype=int), True]),
    (ValueGrid(Real(0, 1, closed="neither")), [0.5, [0.1, 0.9], np.array(0.2)],
     [[0.5, 1.0], 0, ["0.5"]]),
])
def test_constraints(constraint, good, bad):
    for value in good:
        assert constraint.accepts(value), value
    for value in bad:
        assert not constraint.accepts(value), value


def test_check_scalar_converts_and_explains():
    assert check_scalar("k", np.int64(3), Integer(1)) == 3
    assert type(check_scalar("k", np.int64(3), Integer(1))) is int
    assert check_scalar("k", None, Integer(1), None) is None
    with pytest.raises(ValueError, match=r"k must be an integer >= 1 or None, got 0"):
        check_scalar("k", 0, Integer(1), None)
    with pytest.raises(ValueError, match=r"Model: lr must be a real number in \(0, inf\)"):
        check_scalar("lr", -1.0, Real(0, None, closed="neither"), owner="Model")
    assert check_scalar("k", np.array([1, 2]), ValueGrid(Integer(0))) == (1, 2)
    assert check_scalar("a", 0.5, ValueGrid(Real(0))) == (0.5,)
    with pytest.raises(ValueError, match=r"k must be an integer or a non-empty sequence "
                                         r"of integers, each >= 0, got \[-1\]"):
        check_scalar("k", [-1], ValueGrid(Integer(0)))
    with pytest.raises(ValueError, match=r"a must be a number or a non-empty sequence of "
                                         r"numbers, each in \(0, 1\)"):
        check_scalar("a", [2.0], ValueGrid(Real(0, 1, closed="neither")))


class _Toy(BaseEstimator):
    _parameter_constraints = {"hidden_channels": [Integer(1)], "lr": [Real(0)]}

    def __init__(self, hidden_channels=16, lr=0.1, hidden=DEPRECATED):
        self.hidden_channels = hidden_channels
        self.lr = lr
        self.hidden = hidden

    renamed_ = deprecated_attribute("renamed_", "value_", lambda v: v * 2)


def test_validate_params_with_aliases():
    p = validate_params(_Toy(), {"hidden": "hidden_channels"})
    assert (p.hidden_channels, p.lr) == (16, 0.1) and not hasattr(p, "hidden")
    with pytest.warns(FutureWarning, match="hidden was renamed hidden_channels"):
        p = validate_params(_Toy(hidden=np.int64(8)), {"hidden": "hidden_channels"})
    assert p.hidden_channels == 8
    with pytest.raises(ValueError, match="give only hidden_channels"):
        validate_params(_Toy(hidden_channels=4, hidden=8), {"hidden": "hidden_channels"})
    with pytest.raises(ValueError, match=r"_Toy: hidden must be an integer >= 1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            validate_params(_Toy(hidden=0), {"hidden": "hidden_channels"})
    with pytest.raises(TypeError, match="declares no constraint"):
        validate_params(_Toy())  # the alias is not declared: a programming error


def test_deprecated_attribute():
    toy = _Toy()
    assert not hasattr(toy, "renamed_")
    toy.value_ = 3
    with pytest.warns(FutureWarning, match="renamed_ was renamed value_"):
        assert toy.renamed_ == 6


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
