"""The estimator contract of DESIGN.md, checked on every public estimator.

Each estimator has a :class:`Case`: how to build it small, fit it, predict with and
without its graph, and a pair of fits whose scores are known to be ordered. The
checks are the same for all: clone and parameter round trip, every parameter
validated at fit (a bad value for each raises ``ValueError``), pickle round trip,
refit after ``set_params`` keeps nothing stale, same ``random_state`` gives the same
result, prediction without the graph reuses it or raises, ``score`` is
greater-is-better, ``device="cpu"`` works (and ``"cuda"`` where available).
"""
from __future__ import annotations

import functools
import importlib
import inspect
import pickle
import pkgutil
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, clone

import graphbias
from graphbias._validation import DEPRECATED
from graphbias.base import EstimatorMixin

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@dataclass
class Case:
    """How the contract checks drive one estimator."""

    make: Callable[..., Any]                       # make(**params) -> small estimator
    data: Callable[[], Any]                        # cached data for fit / predict
    fit: Callable[[Any, Any], Any]                 # fit(est, data) -> est
    predict: Callable[[Any, Any], Any]             # predictions (with the graph)
    refit: dict                                    # set_params for the refit check
    predict_without_graph: Optional[Callable[[Any, Any], Any]] = None
    mismatched: Optional[Callable[[Any, Any], Any]] = None   # must raise ValueError
    better_worse: Optional[Callable[[Any], tuple[float, float]]] = None
    random: bool = True                            # has a random_state
    device_rng: bool = False                       # draws on the device's generator
    skip: dict = field(default_factory=dict)       # check name -> reason


