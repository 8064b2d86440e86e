import logging
import warnings

import pytest

from graphbias.causal import GraphRLearner
from graphbias.data.synthetic.network_causal import network_causal

pytest.importorskip("dowhy")


def test_dowhy_estimate_and_refuters():
    from graphbias.causal.dowhy_bridge import METHOD, causal_model

    d = network_causal("ba", 300, effect="simple_h", seed=0)
    model = causal_model(d.Y, d.T, d.X, d.graph)
    estimand = model.identify_effect(proceed_when_unidentifiable=True)
    params = {"fit_params": {"graph": d.graph,
                             "learner": GraphRLearner(max_epochs=60, random_state=0)}}
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimate = model.estimate_effect(estimand, method_name=METHOD,
                                             method_params=params)
            placebo = model.refute_estimate(estimand, estimate,
                                            method_name="placebo_treatment_refuter",
                                            placebo_type="permute", num_simulations=2)
            common = model.refute_estimate(estimand, estimate,
                                           method_name="random_common_cause",
                                           num_simulations=2)
    finally:
        logging.disable(logging.NOTSET)
    assert abs(estimate.value - d.tau.mean()) < 0.8
    assert abs(placebo.new_effect) < 0.5            # a permuted treatment has no effect
    assert abs(common.new_effect - estimate.value) < 0.5
    with pytest.raises(ValueError, match="needs fit_params"):
        model.estimate_effect(estimand, method_name=METHOD)
