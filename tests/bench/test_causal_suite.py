import numpy as np

from graphbias.bench.causal_suite import suite


def test_quick_causal_suite_runs_and_shows_intercept_artifact():
    cells = suite(None, 1, quick=True)
    methods = {c.method for c in cells}
    assert {"gnn-gnn", "mlp-linear", "gnn-free-intercept", "t-learner",
            "econml-forest"} <= methods
    out = {c.method: c.run() for c in cells if c.method in
           ("gnn-linear", "gnn-gnn", "gnn-free-intercept")}
    assert all(np.isfinite(v["pehe"]) for v in out.values())
    assert out["gnn-free-intercept"]["pehe"] > 2 * out["gnn-linear"]["pehe"]
