import numpy as np
import pytest

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


def test_dataset_names_set_size_treatment_and_setting():
    from graphbias.bench.causal_suite import dataset_config
    assert dataset_config("er-constant") == {"graph": "er", "effect": "constant",
                                             "num_nodes": 1000}
    assert dataset_config("geometric-interaction-n3000")["num_nodes"] == 3000
    assert dataset_config("ba-linear-threshold")["treatment"] == "threshold"
    assert dataset_config("sbm-simple_h-paper")["setting"] == "paper"
    assert dataset_config("cora-linear-threshold") == {"graph": "cora", "effect": "linear",
                                                      "treatment": "threshold"}
    with pytest.raises(ValueError, match="ba-linear-big"):
        dataset_config("ba-linear-big")
    with pytest.raises(ValueError, match="cora: no -n<N>"):
        dataset_config("cora-linear-n500")
    assert dataset_config("er-simple_h-threshold-n3000") == {
        "graph": "er", "effect": "simple_h", "num_nodes": 3000, "treatment": "threshold"}
    for bad in ("er-linear-threshold-threshold", "er-linear-n500-n3000",
                "er-linear-n500-threshold", "ba-linear-paper-n500",
                "ba-linear-paper-threshold", "ba-linear-threshold-paper"):
        with pytest.raises(ValueError, match=bad):
            dataset_config(bad)


OPTIONS = ("graph-rlearner", "graph-rlearner-paper", "graph-rlearner-hops",
           "graph-rlearner-single")


def test_full_suite_lists_sizes_variants_and_the_paper_preset():
    from graphbias.bench.runner import build_cells
    cells = build_cells("causal", None, 1, False,
                        datasets=["sbm-linear-n5000", "ba-simple_h-threshold",
                                  "er-higher_order-paper", "er-simple_h-threshold-n3000"],
                        methods=list(OPTIONS))
    assert {(c.dataset, c.method) for c in cells} == {
        (d, m) for d in ("sbm-linear-n5000", "ba-simple_h-threshold",
                         "er-higher_order-paper", "er-simple_h-threshold-n3000")
        for m in OPTIONS}


def test_cora_cells_need_cora_under_the_root_and_fit_its_graph(planetoid_root, tmp_path):
    from graphbias.bench.runner import build_cells
    from graphbias.data.synthetic.network_causal import cora_causal

    assert not [c for c in suite(None, 1, False) if c.dataset.startswith("cora")]
    assert not [c for c in suite(tmp_path, 1, False) if c.dataset.startswith("cora")]
    cells = build_cells("causal", planetoid_root, 1, False,
                        datasets=["cora-constant-threshold", "cora-linear"],
                        methods=["graph-rlearner-single", "econml-linear-h1"])
    assert {(c.dataset, c.method) for c in cells} == {
        (d, m) for d in ("cora-constant-threshold", "cora-linear")
        for m in ("graph-rlearner-single", "econml-linear-h1")}
    cell = next(c for c in cells if c.dataset == "cora-constant-threshold"
                and c.method == "graph-rlearner-single")
    out = cell.run()
    # the learner saw Cora's process: its PEHE is that of a fit on cora_causal's data
    d = cora_causal(planetoid_root, effect="constant", treatment="threshold", seed=0)
    est = GraphRLearner(nuisance_hops=None, nuisance_members=1, random_state=0).fit(
        d.Y, d.T, X=d.X, graph=d.graph)
    assert d.X.shape[0] == 2708
    assert out["pehe"] == pytest.approx(float(np.mean((est.effect(d.X) - d.tau) ** 2)))
