import numpy as np
import pytest

from graphbias.causal._final import (INDEX_PENALTIES, PENALTIES, RATIOS, Candidate,
                                     IndexBasis, LinearBasis, QuadraticBasis, Score,
                                     _held_out_losses, _solve_path, fit_ridge_stage,
                                     node_folds, parsimonious, score_candidate)
from graphbias.causal._inference import EffectInference, PopulationInference, \
    pivot_interval


def _residuals(tau, n, seed=0, noise=0.3):
    """R-learner residuals of an effect ``tau`` with propensity 1/2: y = t tau + e."""
    rng = np.random.default_rng(seed)
    t = rng.choice([-0.5, 0.5], n)
    return t * tau + noise * rng.standard_normal(n), t


def test_ridge_stage_is_the_weighted_penalised_least_squares_solution():
    rng = np.random.default_rng(0)
    F = rng.standard_normal((300, 4))
    y, t = _residuals(1 + F[:, 0], 300)
    w = rng.integers(0, 3, 300).astype(float)
    stage = fit_ridge_stage(Candidate("sgc", LinearBasis(np.arange(4))), F, y, t, w,
                            penalty=0.05, ratio=1.0)
    keep = w > 0
    Fk = F[keep]
    mean = np.average(Fk, axis=0, weights=w[keep])
    std = np.sqrt(np.average((Fk - mean) ** 2, axis=0, weights=w[keep]))
    B = np.hstack([np.ones((keep.sum(), 1)), (Fk - mean) / std])
    Z, sw = t[keep, None] * B, w[keep] / w[keep].sum()
    A = (Z * sw[:, None]).T @ Z + 0.05 * np.diag([0, 1, 1, 1, 1.0])
    beta = np.linalg.solve(A, (Z * sw[:, None]).T @ y[keep])
    np.testing.assert_allclose(stage.coef, beta, atol=1e-10)
    np.testing.assert_allclose(stage.predict(F), np.hstack(
        [np.ones((300, 1)), (F - mean) / std]) @ beta, atol=1e-10)


def test_penalty_path_equals_least_squares_per_penalty():
    """The batched solve of the cross-validation equals one least-squares solve per
    penalty, collinear columns at penalty 0 (minimum-norm) included."""
    rng = np.random.default_rng(3)
    F = rng.standard_normal((200, 3))
    F = np.hstack([F, F[:, :1] + F[:, 1:2]])            # a collinear column
    y, t = _residuals(1 + F[:, 0] * F[:, 2], 200)
    Z = t[:, None] * np.hstack([np.ones((200, 1)), F])
    gram, rhs = Z.T @ Z / 200, Z.T @ y / 200
    weights = np.r_[0.0, 1.0, 1.0, 2.0, 0.5]
    path = _solve_path(gram, rhs, PENALTIES, weights)
    for coef, penalty in zip(path, PENALTIES):
        ref = np.linalg.lstsq(gram + penalty * np.diag(weights), rhs, rcond=None)[0]
        np.testing.assert_allclose(coef, ref, rtol=1e-7, atol=1e-9)
    w = rng.integers(0, 3, 200).astype(float)
    candidate = Candidate("quad", QuadraticBasis(LinearBasis(np.arange(4)),
                                                 LinearBasis(np.arange(2))),
                          ratios=RATIOS)
    folds = node_folds(w, 4, 0)
    losses = _held_out_losses(candidate, F, y, t, w, folds)
    for train, test in folds:
        for a, ratio in enumerate(RATIOS):
            for b, penalty in enumerate(PENALTIES):
                stage = fit_ridge_stage(candidate, F[train], y[train], t[train],
                                        w[train], penalty, ratio)
                err = y[test] - t[test] * stage.predict(F[test])
                np.testing.assert_allclose(losses[a, b, test],
                                           w[test] * err ** 2 * 200 / w.sum(),
                                           rtol=1e-6, atol=1e-12)


