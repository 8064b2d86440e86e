"""Backbone vs LA-backbone on Cora (public split), mean +- std over seeds.

Usage (from the repository root):
    python benchmarks/lagnn/cora.py --seeds 10 --backbones gcn gat --out benchmarks/lagnn/cora.jsonl
"""
import argparse
import json
import time

import numpy as np
import torch

from graphbias.augment.classifier import LAGNNClassifier
from graphbias.data.datasets import load_planetoid
from graphbias.data.transforms import normalize_features
from graphbias.nn import NodeClassifier


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="../shared/data/planetoid")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--backbones", nargs="+", default=["gcn", "gat"])
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    g = load_planetoid(args.root, "cora")
    g = g.replace(x=normalize_features(g.x))
    kw = dict(graph=g, train_mask=g.train_mask, val_mask=g.val_mask)
    test = np.asarray(g.test_mask)
    y = np.asarray(g.y)
    out = open(args.out, "a") if args.out else None
    for backbone in args.backbones:
        for name, make in (("plain", lambda s: NodeClassifier(conv=backbone, random_state=s)),
                           ("la", lambda s: LAGNNClassifier(backbone=backbone, random_state=s))):
            accs = []
            for seed in range(args.seeds):
                start = time.perf_counter()
                clf = make(seed).fit(g.x, g.y, **kw)
                secs = time.perf_counter() - start
                acc = float((clf.predict(g.x, graph=g)[test] == y[test]).mean())
                accs.append(acc)
                rec = {"model": f"{name}-{backbone}", "seed": seed, "test_acc": acc,
                       "seconds": secs,
                       "generator_seconds": getattr(clf, "generator_seconds_", 0.0)}
                print(json.dumps(rec), flush=True)
                if out:
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
            print(f"{name}-{backbone}: {100 * np.mean(accs):.1f} +- {100 * np.std(accs):.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
