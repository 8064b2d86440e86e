r"""The Graph R-Learner: cross-fitted graph nuisances, then a final stage on the R-loss.

With cross-fitted :math:`\hat m(x, G) \approx E[Y \mid X, G]` and
:math:`\hat e(x, G) \approx P(T = 1 \mid X, G)`, residuals
:math:`\tilde Y = Y - \hat m`, :math:`\tilde T = T - \hat e`, the effect is

.. math:: \hat\tau = \arg\min_\tau \frac1n \sum_i \big(\tilde Y_i - \tilde T_i\,\tau(x_i, G)\big)^2 .

Nuisances (``nuisance``): ``"linear"`` (ridge / logistic regression, regularised by
cross-validation, on the propagated covariates :math:`[X, \hat A X, \dots, \hat A^K X,
W]`), ``"gnn"`` (two-layer GNNs on the graph), ``"mlp"`` (the same networks without
edges), ``"sklearn"`` (``model_y`` / ``model_t``) and ``"auto"``, the default: for
the outcome and the propensity separately, whichever of ``"linear"`` and ``"gnn"`` has
the smaller out-of-fold loss (squared error, log-loss). With ``nuisance_hops`` a
sequence, each of its propagation steps is a linear candidate of its own
(``"linear-k"``), chosen the same way. With ``nuisance_members`` :math:`r > 1`, the
final stage is fitted on the residuals of each of the :math:`r` best (outcome,
propensity) pairs (the :math:`i`-th best outcome kind with the :math:`i`-th best
propensity kind), each on the nodes inside the overlap region under its own
propensities, and the effect is the average of the :math:`r` stages' effects: the
mean of :math:`r` R-learners that differ only in their nuisances. The default,
``GraphRLearner()``, does both: linear candidates of 0 to 3 hops beside the GNNs, the
two best pairs averaged (``nuisance_hops="auto"``, ``nuisance_members="auto"``).

Final stages (``final``), with :math:`F = [X, \hat A X, \dots, \hat A^K X]` and
:math:`\hat A` the GCN-normalised adjacency (self-loops added):

- ``"sgc"``: a simplified graph convolution :math:`\tau = [1, F]\beta` (SGC, Wu et
  al. 2019) fitted in closed form on the R-loss with a ridge penalty chosen by
  cross-validated R-loss.
- ``"single_index"``: :math:`[1, F]\beta` plus a penalised cubic spline of the SGC's
  index :math:`F\hat\beta`, for effects :math:`g(F v)` with :math:`g` smooth
  (nonlinear in the graph); its penalty is at least :math:`10^{-3}`, where the R-loss
  can still see the spline's ends.
- ``"quadratic"``: :math:`[1, F]\beta` plus penalised pairwise products of the own
  and one-hop covariates, for interactions.
- ``"auto"``, the default: the R-score (Nie and Wager 2021) chooses among the
  closed-form stages: the ridge stages on :math:`[1, X]`, :math:`[1, X, \hat A X]`, ...
  up to ``hops``, the single-index stage on each graph-aware one and the quadratic
  stage, each with its penalties chosen by the R-loss on ``cv`` held-out folds of
  nodes; of the candidates within half a standard error (of the paired per-node
  difference) of the least held-out R-loss, the simplest is kept.
- ``"gnn"``: the SGC without penalty, by least squares (the stage this learner used
  before the penalised ones; a linear model of propagated covariates, not a neural
  network).
- ``"gcn"``: a nonlinear 2-layer GCN trained on the R-loss by gradient (with
  ``final_validation_fraction``, the epoch of least R-loss on held-out nodes is
  kept).
- ``"linear"``: :math:`\tau = [1, x]\beta` by least squares, the intercept multiplied
  by :math:`\tilde T`, as EconML's ``LinearDML``.
- ``"forest"``: a random forest on the pseudo-outcome :math:`\tilde Y / \tilde T`
  weighted by :math:`\tilde T^2`, as EconML's ``NonParamDML``.
- ``"linear_free_intercept"``, an ablation only: it regresses :math:`\tilde Y` on
  :math:`[1, \tilde T x]` with a free intercept, so :math:`\tau = x\beta` has no
  constant term and cannot represent a constant effect.

Folds are graph-aware: a fold's nodes never enter its nuisance losses. Message
passing and propagation still read their *covariates* (``fold_isolation="loss"``, the
default); ``fold_isolation="edges"`` also removes every edge touching the held-out
nodes while the fold's nuisances train, so nothing of them enters.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Optional

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from .._validation import (DEPRECATED, Constraint, Device, Integer, Options, RandomState,
                           Real, ValueGrid, check_scalar, deprecated_attribute,
                           validate_params)
from ..base import EstimatorMixin, predict_graph, seed_from
from ..data import Graph
from ._checks import EffectInferenceMixin, NetworkEffectMixin, check_controls, \
    check_outcomes
from ._features import propagated
from ._final import (INDEX_PENALTIES, RATIOS, Candidate, IndexBasis, LinearBasis,
                     QuadraticBasis, RidgeStage, fit_ridge_stage, node_folds,
                     parsimonious, score_candidate)
from ._inference import EffectInference
from ._masked import fit_masked, float_tensor, node_gnn, rloss_on
from ._nuisance import NuisanceData, fit_fold, linear_kind, outcome_loss, \
    predict_model, propensity_loss

__all__ = ["GraphRLearner", "FINAL_STAGES", "NUISANCES", "propagated"]

FINAL_STAGES = ("auto", "sgc", "single_index", "quadratic", "gnn", "gcn", "linear",
                "forest", "linear_free_intercept")
NUISANCES = ("auto", "linear", "gnn", "mlp", "sklearn")
INFERENCE = ("auto", "bootstrap")

#: ``nuisance_hops="auto"`` and ``nuisance_members="auto"`` of the fully automatic
#: learner: every depth of 0 to 3 hops a linear candidate, the two best pairs averaged
AUTO_NUISANCE_HOPS = (0, 1, 2, 3)
AUTO_NUISANCE_MEMBERS = 2
#: the nuisance kinds each ``nuisance`` setting fits and chooses from
_NUISANCE_KINDS = {"auto": ("linear", "gnn"), "linear": ("linear",), "gnn": ("gnn",),
                   "mlp": ("mlp",), "sklearn": ("sklearn",)}
#: the closed-form final stages (penalised, chosen by cross-validated R-loss)
_RIDGE_STAGES = ("auto", "sgc", "single_index", "quadratic")
#: a candidate is kept over a better-scoring, more complex one within this many
#: standard errors of the paired difference of held-out R-losses
_TOLERANCE = 0.5
#: the quadratic stage multiplies at most this many own and one-hop columns
_MAX_PRODUCT_COLUMNS = 24
#: the inference of a closed-form stage refits its basis with the chosen penalty
#: times this factor (undersmoothing): the shrinkage bias of the cross-validated
#: penalty, which bootstrap refits at that penalty do not see, is then small against
#: the intervals' width
_UNDERSMOOTH = 0.01


class _HasMethods(Constraint):
    """An object with the methods ``names`` (a scikit-learn model)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def accepts(self, value: Any) -> bool:
        return all(callable(getattr(value, n, None)) for n in self.names)

    def describe(self) -> str:
        return "an estimator with " + " and ".join(f"{n}()" for n in self.names)