def test_cross_validation_penalises_noise_and_not_signal():
    rng = np.random.default_rng(1)
    F = rng.standard_normal((600, 20))
    y, t = _residuals(np.full(600, 2.0), 600, noise=1.0)
    folds = node_folds(np.ones(600), 5, 0)
    flat = score_candidate(Candidate("sgc", LinearBasis(np.arange(20))), F, y, t,
                           np.ones(600), folds)
    assert flat.penalty > 0.1                 # a constant effect: slopes shrunk away
    y, t = _residuals(2 + 3 * F[:, 0], 600, noise=0.1)
    sharp = score_candidate(Candidate("sgc", LinearBasis(np.arange(20))), F, y, t,
                            np.ones(600), folds)
    assert sharp.penalty < 1e-2 and sharp.loss < flat.loss
    assert sharp.node_losses.shape == (600,)
    assert sharp.loss == pytest.approx(sharp.node_losses.mean())


def test_single_index_stage_fits_a_sine_of_an_index_the_linear_one_cannot():
    rng = np.random.default_rng(2)
    F = rng.standard_normal((1500, 6))
    tau = 2 + 1.5 * np.sin(1.5 * (F[:, 0] + F[:, 1]) / np.sqrt(2))
    y, t = _residuals(tau, 1500, noise=0.2)
    w = np.ones(1500)
    folds = node_folds(w, 5, 0)
    lin = Candidate("sgc", LinearBasis(np.arange(6)))
    s_lin = score_candidate(lin, F, y, t, w, folds)
    idx = Candidate("single_index", IndexBasis(lin.basis, s_lin.penalty), ratios=(0.1, 1.0))
    s_idx = score_candidate(idx, F, y, t, w, folds)
    assert s_idx.loss < s_lin.loss
    pehe = {c.name: np.mean((fit_ridge_stage(c, F, y, t, w, s.penalty, s.ratio)
                             .predict(F) - tau) ** 2)
            for c, s in ((lin, s_lin), (idx, s_idx))}
    assert pehe["single_index"] < 0.25 * pehe["sgc"]


def test_single_index_penalty_floor_guards_the_ends_of_weak_overlap():
    """Propensity sigma(3u) along the index u: the R-loss barely sees the spline's ends,
    where penalties below the floor let it follow the noise."""
    pehe = {"full grid": [], "floored": []}
    for seed in range(12):
        rng = np.random.default_rng(seed)
        F = rng.standard_normal((1000, 6))
        u = (F[:, 0] + F[:, 1]) / np.sqrt(2)
        e = 1 / (1 + np.exp(-3 * u))
        t = (rng.random(1000) < e) - e
        tau = 2 + np.sin(1.5 * u)
        y = t * tau + rng.standard_normal(1000)
        w = np.ones(1000)
        folds = node_folds(w, 5, 0)
        lin = Candidate("sgc", LinearBasis(np.arange(6)))
        s_lin = score_candidate(lin, F, y, t, w, folds)
        for name, grid in (("full grid", PENALTIES), ("floored", INDEX_PENALTIES)):
            idx = Candidate("single_index", IndexBasis(lin.basis, s_lin.penalty),
                            penalties=tuple(grid), ratios=RATIOS)
            s = score_candidate(idx, F, y, t, w, folds)
            stage = fit_ridge_stage(idx, F, y, t, w, s.penalty, s.ratio)
            pehe[name].append(np.mean((stage.predict(F) - tau) ** 2))
    full, floored = np.array(pehe["full grid"]), np.array(pehe["floored"])
    assert INDEX_PENALTIES.min() == pytest.approx(1e-3)
    assert np.all(floored <= full + 1e-12) and floored.mean() < 0.95 * full.mean()


def test_quadratic_stage_fits_an_interaction():
    rng = np.random.default_rng(3)
    F = rng.standard_normal((1200, 4))
    tau = 2 + F[:, 0] * F[:, 3]
    y, t = _residuals(tau, 1200, noise=0.2)
    w = np.ones(1200)
    quad = Candidate("quadratic", QuadraticBasis(LinearBasis(np.arange(4)),
                                                 LinearBasis(np.arange(4))))
    s = score_candidate(quad, F, y, t, w, node_folds(w, 5, 0))
    stage = fit_ridge_stage(quad, F, y, t, w, s.penalty, s.ratio)
    assert stage.basis.transform(F).shape == (1200, 1 + 4 + 10)
    assert np.mean((stage.predict(F) - tau) ** 2) < 0.05


