import logging
import warnings

import numpy as np
import pytest
import torch

from graphbias.causal import GraphRLearner
from graphbias.data import Graph
from graphbias.data.synthetic.network_causal import network_causal

pytest.importorskip("dowhy")


@pytest.fixture(scope="module")
def study():
    from graphbias.causal.dowhy_bridge import METHOD, causal_model

    d = network_causal("ba", 300, effect="simple_h", seed=0)
    model = causal_model(d.Y, d.T, d.X, d.graph)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    params = {"fit_params": {"graph": d.graph, "learner": GraphRLearner(
        nuisance="linear", n_bootstrap=20, random_state=0)}}
    with _quiet():
        estimate = model.estimate_effect(estimand, method_name=METHOD,
                                         method_params=params)
    return d, model, estimand, estimate


class _quiet:
    """DoWhy logs and warns freely: silence both inside the block."""

    def __enter__(self):
        logging.disable(logging.WARNING)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        logging.disable(logging.NOTSET)


def test_estimate_and_intervals_are_the_learners(study):
    d, model, estimand, estimate = study
    learner = estimate.estimator.learner_
    assert abs(estimate.value - d.tau.mean()) < 0.5
    assert estimate.value == pytest.approx(learner.ate_)
    with _quiet():
        lower, upper = estimate.get_confidence_intervals()
        boot = estimate.get_confidence_intervals(method="bootstrap")
        stderr = estimate.get_standard_error()
        p = estimate.test_stat_significance()["p_value"]
    assert (lower, upper) == pytest.approx(learner.ate_interval())
    assert lower < estimate.value < upper and boot == (lower, upper)
    assert stderr == pytest.approx(learner.ate_inference().stderr_mean) and p < 1e-3


def test_refuters_keep_rows_on_their_nodes(study):
    d, model, estimand, estimate = study
    with _quiet():
        placebo = model.refute_estimate(estimand, estimate,
                                        method_name="placebo_treatment_refuter",
                                        placebo_type="permute", num_simulations=1)
        common = model.refute_estimate(estimand, estimate,
                                       method_name="random_common_cause",
                                       num_simulations=1)
        subset = model.refute_estimate(estimand, estimate,
                                       method_name="data_subset_refuter",
                                       subset_fraction=0.8, num_simulations=1)
    assert abs(placebo.new_effect) < 0.5            # a permuted treatment has no effect
    assert abs(common.new_effect - estimate.value) < 0.5
    assert abs(subset.new_effect - estimate.value) < 0.5   # fitted on induced subgraphs
    with _quiet(), pytest.raises(ValueError, match="nodes appear in more than one row.*"
                                                   "resampled with replacement"):
        model.refute_estimate(estimand, estimate, method_name="bootstrap_refuter",
                              num_simulations=1)


def test_rows_must_name_nodes(study):
    import pandas as pd

    from graphbias.causal.dowhy_bridge import _induced, _row_nodes

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=[4, 0, 2])
    np.testing.assert_array_equal(_row_nodes(frame, 5), [4, 0, 2])
    for index, match in [(["x", "y", "z"], "index must hold the rows' node ids"),
                         ([0, 1, 5], "node ids outside \\[0, 5\\)"),
                         ([0, 1, 1], "1 nodes appear in more than one row .first: node 1")]:
        with pytest.raises(ValueError, match=match):
            _row_nodes(frame.set_axis(index), 5)
    # a path 0-1-2-3: nodes (3, 2, 0) keep the edge 2-3 only, relabelled
    g = Graph(torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]), 4)
    sub = _induced(g, np.array([3, 2, 0]))
    assert sub.num_nodes == 3
    assert sorted(map(tuple, sub.edge_index.t().tolist())) == [(0, 1), (1, 0)]


def test_estimator_needs_the_graph(study):
    from graphbias.causal.dowhy_bridge import METHOD

    d, model, estimand, _ = study
    with pytest.raises(ValueError, match="needs fit_params"):
        model.estimate_effect(estimand, method_name=METHOD)
