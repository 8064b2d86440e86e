import numpy as np

from graphbias.bench.causal_suite import suite
from graphbias.causal import GraphRLearner


def test_quick_causal_suite_runs_and_shows_intercept_artifact(monkeypatch):
    fits = []
    real_fit = GraphRLearner.fit

    def counted_fit(self, *args, **kwargs):
        fits.append(self.nuisance)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(GraphRLearner, "fit", counted_fit)
    cells = suite(None, 1, quick=True)
    methods = {c.method for c in cells}
    assert {"gnn-gnn", "mlp-linear", "gnn-free-intercept", "t-learner",
            "econml-forest"} <= methods
    order = ("gnn-gnn", "gnn-free-intercept", "gnn-linear")
    by_method = {c.method: c for c in cells}
    out = {m: by_method[m].run() for m in order}
    assert fits == ["gnn"]                    # the R-learners share one cross-fitting
    assert all(np.isfinite(v["pehe"]) for v in out.values())
    assert out["gnn-free-intercept"]["pehe"] > 2 * out["gnn-linear"]["pehe"]
    # the order of the cells does not change their results
    again = {c.method: c for c in suite(None, 1, quick=True)}
    for m in reversed(order):
        assert again[m].run()["pehe"] == out[m]["pehe"]