def test_folds_skip_nodes_without_weight_and_held_out_nodes_stay_out():
    w = np.ones(50)
    w[:10] = 0
    folds = node_folds(w, 5, 0)
    held = np.concatenate([test for _, test in folds])
    assert sorted(held.tolist()) == list(range(10, 50))
    assert all(np.intersect1d(a, b).size == 0 for a, b in folds)
    # a held-out node's residual does not change the stage fitted on the others
    rng = np.random.default_rng(0)
    F = rng.standard_normal((50, 3))
    y, t = _residuals(F[:, 0], 50)
    cand = Candidate("sgc", LinearBasis(np.arange(3)))
    train, test = folds[0]
    wt = np.zeros(50)
    wt[train] = 1
    a = fit_ridge_stage(cand, F, y, t, wt, 0.1, 1.0)
    y2 = y.copy()
    y2[test] += 100
    b = fit_ridge_stage(cand, F, y2, t, wt, 0.1, 1.0)
    np.testing.assert_array_equal(a.coef, b.coef)


def test_parsimonious_keeps_the_simplest_candidate_within_tolerance():
    rng = np.random.default_rng(0)
    base = rng.random(400) + 1
    jitter = rng.normal(0, 0.5, 400)
    noisy = base - 0.001 + jitter - jitter.mean()   # better by far less than its noise
    clearly = base - 0.5                            # much better everywhere
    scores = [Score(float(v.mean()), 1.0, 0.1, v) for v in (base, noisy)]
    assert scores[1].loss < scores[0].loss and parsimonious(scores, 0.5) == 0
    assert parsimonious(scores, 0.0) == 1
    scores = [Score(float(v.mean()), 1.0, 0.1, v) for v in (base, clearly)]
    assert parsimonious(scores, 0.5) == 1
    assert parsimonious(scores[::-1], 0.5) == 0     # the best is also the simplest
    tied = [Score(1.0, 1.0, 0.1, base), Score(0.999, 1.0, 0.1, base - 0.001)]
    assert parsimonious(tied, 0.0) == 1 and parsimonious(tied, 0.5) == 1


def test_pivot_interval_and_inference_results():
    draws = np.random.default_rng(0).normal([1.0, -2.0], [0.1, 0.5], (4000, 2))
    point = np.array([1.0, -2.0])
    lo, hi = pivot_interval(point, draws, 0.05)
    np.testing.assert_allclose(lo, point - 1.96 * np.array([0.1, 0.5]), atol=0.03)
    np.testing.assert_allclose(hi, point + 1.96 * np.array([0.1, 0.5]), atol=0.03)
    inf = EffectInference(point, draws)
    frame = inf.summary_frame(alpha=0.1, decimals=4)
    assert list(frame.columns) == ["point_estimate", "stderr", "zstat", "pvalue",
                                   "ci_lower", "ci_upper"]
    np.testing.assert_allclose(frame["stderr"], [0.1, 0.5], atol=0.01)
    np.testing.assert_allclose(inf.zstat(value=1.0)[0], 0.0)
    assert inf.pvalue()[1] < 1e-3 and inf.pvalue(value=-2.0)[1] == pytest.approx(1.0)
    neg = inf.times(-1.0)
    np.testing.assert_allclose(neg.conf_int()[0], -inf.conf_int()[1])
    pop = inf.population_summary()
    assert isinstance(pop, PopulationInference)
    assert pop.mean_point == pytest.approx(-0.5)
    assert pop.stderr_mean == pytest.approx(np.std(draws.mean(1), ddof=1))
    assert list(pop.summary_frame().columns) == ["mean_point", "stderr_mean", "zstat",
                                                 "pvalue", "ci_mean_lower",
                                                 "ci_mean_upper"]
    with pytest.raises(ValueError, match="alpha must be a real number in \\(0, 1\\)"):
        inf.conf_int(alpha=0.0)
    with pytest.raises(ValueError, match="decimals must be an integer >= 0"):
        inf.summary_frame(decimals=-1)
