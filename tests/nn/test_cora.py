"""Accuracy on real data: Cora's public split, 10 seeds, Kipf & Welling's GCN."""
import numpy as np

from graphbias.data.datasets import load_planetoid
from graphbias.data.transforms import normalize_features
from graphbias.nn import NodeClassifier


def test_gcn_cora_public_split_matches_published(planetoid_root):
    g = load_planetoid(planetoid_root, "cora")
    x = normalize_features(g.x)
    y = g.y.numpy()
    accs = []
    for seed in range(10):
        clf = NodeClassifier(conv="gcn", hidden_channels=16, dropout=0.5, lr=0.01,
                             weight_decay=5e-4, max_epochs=200, random_state=seed)
        clf.fit(x, y, graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
        accs.append(clf.score(x, y, graph=g, mask=g.test_mask))
    assert np.mean(accs) >= 0.805, accs  # published 81.5
