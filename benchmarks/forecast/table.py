"""Prints the markdown tables of results.jsonl (mean +- std over seeds)."""
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

rows = [json.loads(line) for line in Path(__file__).with_name("results.jsonl").open()]
groups = defaultdict(list)
for r in rows:
    groups[(r["dataset"], r["method"])].append(r)


def cell(rs, key):
    v = np.array([r[key] for r in rs])
    return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v.mean():.4f}"


# the optimum: MAE of the noise-free prediction on the same test windows
optimum = np.mean([r["test_mae"] for r in groups.get(("gpvar", "optimal"), [])] or [np.nan])
print(f"GP-VAR optimum on the test windows: {optimum:.4f}\n")
print("| GP-VAR method | one-step test MAE | / optimum | epochs | seconds | seeds |")
print("|---|---|---|---|---|---|")
gp = sorted(((m, rs) for (ds, m), rs in groups.items() if ds == "gpvar"),
            key=lambda mr: np.mean([r["test_mae"] for r in mr[1]]))
for m, rs in gp:
    ratios = np.array([r["test_mae"] / optimum for r in rs])
    ratio = f"{ratios.mean():.3f} ± {ratios.std():.3f}" if len(rs) > 1 else f"{ratios[0]:.3f}"
    print(f"| {m} | {cell(rs, 'test_mae')} | {ratio} | "
          f"{np.mean([r.get('epochs') or 0 for r in rs]):.0f} | "
          f"{np.median([r['seconds'] for r in rs]):.0f} | {len(rs)} |")
print()
print("| Los-loop method | MAE 15 min | MAE 30 min | MAE 60 min | RMSE 60 min | MAPE 60 min (%) | seeds |")
print("|---|---|---|---|---|---|---|")
for (ds, m), rs in groups.items():
    if ds == "los-loop":
        print(f"| {m} | {cell(rs, 'mae@3')} | {cell(rs, 'mae@6')} | {cell(rs, 'mae@12')} | "
              f"{cell(rs, 'rmse@12')} | {cell(rs, 'mape@12')} | {len(rs)} |")