def _same(a: Any, b: Any, atol: float = 1e-12) -> None:
    """Equal outputs; floats to ``atol`` (threaded reductions such as joblib's or
    BLAS's may differ in the last bit)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k], atol)
    elif isinstance(a, (list, tuple)) and a and not np.isscalar(a[0]):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v, atol)
    else:
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=atol)
        else:
            np.testing.assert_array_equal(a, b)


def _host(out: Any) -> Any:
    """``out`` with its tensors moved to the CPU as arrays (dicts and lists kept)."""
    if isinstance(out, dict):
        return {k: _host(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return [_host(v) for v in out]
    if isinstance(out, torch.Tensor):
        return out.detach().cpu().numpy()
    return out


def _flat(out: Any) -> np.ndarray:
    """Every number of ``out`` (a host output) in one float vector."""
    if isinstance(out, dict):
        return np.concatenate([_flat(out[k]) for k in sorted(out)])
    if isinstance(out, list) and out and not np.isscalar(out[0]):
        return np.concatenate([_flat(v) for v in out])
    return np.ravel(np.asarray(out, dtype=float))


# ----------------------------------------------------------------- node models
@functools.cache
def _sbm():
    from graphbias.data.synthetic import sbm

    return sbm([40, 40, 40], 0.15, 0.01, num_features=6, feature_signal=0.4, seed=0)


def _node_fit(est, g):
    return est.fit(g.x, g.y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)


def _node_better_worse(make):
    g = _sbm()
    good = _node_fit(make(max_epochs=60), g)
    bad = _node_fit(make(max_epochs=1, lr=1e-6), g)
    return good.score(g.x, g.y, mask=g.test_mask), bad.score(g.x, g.y, mask=g.test_mask)


def _node_case(make: Callable[..., Any], refit: dict) -> Case:
    return Case(
        make=make, data=_sbm, fit=_node_fit, refit=refit, device_rng=True,
        predict=lambda est, g: est.predict_proba(g.x, graph=g),
        predict_without_graph=lambda est, g: est.predict_proba(g.x),
        mismatched=lambda est, g: est.predict(g.x[:10]),
        better_worse=lambda: _node_better_worse(make))


def _node_classifier(**params):
    from graphbias.nn import NodeClassifier

    return NodeClassifier(**{"max_epochs": 15, "random_state": 0, **params})


def _lagnn(**params):
    from graphbias.augment import LAGNNClassifier, LocalAugmenter

    return LAGNNClassifier(**{"max_epochs": 15, "random_state": 0, "n_samples": 2,
                              "augmenter": LocalAugmenter(max_epochs=1, hidden_channels=8,
                                                          random_state=0), **params})


def _augmenter(**params):
    from graphbias.augment import LocalAugmenter

    return LocalAugmenter(**{"max_epochs": 1, "hidden_channels": 8, "random_state": 0,
                             **params})


# ----------------------------------------------------------------- forecasting
@functools.cache
def _series():
    """Per-node AR(1) series x_t = -0.8 x_{t-1} + noise on a ring: VAR is right,
    the last value is wrong, so VAR must score higher."""
    import networkx as nx

    from graphbias.data import as_graph

    rng = np.random.default_rng(0)
    values = np.zeros((240, 6), np.float32)
    for t in range(1, 240):
        values[t] = -0.8 * values[t - 1] + rng.normal(size=6)
    return values, as_graph(nx.cycle_graph(6))


def _forecaster(**params):
    from graphbias.forecast import STGNNForecaster

    return STGNNForecaster(**{"model": "tts", "window": 4, "horizon": 2,
                              "hidden_channels": 4, "max_epochs": 2, "batch_size": 32,
                              "random_state": 0, **params})


def _ensemble(**params):
    from graphbias.forecast import ForecastEnsemble

    return ForecastEnsemble(**{"forecasters": [_forecaster(), _forecaster(model="var")],
                               **params})


def _ensemble_better_worse():
    values, g = _series()
    return (_ensemble(forecasters=[_forecaster(model="var")] * 2).fit(values, graph=g)
            .score(values),
            _ensemble(forecasters=[_forecaster(model="last")] * 2).fit(values, graph=g)
            .score(values))


def _forecast_better_worse():
    values, g = _series()
    return (_forecaster(model="var").fit(values, graph=g).score(values),
            _forecaster(model="last").fit(values, graph=g).score(values))


# ---------------------------------------------------------------------- causal
@functools.cache
def _causal():
    from graphbias.data.synthetic.network_causal import network_causal

    return network_causal("ba", 120, effect="constant", treatment_strength=0.5, seed=2)


def _rlearner(**params):
    from graphbias.causal import GraphRLearner

    return GraphRLearner(**{"final": "linear", "max_epochs": 10, "n_bootstrap": 2,
                            "random_state": 0, **params})


def _rlearner_better_worse():
    """The R-loss of the true constant effect against a wrong one, same nuisances."""
    import copy

    d = _causal()
    est = _rlearner().fit(d.Y, d.T, X=d.X, graph=d.graph)
    truth, wrong = copy.deepcopy(est), copy.deepcopy(est)
    truth.model_final_ = np.r_[2.0, np.zeros(d.X.shape[1])]
    wrong.model_final_ = np.r_[-1.0, np.zeros(d.X.shape[1])]
    return truth.score(d.Y, d.T, X=d.X), wrong.score(d.Y, d.T, X=d.X)


def _effect_case(make: Callable[..., Any], refit: dict, **kwargs: Any) -> Case:
    return Case(
        make=make, data=_causal, refit=refit,
        fit=lambda est, d: est.fit(d.Y, d.T, X=d.X, graph=d.graph),
        predict=lambda est, d: est.effect(d.X, graph=d.graph),
        predict_without_graph=lambda est, d: est.effect(d.X),
        mismatched=lambda est, d: est.effect(d.X[:30]), **kwargs)


def _meta(cls_name: str) -> Callable[..., Any]:
    def make(**params):
        from graphbias import causal

        return getattr(causal, cls_name)(**{"max_epochs": 10, "random_state": 0, **params})
    return make


def _econml(**params):
    from graphbias.causal import EconMLLearner

    return EconMLLearner(**{"random_state": 0, **params})


NO_SCORE = {"score": "EconML's and the meta-learners' API has no score: effects only"}

CASES: dict[str, Case] = {
    "GraphRLearner": _effect_case(_rlearner, {"final": "gnn", "hops": 1},
                                  better_worse=_rlearner_better_worse),
    "GNNTLearner": _effect_case(_meta("GNNTLearner"), {"hidden_channels": 8}, skip=NO_SCORE),
    "GNNSLearner": _effect_case(_meta("GNNSLearner"), {"hidden_channels": 8}, skip=NO_SCORE),
    "EconMLLearner": _effect_case(_econml, {"neighbours": True}, skip=NO_SCORE),
    "NodeClassifier": _node_case(_node_classifier, {"conv": "sage", "hidden_channels": 4}),
    "LAGNNClassifier": _node_case(_lagnn, {"conv": "sage", "n_generated": 2}),
    "LocalAugmenter": Case(
        make=_augmenter, data=_sbm, fit=lambda est, g: est.fit(g),
        predict=lambda est, g: est.transform(g, n_samples=2, random_state=0),
        refit={"latent_size": 4, "loss": "mse"}, device_rng=True,
        skip={"graph": "generates features for the graph it is given",
              "score": "a generator: judged by what it generates (tests/augment)"}),
    "STGNNForecaster": Case(
        make=_forecaster, data=_series, refit={"model": "dcrnn", "num_layers": 2},
        fit=lambda est, d: est.fit(d[0], graph=d[1]),
        predict=lambda est, d: est.predict(d[0], graph=d[1]),
        predict_without_graph=lambda est, d: est.predict(d[0]),
        mismatched=lambda est, d: est.predict(d[0][:, :4]),
        better_worse=_forecast_better_worse),
    "ForecastEnsemble": Case(
        make=_ensemble, data=_series, refit={"weights": [0.25, 0.75]}, random=False,
        fit=lambda est, d: est.fit(d[0], graph=d[1]),
        predict=lambda est, d: est.predict(d[0], graph=d[1]),
        predict_without_graph=lambda est, d: est.predict(d[0]),
        mismatched=lambda est, d: est.predict(d[0][:, :4]),
        better_worse=_ensemble_better_worse),
}

# ------------------------------------------------------------ compile / cluster / stream
@functools.cache
def _traces():
    from graphbias.compile import make_traces
    from graphbias.data.synthetic.algorithms import algorithm_graphs

    return make_traces("bfs", algorithm_graphs("er", 8, 8, seed=0))


def _learner(**params):
    from graphbias.compile import AlgorithmLearner

    return AlgorithmLearner(**{"algorithm": "bfs", "hidden_channels": 8, "max_epochs": 2,
                               "random_state": 0, **params})


def _learner_better_worse():
    from graphbias.compile import make_traces
    from graphbias.data.synthetic.algorithms import algorithm_graphs

    test = make_traces("bfs", algorithm_graphs("er", 8, 6, seed=1))
    good = _learner(hidden_channels=32, max_epochs=30).fit(_traces())
    bad = _learner(max_epochs=1, lr=1e-6).fit(_traces())
    return good.score(test), bad.score(test)


def _pi(est, traces):
    return [t.outputs["pi"] for t in est.predict([t.graph for t in traces], source=0)]


@functools.cache
def _algorithm_graphs():
    from graphbias.data.synthetic.algorithms import algorithm_graphs

    return algorithm_graphs("er", 8, 3, seed=0, directed=True)


def _compiled_learner(**params):
    from graphbias.compile import CompiledLearner

    return CompiledLearner(**{"algorithm": "bfs", "max_epochs": 2, "random_state": 0,
                              **params})


def _compiled_learner_better_worse():
    from graphbias.compile import make_traces
    from graphbias.data.synthetic.algorithms import algorithm_graphs

    test = make_traces("bfs", algorithm_graphs("er", 8, 6, seed=1))
    good = _compiled_learner(init="compiled", init_noise=0.0).fit(_traces())
    bad = _compiled_learner(init="random", max_epochs=1, lr=1e-6).fit(_traces())
    return good.score(test), bad.score(test)


def _compiled(**params):
    from graphbias.compile import CompiledAlgorithm

    return CompiledAlgorithm(**{"algorithm": "bfs", **params})


@functools.cache
def _planted():
    from graphbias.data.synthetic.planted import planted_cluster

    return planted_cluster(40, 400, degree_in=8, degree_out=2, degree_rest=8, noise=0.1,
                           seed=0)


def _clustering(**params):
    from graphbias.cluster import NoisyLabelLocalClustering

    return NoisyLabelLocalClustering(**params)


def _clustering_better_worse():
    pc = _planted()
    inside = np.isin(np.arange(pc.graph.num_nodes), pc.target).astype(int)
    good = _clustering().fit(pc.graph, noisy_labels=inside)
    bad = _clustering().fit(pc.graph, noisy_labels=1 - inside)
    return good.score([0, 5, 9], pc.target), bad.score([0, 5, 9], pc.target)


@functools.cache
def _multilabel():
    from graphbias.data.synthetic.multilabel import multilabel_stream

    return multilabel_stream(300, n_features=4, n_labels=4, n_groups=2, seed=0)


def _ihomer(**params):
    from graphbias.stream import IHOMER

    return IHOMER(**{"grace_period": 50, "cluster_grace_period": 50, "random_state": 0,
                     **params})


CASES.update({
    "AlgorithmLearner": Case(
        make=_learner, data=_traces, fit=lambda est, d: est.fit(d), predict=_pi,
        refit={"hidden_channels": 4, "batch_size": 8}, better_worse=_learner_better_worse),
    "CompiledLearner": Case(
        make=_compiled_learner, data=_traces, fit=lambda est, d: est.fit(d), predict=_pi,
        refit={"init": "compiled", "init_noise": 0.1, "batch_size": 8},
        better_worse=_compiled_learner_better_worse),
    "CompiledAlgorithm": Case(
        make=_compiled, data=_algorithm_graphs, fit=lambda est, d: est.fit(),
        predict=lambda est, d: [t.outputs for t in est.predict(d, source=0)],
        refit={"algorithm": "dfs"}, random=False,
        skip={"score": "exact by construction: nothing to score",
              "fit": "nothing is learned: fitted from the start (requires_fit=False)"}),
    "NoisyLabelLocalClustering": Case(
        make=_clustering, data=_planted,
        fit=lambda est, d: est.fit(d.graph, noisy_labels=d.noisy_labels),
        predict=lambda est, d: est.predict([0, 1, [2, 3]]),
        refit={"method": "ppr", "label_eps": 0.2, "alpha": 0.1},
        better_worse=_clustering_better_worse, random=False),
    "IHOMER": Case(
        make=_ihomer, data=_multilabel, fit=lambda est, d: est.fit(d.X, d.Y),
        predict=lambda est, d: est.predict_proba(d.X[:60]),
        refit={"clustering": "random", "n_neighbors": 5},
        skip={"score": "streaming: evaluated progressively (graphbias.stream.evaluate_stream)"}),
})
# scikit-learn's generic checks (parametrize_with_checks): the test module that runs
# them, or why an estimator's inputs do not fit them (they pass X, y arrays only).
_CAUSAL_INPUT = ("fit(Y, T, *, X, graph) as EconML: the checks' fit(X, y) has no "
                 "treatment")
SKLEARN_CHECKS = {
    "LAGNNClassifier": "tests/augment/test_lagnn.py",
    "LocalAugmenter": "fit takes a graph (neighbour pairs of its edges), not X / y rows",
    "AlgorithmLearner": "fits algorithm traces (graphs and hint sequences), not X / y",
    "CompiledLearner": "fits algorithm traces (graphs and hint sequences), not X / y",
    "CompiledAlgorithm": "nothing is learned; its input is graphs and source nodes",
    "NoisyLabelLocalClustering": "fits a graph and per-node labels; predicts clusters "
                                 "around seed nodes, not rows",
    "IHOMER": "a streaming multi-label learner: Y is a label matrix, learnt one instance "
              "at a time (the checks fit single-output y)",
    "GraphRLearner": _CAUSAL_INPUT, "GNNTLearner": _CAUSAL_INPUT,
    "GNNSLearner": _CAUSAL_INPUT, "EconMLLearner": _CAUSAL_INPUT,
    "NodeClassifier": "tests/nn/test_node_classifier.py",
    "STGNNForecaster": "fit takes a T x N (x F) series with a graph, not X / y rows: "
                       "rows are time steps, so the checks' row shuffles and 1-sample "
                       "fits have no meaning",
    "ForecastEnsemble": "fits STGNNForecasters on a T x N (x F) series, not X / y rows",
}


# ------------------------------------------------------------------- discovery
def _public_estimators() -> dict[str, type]:
    """Every public estimator of the package with scikit-learn's fit / predict."""
    from river.base import Estimator as RiverEstimator

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(graphbias.__path__, "graphbias."):
        if ".bench" in info.name or info.name.endswith("_C"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if not inspect.isclass(obj) or name.startswith("_"):
                continue
            # River learners without an array fit (the stream baselines) follow
            # River's contract alone, checked in tests/stream
            if issubclass(obj, BaseEstimator) or (issubclass(obj, RiverEstimator)
                                                  and hasattr(obj, "fit")):
                found[obj.__name__] = obj
    return found


def test_every_public_estimator_has_a_contract_case():
    missing = set(_public_estimators()) - set(CASES)
    assert not missing, f"no contract case for {sorted(missing)}"
    assert set(SKLEARN_CHECKS) <= set(CASES)


NAMES = sorted(CASES)


def _fitted(name: str, **params) -> Any:
    case = CASES[name]
    return case.fit(case.make(**params), case.data())


def _bad_values(spec: list) -> list:
    """Values that none of the constraints in ``spec`` accepts."""
    candidates = [object(), "no-such-option", 0, -1, -0.5, 10**9 + 0.5, np.nan, True]
    return [v for v in candidates
            if not any((c is None and v is None) or (c is not None and c.accepts(v))
                       for c in spec)]


# ---------------------------------------------------------------------- checks
@pytest.mark.parametrize("name", NAMES)
def test_clone_and_parameter_round_trip(name):
    est = CASES[name].make()
    params = est.get_params()
    copy = clone(est)
    assert copy is not est and copy.get_params().keys() == params.keys()
    assert copy.set_params(**params) is copy
    signature = inspect.signature(type(est).__init__).parameters
    assert all(k in signature for k in est.get_params(deep=False)), \
        "get_params names constructor arguments"


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_is_validated_at_fit(name):
    case = CASES[name]
    est = case.make()
    constraints = type(est)._parameter_constraints
    aliases = getattr(type(est), "_aliases", {})
    params = est.get_params(deep=False)
    assert set(params) == set(constraints) | set(aliases)
    assert all(params[old] == DEPRECATED for old in aliases)
    for pname, spec in constraints.items():
        for value in _bad_values(spec):
            with pytest.raises(ValueError, match=pname):
                case.fit(case.make(**{pname: value}), case.data())


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_predict_needs_fit(name):
    from sklearn.exceptions import NotFittedError

    case = CASES[name]
    est = case.make()
    if "fit" in case.skip:
        pytest.skip(case.skip["fit"])
    with pytest.raises(NotFittedError):
        case.predict(est, case.data())
    assert case.fit(est, case.data()) is est


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip_predicts_the_same(name):
    case = CASES[name]
    est = _fitted(name)
    _same(case.predict(pickle.loads(pickle.dumps(est)), case.data()),
          case.predict(est, case.data()))


@pytest.mark.parametrize("name", NAMES)
def test_a_pickle_without_newer_parameters_loads_with_their_defaults(name):
    case = CASES[name]
    est = _fitted(name)
    if not isinstance(est, EstimatorMixin):
        pytest.skip("not a graphbias estimator")
    defaults = {k: p.default for k, p in inspect.signature(type(est).__init__).parameters
                .items() if p.default is not inspect.Parameter.empty}
    # an earlier release lacked every parameter still at its default
    missing = [k for k, v in est.get_params(deep=False).items()
               if k in defaults and v is defaults[k]]
    state = est.__getstate__()
    for k in missing:
        del state[k]
    old = type(est).__new__(type(est))
    old.__setstate__(state)
    assert old.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    assert all(getattr(old, k) is defaults[k] for k in missing)
    _same(case.predict(old, case.data()), case.predict(est, case.data()))


@pytest.mark.parametrize("name", NAMES)
def test_refit_after_set_params_keeps_nothing_stale(name):
    case = CASES[name]
    est = _fitted(name)
    est.set_params(**case.refit)
    case.fit(est, case.data())
    fresh = _fitted(name, **case.refit)
    _same(case.predict(est, case.data()), case.predict(fresh, case.data()))


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_same_result(name):
    case = CASES[name]
    _same(case.predict(_fitted(name), case.data()), case.predict(_fitted(name), case.data()))


@pytest.mark.parametrize("name", NAMES)
def test_prediction_without_the_graph_reuses_it_or_raises(name):
    case = CASES[name]
    if case.predict_without_graph is None:
        pytest.skip(case.skip.get("graph", "takes no separate graph at prediction"))
    est = _fitted(name)
    _same(case.predict_without_graph(est, case.data()), case.predict(est, case.data()))
    with pytest.raises(ValueError):
        case.mismatched(est, case.data())


@pytest.mark.parametrize("name", NAMES)
def test_score_is_greater_is_better(name):
    case = CASES[name]
    if case.better_worse is None:
        pytest.skip(case.skip.get("score", "has no score"))
    good, bad = case.better_worse()
    assert good > bad


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
def test_device(name, device):
    case = CASES[name]
    if "device" not in case.make().get_params():
        pytest.skip("not a torch estimator")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        est = _fitted(name, device=device)
    assert est.device_.type == device
    out = _host(case.predict(est, case.data()))
    if device == "cpu":
        return
    cpu = _host(case.predict(_fitted(name, device="cpu"), case.data()))
    if not case.device_rng:
        _same(out, cpu, atol=1e-3)
        return
    # Dropout masks and generated samples come from the device's generator, so the
    # CUDA fit can only be as close to the CPU fit as another CPU seed's fit is.
    other_seed = _flat(_host(case.predict(_fitted(name, device="cpu", random_state=1),
                                          case.data())))
    gap, seed_gap = (np.abs(_flat(out) - _flat(cpu)).mean(),
                     np.abs(other_seed - _flat(cpu)).mean())
    assert np.isfinite(_flat(out)).all() and gap <= 2 * seed_gap + 1e-3, (gap, seed_gap)
