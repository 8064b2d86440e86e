"""Noisy labels from a classifier, F1, and the Cora check with real data."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import KNeighborsClassifier

from graphbias.cluster import (NoisyLabelLocalClustering, classifier_labels, f1_sets,
                               sample_labelled_nodes)


def test_classifier_labels_keep_the_labelled_nodes_and_accept_sparse():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, (30, 4)), rng.normal(3, 1, (30, 4))]
    labels = classifier_labels(sp.csr_matrix(x), positives=[0, 1, 2], negatives=[40, 41])
    assert labels.dtype == np.int64 and set(np.unique(labels)) <= {0, 1}
    assert labels[[0, 1, 2]].tolist() == [1, 1, 1] and labels[[40, 41]].tolist() == [0, 0]
    assert labels[:30].mean() > 0.8 and labels[30:].mean() < 0.2
    knn = classifier_labels(x, [0, 1, 2], [40, 41], estimator=KNeighborsClassifier(1))
    assert knn[:30].mean() > 0.8


@pytest.mark.parametrize("pos,neg,match", [
    ([], [1], "positives"), ([0], [100], "negatives"), ([0, 1], [1], "both"),
    ([0.5], [1], "positives")])
def test_classifier_labels_errors(pos, neg, match):
    with pytest.raises(ValueError, match=match):
        classifier_labels(np.ones((10, 2)), pos, neg)


def test_sample_labelled_nodes():
    y = np.repeat([0, 1, 2], 10)
    pos, neg = sample_labelled_nodes(y, 1, 4, 6, random_state=0)
    assert (y[pos] == 1).all() and (y[neg] != 1).all() and pos.size == 4 and neg.size == 6
    with pytest.raises(ValueError, match="cannot sample"):
        sample_labelled_nodes(y, 1, 11, 1)


def test_f1_sets():
    assert f1_sets([1, 2, 3], [2, 3, 4, 5]) == pytest.approx(2 * 2 / 7)
    assert f1_sets([], []) == 1.0 and f1_sets([1], [2]) == 0.0


def test_cora_labels_help_local_clustering(planetoid_root):
    """Two Cora classes: label-weighted flow diffusion beats the original graph
    and the classifier's labels alone (a small version of the benchmark)."""
    from graphbias.data.datasets import load_planetoid

    g = load_planetoid(planetoid_root, "cora")
    y = g.y.numpy()
    # a deeper search than the default (patience 4): on these draws of the whole graph
    # the default stops before the class-sized clusters in some queries
    plain = NoisyLabelLocalClustering(patience=5).fit(g)
    got = {"weighted": [], "original": [], "labels": []}
    for c in (2, 5):
        target = np.flatnonzero(y == c)
        for trial in range(2):
            pos, neg = sample_labelled_nodes(y, c, 10, 10, random_state=10 * c + trial)
            labels = classifier_labels(g.x, pos, neg)
            model = NoisyLabelLocalClustering(patience=5).fit(g, noisy_labels=labels)
            got["weighted"].append(model.score(int(pos[0]), target))
            got["original"].append(plain.score(int(pos[0]), target))
            got["labels"].append(f1_sets(np.flatnonzero(labels), target))
    mean = {k: np.mean(v) for k, v in got.items()}
    assert mean["weighted"] > mean["original"] and mean["weighted"] > mean["labels"]