@dataclass
class _Member:
    """A nuisance pair beyond the selected one whose final stage enters the
    averaged effect: its cross-fitted residuals and propensities (its stage is in
    the learner's ``_member_stages_``, a list, where moving the learner between
    devices reaches it)."""

    residuals: tuple[np.ndarray, np.ndarray]
    propensity: np.ndarray


def _ones(X: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((X.shape[0], 1)), X])


def _hop_columns(n_features: int, hops: int) -> np.ndarray:
    """The columns of :func:`propagated` up to ``hops`` hops."""
    return np.arange((hops + 1) * n_features)


def _product_columns(n_features: int) -> np.ndarray:
    """The own and one-hop columns the quadratic stage multiplies (the own ones
    alone when both together would be too many)."""
    both = _hop_columns(n_features, 1)
    return both if both.size <= _MAX_PRODUCT_COLUMNS else both[:min(n_features,
                                                                    _MAX_PRODUCT_COLUMNS)]


class GraphRLearner(EstimatorMixin, NetworkEffectMixin, EffectInferenceMixin,
                    BaseEstimator):
    r"""Heterogeneous treatment effects on a network: EconML's R-learner with graph
    nuisances and a graph final stage.

    ``fit(Y, T, *, X, graph, W=None)`` cross-fits the nuisances
    :math:`\hat m(x, G) \approx E[Y \mid X, G]` and
    :math:`\hat e(x, G) \approx P(T = 1 \mid X, G)` over ``n_folds`` folds of nodes
    (a fold's nodes never enter its own nuisance losses), then fits the final stage
    on the R-loss

    .. math:: \hat\tau = \arg\min_\tau \frac1n \sum_i \big(Y_i - \hat m_i -
              (T_i - \hat e_i)\,\tau(x_i, G)\big)^2 .

    See the module docstring for the nuisances and final stages; by default both
    are chosen by cross-validated loss (the final stage by the R-score). Prediction
    without ``graph=`` reuses the graph of ``fit`` when ``X`` has one row per node of
    it and raises otherwise; ``graph="isolated"`` treats every row as an isolated
    node on purpose. :meth:`paper_preset` gives the configuration of "The
    Final-Stage Bottleneck" (2025).

    Parameters
    ----------
    nuisance : {"auto", "linear", "gnn", "mlp", "sklearn"}, default="auto"
        The nuisance models (see the module docstring).
    final : {"auto", "sgc", "single_index", "quadratic", "gnn", "gcn", "linear", \
"forest", "linear_free_intercept"}, default="auto"
        The final stage (see the module docstring).
    model_y : regressor or None, default=None
        Outcome model for ``nuisance="sklearn"`` (cloned per fold); refused with any
        other nuisance.
    model_t : classifier or None, default=None
        Propensity model with ``predict_proba`` for ``nuisance="sklearn"``; refused
        with any other nuisance.
    n_folds : int, default=3
        Cross-fitting folds, at least 2.
    fold_isolation : {"loss", "edges"}, default="loss"
        ``"edges"`` also removes the held-out nodes' edges while a fold's nuisances
        train.
    conv : {"sage", "gcn"}, default="sage"
        The layers of the nuisance GNNs: GraphSAGE (a node's own covariates and its
        neighbours' mean, separately weighted) or GCN (a degree-normalised average
        over the node and its neighbours).
    hidden_channels : int, default=32
        Hidden width of every GNN (nuisances and the ``"gcn"`` final stage).
    max_epochs : int, default=200
        Full-batch Adam epochs of each nuisance GNN.
    final_max_epochs : int, default=300
        Epochs of the ``"gcn"`` final stage.
    lr : float, default=0.01
        Adam's learning rate.
    weight_decay : float, default=5e-4
        Adam's L2 penalty of every GNN.
    validation_fraction : float, default=0.1
        Part of each fold's training nodes held out to early-stop its nuisance GNNs
        (the epoch of least held-out loss kept), in ``[0, 1)``; 0: every epoch
        trains and the last is kept.
    final_validation_fraction : float, default=0.1
        The same for the ``"gcn"`` final stage (held-out R-loss), in ``[0, 1)``.
    patience : int or None, default=20
        Early stopping: stop after that many epochs without a better held-out loss
        (``None``: run every epoch, keep the best).
    overlap : {"trim", "raise"}, default="trim"
        Nodes with propensities outside ``[clip, 1 - clip]``: ``"trim"`` leaves them
        out of the final stage with a warning, ``"raise"`` refuses the data.
    clip : float, default=0.01
        The overlap bound, in ``[0, 0.5)`` (0: no node is left out).
    n_bootstrap : int, default=100
        Final-stage refits on resampled nodes for the intervals and inference, at
        least 2. For the closed-form stages the inference is about the chosen basis
        refitted with 1/100 of its cross-validated penalty (undersmoothing: the
        penalty's shrinkage bias is not in the bootstrap draws), so its intervals
        are centred there rather than on :meth:`effect` (see "Intervals" in the
        Notes).
    hops : int, default=2
        Propagation steps :math:`K` of the SGC-based final stages and of the linear
        nuisances when ``nuisance_hops`` resolves to ``None``, at least 1.
    nuisance_hops : "auto", int, sequence of int or None, default="auto"
        Propagation steps of the linear nuisances, each at least 0: every value is
        a candidate (``"linear-k"``), and the outcome and the propensity model each
        keep the one of least out-of-fold loss (beside the GNNs with
        ``nuisance="auto"``). ``None``: ``hops`` (the kind ``"linear"``).
        ``"auto"``: ``(0, 1, 2, 3)`` for the fully automatic learner
        (``nuisance="auto"`` and ``final="auto"``), else ``None``. Refused with a
        nuisance that fits no linear model.
    nuisance_members : "auto" or int, default="auto"
        The number :math:`r` of nuisance pairs whose final stages are averaged: the
        outcome kinds and the propensity kinds are each ranked by out-of-fold loss,
        the :math:`i`-th of each form pair :math:`i`, every pair gets the final stage
        ``final`` (chosen and penalised anew on its residuals) and the effect is the
        mean of the :math:`r` stages' effects. 1: the selected pair alone.
        ``"auto"``: 2 for the fully automatic learner, else 1. At most the number
        of kinds fitted (``nuisance="auto"`` with ``nuisance_hops`` gives several).
        The automatic learner's two settings were chosen on 56 simulated cells (four
        graph families, five effects, 500 to 5,000 nodes, two treatment
        mechanisms; ``benchmarks/causal``): averaging the two best pairs lowered the
        PEHE where a single chosen pair was unstable and cost no cell more than
        noise; ``nuisance_hops=None, nuisance_members=1`` is the single-pair
        learner that was the default before.
    cv : int, default=5
        Folds of the cross-validated R-loss that chooses the closed-form final
        stages' penalties and the ``"auto"`` stage, at least 2.
    random_state : int, RandomState, Generator or None, default=None
        Seeds folds, networks and the bootstrap.
    device : str or torch.device, default="cpu"
        Where the GNNs train and predict (``"cpu"``, ``"cuda"``, ``"cuda:1"`` or
        ``"auto"``); the closed-form and forest stages run on the CPU.
    hidden, epochs, final_epochs : deprecated
        Old names of ``hidden_channels``, ``max_epochs`` and ``final_max_epochs``.

    Attributes
    ----------
    model_final_ : RidgeStage, ndarray, RandomForestRegressor or GNN
        The fitted final stage of the selected nuisance pair (EconML's name): a
        :class:`RidgeStage` (basis, coefficients, chosen penalty) for the
        closed-form stages, the coefficients :math:`\beta` for ``"gnn"``,
        ``"linear"`` and ``"linear_free_intercept"``, the forest for ``"forest"``,
        the GCN for ``"gcn"``. ``stage_`` is its deprecated alias.
    final_scores_ : dict
        Held-out R-loss of every closed-form candidate the selected pair's final
        stage was chosen from, at its best penalties (empty for the other stages).
    final_selected_ : str
        The name of the selected pair's closed-form stage (``"sgc0"``: ridge on
        :math:`[1, X]`, ``"sgck"``: on :math:`[1, X, \dots, \hat A^k X]`,
        ``"single_index_k"``, ``"quadratic"``), or ``final`` itself for the other
        stages.
    nuisance_members_ : list of dict
        The ``nuisance_members`` pairs whose stages' effects are averaged, best
        first: the outcome kind (``"y"``), the propensity kind (``"t"``) and the
        name of the pair's final stage (``"final"``, as ``final_selected_``).
    nuisance_models_ : list of tuple
        ``(model_y, model_t)`` of each fold (GNNs outputting the outcome and the
        propensity logit, or fitted scikit-learn models).
    nuisance_selected_ : dict
        The kind of the outcome (``"y"``) and propensity (``"t"``) models
        (``"linear-k"``: the linear model on :math:`k` propagation steps).
    nuisance_scores_ : dict
        Out-of-fold loss of every kind tried: ``{"y": {kind: mse}, "t": {kind:
        log-loss}}``.
    models_y, models_t : list of list
        The same models as EconML lists them: ``[[model of fold 0, ...]]``.
    residuals_ : tuple of ndarray
        The cross-fitted residuals :math:`(\tilde Y, \tilde T)` of the selected
        pair.
    kept_ : ndarray of bool
        Nodes inside the overlap region (those the final stage is fitted on; with
        several nuisance members, under at least one member's propensities: each
        member's stage is fitted on the nodes inside under its own).
    overlap_ : dict
        ``min`` and ``max`` of the estimated propensities (over every member),
        ``n_outside`` (nodes outside under at least one member's), ``clip``.
    ate_ : float
        The average effect over the kept nodes of the training data.
    inference_ : str or None
        ``"bootstrap"`` (the intervals of :meth:`effect_interval` and the inference
        results), or ``None`` when ``fit`` was called with ``inference=None``.
    graph_ : Graph or None
        The graph of ``fit`` (reused by prediction without ``graph=``).
    n_features_in_ : int
        Number of covariates (columns of ``X``).
    device_ : torch.device
        Where the GNNs live.

    Notes
    -----
    **Intervals.** ``effect_interval`` and the inference results come from
    ``n_bootstrap`` refits of the final stage on nodes resampled with replacement,
    with the cross-fitted residuals, the chosen stage and its penalty ratio held
    fixed. At the cross-validated penalty these refits miss the shrinkage bias, and
    the per-node intervals undercovered (BA, 1,000 nodes, one design with redrawn
    treatments and outcomes: 0.77 on ``simple_h``, 0.81 on the well-specified
    ``linear`` effect). The inference is therefore centred on the chosen basis
    refitted with 1/100 of that penalty, and so are the refits: on the same
    design coverage rose to about 0.90 on both effects (0.87 on a constant effect),
    with intervals 1.5 to 2.4 times as wide (up to 3.7 times on the constant
    effect, and wider still for the quadratic stage or a few hundred nodes). The
    intervals cover the undersmoothed refit of the chosen basis; they cover
    :math:`\tau` at about the nominal rate only when that basis spans it and the
    stage choice is stable (0.935 with ``final="sgc"`` on the linear effect). What
    remains outside them: the approximation bias of the chosen basis (a
    single-index spline of a sine is close but not exact), a stage choice that
    misses part of :math:`\tau`, and the variability of the nuisances and of the
    stage choice, which the refits hold fixed. ``benchmarks/causal`` records the
    coverage measured before and after.

    Examples
    --------
    >>> from graphbias.data.synthetic.network_causal import network_causal
    >>> d = network_causal("ba", 300, effect="constant", treatment_strength=0.5, seed=0)
    >>> est = GraphRLearner(nuisance="linear", random_state=0)
    >>> est = est.fit(d.Y, d.T, X=d.X, graph=d.graph)
    >>> 1.0 < est.ate_ < 3.0                   # the true effect is 2
    True
    >>> est.effect(d.X).shape                  # the graph of fit is reused
    (300,)
    >>> lower, upper = est.ate_interval()      # over the nodes of fit
    >>> bool(lower <= est.ate() <= upper)
    True
    >>> est.effect_inference(d.X).summary_frame().columns.tolist()[:2]
    ['point_estimate', 'stderr']
    """

    _parameter_constraints = {
        "nuisance": [Options(*NUISANCES)],
        "final": [Options(*FINAL_STAGES)],
        "model_y": [_HasMethods("fit", "predict"), None],
        "model_t": [_HasMethods("fit", "predict_proba"), None],
        "n_folds": [Integer(2)],
        "fold_isolation": [Options("loss", "edges")],
        "conv": [Options("sage", "gcn")],
        "hidden_channels": [Integer(1)],
        "max_epochs": [Integer(1)],
        "final_max_epochs": [Integer(1)],
        "lr": [Real(0, None, closed="neither")],
        "weight_decay": [Real(0)],
        "validation_fraction": [Real(0, 1, closed="left")],
        "final_validation_fraction": [Real(0, 1, closed="left")],
        "patience": [Integer(1), None],
        "overlap": [Options("trim", "raise")],
        "clip": [Real(0, 0.5, closed="left")],
        "n_bootstrap": [Integer(2)],
        "hops": [Integer(1)],
        "nuisance_hops": [Options("auto"), ValueGrid(Integer(0)), None],
        "nuisance_members": [Options("auto"), Integer(1)],
        "cv": [Integer(2)],
        "random_state": [RandomState()],
        "device": [Device()],
    }
    _aliases = {"hidden": "hidden_channels", "epochs": "max_epochs",
                "final_epochs": "final_max_epochs"}

    _fitted_attribute = "model_final_"
    stage_ = deprecated_attribute("stage_", "model_final_")

    def __init__(self, nuisance: str = "auto", final: str = "auto", model_y: Any = None,
                 model_t: Any = None, n_folds: int = 3, fold_isolation: str = "loss",
                 conv: str = "sage", hidden_channels: int = 32, max_epochs: int = 200,
                 final_max_epochs: int = 300, lr: float = 0.01,
                 weight_decay: float = 5e-4, validation_fraction: float = 0.1,
                 final_validation_fraction: float = 0.1, patience: Optional[int] = 20,
                 overlap: str = "trim", clip: float = 0.01, n_bootstrap: int = 100,
                 hops: int = 2, nuisance_hops: Any = "auto",
                 nuisance_members: Any = "auto", cv: int = 5,
                 random_state: Any = None, device: Any = "cpu",
                 hidden: Any = DEPRECATED, epochs: Any = DEPRECATED,
                 final_epochs: Any = DEPRECATED) -> None:
        self.nuisance = nuisance
        self.final = final
        self.model_y = model_y
        self.model_t = model_t
        self.n_folds = n_folds
        self.fold_isolation = fold_isolation
        self.conv = conv
        self.hidden_channels = hidden_channels
        self.max_epochs = max_epochs
        self.final_max_epochs = final_max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.final_validation_fraction = final_validation_fraction
        self.patience = patience
        self.overlap = overlap
        self.clip = clip
        self.n_bootstrap = n_bootstrap
        self.hops = hops
        self.nuisance_hops = nuisance_hops
        self.nuisance_members = nuisance_members
        self.cv = cv
        self.random_state = random_state
        self.device = device
        self.hidden = hidden
        self.epochs = epochs
        self.final_epochs = final_epochs

    @classmethod
    def paper_preset(cls, **params: Any) -> "GraphRLearner":
        """The Graph R-Learner of "The Final-Stage Bottleneck" (2025) as the authors'
        code runs it: two-layer GCN nuisances (hidden width 32) trained 150 full-batch
        Adam epochs at learning rate 1e-3 without weight decay or early stopping, 2
        cross-fitting folds, no propensity trimming, and a two-layer GCN final stage
        trained 200 epochs on the R-loss of every node (no held-out epoch choice).

        The paper's graph-blind baseline is ``paper_preset(nuisance="mlp")`` (its MLP
        has two hidden layers, this one one), and its linear final stage is
        ``final="linear_free_intercept"`` (a free-intercept least-squares fit; the
        paper's uses a ridge penalty of 0.1).

        Parameters
        ----------
        **params
            Parameters to change from the preset (``random_state``, ``device``,
            ``nuisance``, ``final``, ...).

        Returns
        -------
        GraphRLearner
            Unfitted.

        Examples
        --------
        >>> est = GraphRLearner.paper_preset(random_state=0)
        >>> est.final, est.n_folds, est.max_epochs, est.lr, est.clip
        ('gcn', 2, 150, 0.001, 0.0)
        """
        preset = dict(nuisance="gnn", final="gcn", conv="gcn", n_folds=2,
                      hidden_channels=32, max_epochs=150, final_max_epochs=200, lr=1e-3,
                      weight_decay=0.0, validation_fraction=0.0,
                      final_validation_fraction=0.0, clip=0.0)
        return cls(**{**preset, **params})

    @property
    def models_y(self) -> list[list[Any]]:
        """The outcome model of every fold, nested as EconML's (one list per
        cross-fitting repetition: here one)."""
        check_is_fitted(self, "model_final_")
        return [[my for my, _ in self.nuisance_models_]]

    @property
    def models_t(self) -> list[list[Any]]:
        """The propensity model of every fold, nested as EconML's."""
        check_is_fitted(self, "model_final_")
        return [[mt for _, mt in self.nuisance_models_]]

    # ------------------------------------------------------------ nuisances
    def _begin_fit(self) -> SimpleNamespace:
        """The parameters, ``nuisance_hops`` and ``nuisance_members`` ``"auto"``
        resolved: :data:`AUTO_NUISANCE_HOPS` and :data:`AUTO_NUISANCE_MEMBERS` for
        the fully automatic learner (``nuisance="auto"``, ``final="auto"``), else
        ``hops`` (``None``) and one member."""
        p = super()._begin_fit()
        automatic = p.nuisance == "auto" and p.final == "auto"
        if isinstance(p.nuisance_hops, str):
            p.nuisance_hops = AUTO_NUISANCE_HOPS if automatic else None
        if isinstance(p.nuisance_members, str):
            p.nuisance_members = AUTO_NUISANCE_MEMBERS if automatic else 1
        return p

    def _check_nuisance_models(self, p: SimpleNamespace) -> None:
        kinds = self._nuisance_kinds(p)
        if p.nuisance_members > len(kinds):
            raise ValueError(f"nuisance_members={p.nuisance_members} but the nuisances "
                             f"are chosen from {len(kinds)} kind(s) {list(kinds)}: pass "
                             "nuisance='auto' and nuisance_hops with several values for "
                             "more, or fewer members")
        if p.nuisance == "sklearn":
            if p.model_y is None or p.model_t is None:
                raise ValueError("nuisance='sklearn' needs model_y (regressor) and "
                                 "model_t (classifier with predict_proba)")
            return
        given = [n for n in ("model_y", "model_t") if getattr(p, n) is not None]
        if given:
            raise ValueError(f"{' and '.join(given)} given, but nuisance={p.nuisance!r} "
                             "does not use them: pass nuisance='sklearn' to fit the "
                             "nuisances with them")
        if p.nuisance_hops is not None and "linear" not in _NUISANCE_KINDS[p.nuisance]:
            raise ValueError(f"nuisance_hops={self.nuisance_hops!r} given, but "
                             f"nuisance={p.nuisance!r} fits no linear model: pass "
                             "nuisance='linear' or 'auto'")

    @staticmethod
    def _nuisance_kinds(p: SimpleNamespace) -> tuple[str, ...]:
        """The kinds the nuisances are chosen from: ``"linear"`` becomes one
        ``"linear-k"`` per value of ``nuisance_hops``."""
        kinds = _NUISANCE_KINDS[p.nuisance]
        if p.nuisance_hops is None:
            return kinds
        return tuple(k for kind in kinds for k in
                     ([linear_kind(h) for h in dict.fromkeys(p.nuisance_hops)]
                      if kind == "linear" else [kind]))

    def _crossfit(self, data: NuisanceData, Y: np.ndarray, T: np.ndarray,
                  p: SimpleNamespace, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Out-of-fold :math:`\\hat m` and :math:`\\hat e` of the
        ``nuisance_members`` best pairs, the selected one first; sets the nuisance
        attributes."""
        n = Y.shape[0]
        kinds = self._nuisance_kinds(p)
        oof = {kind: (np.empty(n), np.empty(n)) for kind in kinds}
        fitted: dict[str, list[tuple[Any, Any]]] = {kind: [] for kind in kinds}
        folds = KFold(p.n_folds, shuffle=True, random_state=seed % (2**31))
        for k, (train_idx, test_idx) in enumerate(folds.split(Y)):
            train = np.zeros(n, dtype=bool)
            train[train_idx] = True
            for kind in kinds:
                models = fit_fold(kind, p, data, Y, T, train, seed + 2 * k, self.device_)
                for j, model in enumerate(models):
                    oof[kind][j][test_idx] = predict_model(
                        kind, p, model, data, self.device_, propensity=j == 1)[test_idx]
                fitted[kind].append(models)
        self.nuisance_scores_ = {
            "y": {kind: outcome_loss(Y, oof[kind][0]) for kind in kinds},
            "t": {kind: propensity_loss(T, oof[kind][1]) for kind in kinds}}
        ranked_y, ranked_t = (sorted(kinds, key=self.nuisance_scores_[key].__getitem__)
                              for key in ("y", "t"))
        pairs = list(zip(ranked_y, ranked_t))[:p.nuisance_members]
        kind_y, kind_t = pairs[0]
        self.nuisance_selected_ = {"y": kind_y, "t": kind_t}
        self.nuisance_models_ = [(my, mt) for (my, _), (_, mt) in
                                 zip(fitted[kind_y], fitted[kind_t])]
        self.nuisance_members_ = [{"y": ky, "t": kt} for ky, kt in pairs]
        return [(oof[ky][0], oof[kt][1]) for ky, kt in pairs]

    def _predict_nuisances(self, data: NuisanceData) -> tuple[np.ndarray, np.ndarray]:
        """:math:`\\hat m` and :math:`\\hat e` averaged over the fold models."""
        p, kinds = self._fit_params_, self.nuisance_selected_
        m = np.mean([predict_model(kinds["y"], p, my, data, self.device_, propensity=False)
                     for my, _ in self.nuisance_models_], axis=0)
        e = np.mean([predict_model(kinds["t"], p, mt, data, self.device_, propensity=True)
                     for _, mt in self.nuisance_models_], axis=0)
        return m, e

    # ------------------------------------------------------------ final stage
    def _candidates(self, n_features: int, p: SimpleNamespace) -> list[Candidate]:
        """The closed-form final stages ``final`` chooses from (single-index stages
        are added by :meth:`_select_stage`, on the linear ones)."""
        if p.final == "auto":
            return [Candidate(f"sgc{k}", LinearBasis(_hop_columns(n_features, k)))
                    for k in range(p.hops + 1)]
        return [Candidate("sgc", LinearBasis(_hop_columns(n_features, p.hops)))]

    def _nonlinear(self, linear: list[tuple[Candidate, Any]], n_features: int,
                   p: SimpleNamespace) -> list[Candidate]:
        """The single-index stage on each graph-aware linear candidate and the
        quadratic stage, as ``final`` asks."""
        out = []
        if p.final in ("auto", "single_index"):
            for cand, score in linear:
                if cand.name != "sgc0":
                    name = ("single_index" if p.final == "single_index"
                            else f"single_index_{cand.name[3:]}")
                    out.append(Candidate(name, IndexBasis(cand.basis, score.penalty),
                                         penalties=tuple(INDEX_PENALTIES), ratios=RATIOS))
        if p.final in ("auto", "quadratic"):
            out.append(Candidate("quadratic", QuadraticBasis(
                LinearBasis(_hop_columns(n_features, p.hops)),
                LinearBasis(_product_columns(n_features))), ratios=RATIOS))
        return out

    def _select_stage(self, F: np.ndarray, y_res: np.ndarray, t_res: np.ndarray,
                      weight: np.ndarray, seed: int) -> tuple[RidgeStage, dict]:
        """The closed-form stage of ``final``, penalties and (for ``"auto"``) the
        candidate chosen by cross-validated R-loss, and every candidate's held-out
        R-loss."""
        p = self._final_params_
        folds = node_folds(weight, p.cv, seed)
        n_features = self.n_features_in_
        linear = [(c, score_candidate(c, F, y_res, t_res, weight, folds))
                  for c in self._candidates(n_features, p)]
        scored = [] if p.final in ("single_index", "quadratic") else list(linear)
        scored += [(c, score_candidate(c, F, y_res, t_res, weight, folds))
                   for c in self._nonlinear(linear, n_features, p)]
        cand, score = scored[parsimonious([s for _, s in scored], _TOLERANCE)]
        return (fit_ridge_stage(cand, F, y_res, t_res, weight, score.penalty,
                                score.ratio, score.loss),
                {c.name: s.loss for c, s in scored})

    def _fit_stage(self, X: np.ndarray, g: Graph, y_res: np.ndarray, t_res: np.ndarray,
                   weight: np.ndarray, seed: int,
                   refit_of: Any = None) -> tuple[Any, dict]:
        """One final stage fitted with node weights ``weight`` (0 = left out), and
        the held-out R-loss of the closed-form candidates it was chosen from. The
        closed-form stages choose their stage and penalties unless ``refit_of`` (a
        fitted stage) is given; then (the refits of the inference) they keep its
        basis and ratio with its penalty times ``_UNDERSMOOTH``, and the ``"gcn"``
        stage holds no nodes out."""
        p = self._final_params_
        if p.final in _RIDGE_STAGES:
            F = propagated(X, g, p.hops)
            if refit_of is None:
                return self._select_stage(F, y_res, t_res, weight, seed)
            return fit_ridge_stage(Candidate(refit_of.name, refit_of.basis), F, y_res,
                                   t_res, weight, refit_of.penalty * _UNDERSMOOTH,
                                   refit_of.ratio), {}
        if p.final in ("gnn", "linear", "linear_free_intercept"):
            if p.final == "gnn":
                Z = t_res[:, None] * _ones(propagated(X, g, p.hops))
            elif p.final == "linear":
                Z = t_res[:, None] * _ones(X)
            else:
                Z = np.hstack([np.ones((X.shape[0], 1)), t_res[:, None] * X])
            sw = np.sqrt(weight)
            return np.linalg.lstsq(Z * sw[:, None], y_res * sw, rcond=None)[0], {}
        if p.final == "forest":
            keep = weight > 0
            forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=5,
                                           random_state=seed)
            return forest.fit(X[keep], y_res[keep] / t_res[keep],
                              sample_weight=(weight * t_res ** 2)[keep]), {}
        return self._fit_gcn_stage(X, g, y_res, t_res, weight, seed,
                                   validate=refit_of is None), {}

    def _fit_gcn_stage(self, X: np.ndarray, g: Graph, y_res: np.ndarray,
                       t_res: np.ndarray, weight: np.ndarray, seed: int,
                       validate: bool) -> torch.nn.Module:
        """The ``"gcn"`` final stage: a GCN trained on the weighted R-loss; with
        ``validate`` and ``final_validation_fraction`` that part of the nodes is held
        out and the epoch of least R-loss on them kept."""
        p, dev = self._final_params_, self.device_
        yr, tr = float_tensor(y_res, dev), float_tensor(t_res, dev)
        w = torch.from_numpy(weight).float()
        val_loss = None
        if validate and p.final_validation_fraction > 0:
            held = (np.random.default_rng(seed).random(X.shape[0])
                    < p.final_validation_fraction)
            val = torch.from_numpy(held & (weight > 0)).float()
            w = w * torch.from_numpy(~held).float()
            val_loss = rloss_on(yr, tr, val.to(dev))
        module = node_gnn(X.shape[1], p.hidden_channels, seed=seed, device=dev)
        fit_masked(module, (float_tensor(X, dev), g.to(dev)), rloss_on(yr, tr, w.to(dev)),
                   max_epochs=p.final_max_epochs, lr=p.lr, val_loss=val_loss,
                   weight_decay=p.weight_decay)
        return module

    def _stage_effect(self, stage: Any, X: np.ndarray, g: Graph) -> np.ndarray:
        final = self._final_params_.final
        if final in _RIDGE_STAGES:
            return stage.predict(propagated(X, g, self._final_params_.hops))
        if final == "gnn":
            return _ones(propagated(X, g, self._final_params_.hops)) @ stage
        if final == "linear":
            return _ones(X) @ stage
        if final == "linear_free_intercept":
            return X @ stage[1:]
        if final == "forest":
            return stage.predict(X)
        with torch.no_grad():
            out = stage(float_tensor(X, self.device_), g.to(self.device_))
        return out[:, 0].cpu().double().numpy()

    def _stages(self) -> list[Any]:
        """The final stage of every member, the selected pair's first."""
        return [self.model_final_] + self._member_stages_

    def _mean_effect(self, stages: list[Any], X: np.ndarray, g: Graph) -> np.ndarray:
        """The mean of the members' stages' effects."""
        return np.mean([self._stage_effect(s, X, g) for s in stages], axis=0)

    def _const_marginal_effect(self, X: np.ndarray, g: Graph) -> np.ndarray:
        return self._mean_effect(self._stages(), X, g)

    def _fit_graph(self) -> Graph:
        """The graph the final stage was fitted on (isolated nodes without one)."""
        return predict_graph(self.graph_, None, n_rows=self._X_fit_.shape[0])

    # ------------------------------------------------------------ API
    def fit(self, Y: Any, T: Any, *, X: Any, graph: Any = None, W: Any = None,
            inference: Optional[str] = "auto") -> "GraphRLearner":
        """Cross-fits the nuisances, then fits the final stage on the R-loss.

        Parameters
        ----------
        Y : array-like of shape (n_nodes,)
            Outcomes (finite).
        T : array-like of shape (n_nodes,)
            Binary treatments (0/1, both present).
        X : array-like of shape (n_nodes, n_features)
            Covariates, one row per node: the effect modifiers, also read by the
            nuisances.
        graph : graph-like, optional
            Anything :func:`graphbias.as_graph` reads (``None``: isolated nodes).
        W : array-like of shape (n_nodes, n_controls), optional
            Controls read by the nuisances only.
        inference : {"auto", "bootstrap"} or None, default="auto"
            ``"bootstrap"`` (``"auto"`` is the same): intervals and inference
            results from ``n_bootstrap`` refits of the final stage on nodes resampled
            with replacement within the fitted graph (undersmoothed for the
            closed-form stages, see ``n_bootstrap``), drawn on first use; ``None``:
            no inference (the interval methods raise).

        Returns
        -------
        self
        """
        p = self._begin_fit()
        inference = check_scalar("inference", inference, Options(*INFERENCE), None,
                                 owner=type(self).__name__)
        self._check_nuisance_models(p)
        Y, T, X, W, g = self._fit_inputs(Y, T, X, graph, W)
        self._fit_params_ = p
        seed = seed_from(p.random_state)
        (m_hat, e_hat), *others = self._crossfit(NuisanceData(X, W, g), Y, T, p, seed)
        self._propensity_ = e_hat
        self.residuals_ = (Y - m_hat, T - e_hat)
        self._members_ = [_Member((Y - m, T - e), e) for m, e in others]
        self._n_controls_ = 0 if W is None else W.shape[1]
        self._seed_ = seed
        self.inference_ = None if inference is None else "bootstrap"
        return self._refit_final(p)

    def _check_overlap(self, e_hat: np.ndarray, p: SimpleNamespace) -> None:
        """Sets ``overlap_``, ``kept_`` and each member's nodes inside ``[clip, 1 -
        clip]`` (``_inside_``) from the propensities ``e_hat`` (one row per member);
        warns or raises for nodes outside under any member's."""
        members, n = e_hat.shape
        self._inside_ = (e_hat >= p.clip) & (e_hat <= 1 - p.clip)
        outside = ~self._inside_.all(axis=0)
        self.overlap_ = {"min": float(e_hat.min()), "max": float(e_hat.max()),
                         "n_outside": int(outside.sum()), "clip": p.clip}
        if outside.any():
            under = "" if members == 1 else f" under one of the {members} nuisance pairs"
            msg = (f"{outside.sum()} of {n} nodes have estimated propensities outside "
                   f"[{p.clip}, {1 - p.clip}]{under} (range {e_hat.min():.3g} to "
                   f"{e_hat.max():.3g}): overlap fails there")
            if p.overlap == "raise":
                raise ValueError(msg + "; use overlap='trim' to drop them")
            warnings.warn(msg + ("; they are left out of the final stage" if members == 1
                                 else "; each pair's final stage leaves out its own"),
                          UserWarning)
        if not self._inside_.any(axis=1).all():
            raise ValueError("no node has a propensity inside the overlap region")
        self.kept_ = self._inside_.any(axis=0)

    def refit_final(self) -> "GraphRLearner":
        """Refits only the final stages (with the current ``final``, ``hops``,
        ``final_max_epochs``, ...) on the stored cross-fitted residuals of every
        member, as EconML's ``refit_final``. The overlap region is drawn again from
        the stored cross-fitted propensities with the current ``clip`` and
        ``overlap``.

        Returns
        -------
        self
        """
        check_is_fitted(self, "residuals_")
        return self._refit_final(validate_params(self, self._aliases))

    def _member_residuals(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The cross-fitted residuals of every member, the selected pair's first."""
        return [self.residuals_] + [m.residuals for m in self._members_]

    def _refit_final(self, p: SimpleNamespace) -> "GraphRLearner":
        self._check_overlap(np.stack([self._propensity_] +
                                     [m.propensity for m in self._members_]), p)
        self._final_params_ = p
        X, g = self._X_fit_, self._fit_graph()
        fits = [self._fit_stage(X, g, *res, inside.astype(float), self._seed_ + 97)
                for res, inside in zip(self._member_residuals(), self._inside_)]
        (self.model_final_, self.final_scores_), *others = fits
        self._member_stages_ = [stage for stage, _ in others]
        names = [s.name if isinstance(s, RidgeStage) else p.final for s, _ in fits]
        self.final_selected_ = names[0]
        for pair, name in zip(self.nuisance_members_, names):
            pair["final"] = name
        self._bootstrap_: Optional[tuple[list[Any], list[list[Any]]]] = None
        self.ate_ = float(self.effect(self._X_fit_, graph=self._fit_graph())[
            self.kept_].mean())
        return self

    # ------------------------------------------------------------ inference
    def _bootstrap_stages(self) -> tuple[list[Any], list[list[Any]]]:
        """The members' stages the inference is centred on and their refits on
        ``n_bootstrap`` resamples of the kept nodes with replacement (every member on
        the same resample, less the nodes outside its overlap region; fitted once, on
        first use).

        For the closed-form stages the centre is each member's chosen basis refitted
        on every kept node with the penalty times ``_UNDERSMOOTH``, and so are the
        refits; for the others it is the fitted stage itself."""
        if self.inference_ is None:
            raise ValueError("this learner was fitted with inference=None: fit it with "
                             "inference='bootstrap' for intervals and inference results")
        if self._bootstrap_ is None:
            rng = np.random.default_rng(self._seed_ + 7)
            kept = np.flatnonzero(self.kept_)
            X, g = self._X_fit_, self._fit_graph()
            members = list(zip(self._member_residuals(), self._inside_, self._stages()))
            draws = []
            for b in range(self._final_params_.n_bootstrap):
                counts = np.bincount(rng.choice(kept, kept.size),
                                     minlength=self.kept_.size).astype(float)
                draws.append([self._fit_stage(X, g, *res, counts * inside,
                                              self._seed_ + 1000 + b, refit_of=stage)[0]
                              for res, inside, stage in members])
            centres = self._stages()
            if self._final_params_.final in _RIDGE_STAGES:
                centres = [self._fit_stage(X, g, *res, inside.astype(float),
                                           self._seed_ + 97, refit_of=stage)[0]
                           for res, inside, stage in members]
            self._bootstrap_ = (centres, draws)
        return self._bootstrap_

    def score(self, Y: Any, T: Any, *, X: Any, graph: Any = None, W: Any = None) -> float:
        r"""The negated R-loss on (held-out) data, greater is better:

        .. math:: -\frac1n \sum_i \big(Y_i - \hat m_i - (T_i - \hat e_i)\,
                  \hat\tau(x_i, G)\big)^2,

        with the selected pair's nuisances averaged over the fold models, as EconML
        does (EconML's ``score`` returns the R-loss itself, lower is better), and
        :math:`\hat\tau` the members' mean effect.

        Parameters
        ----------
        Y, T, X, W
            As in :meth:`fit` (``W`` with the columns of fit).
        graph : graph-like or "isolated", optional
            As in :meth:`effect` (default: the graph of ``fit``).

        Returns
        -------
        float
        """
        X, g = self._predict_inputs(X, graph)
        n = X.shape[0]
        Y, T = check_outcomes(Y, T, n)
        W = check_controls(W, n, self._n_controls_)
        m, e = self._predict_nuisances(NuisanceData(X, W, g))
        tau = self._const_marginal_effect(X, g)
        return -float(np.mean((Y - m - (T - e) * tau) ** 2))

    def _inference(self, X: np.ndarray, g: Graph) -> EffectInference:
        centres, draws = self._bootstrap_stages()
        return EffectInference(self._const_marginal_effect(X, g),
                               np.stack([self._mean_effect(d, X, g) for d in draws]),
                               self._mean_effect(centres, X, g))
