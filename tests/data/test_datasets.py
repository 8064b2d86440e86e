"""Offline dataset loaders: Planetoid (against PyG), OGB raw format (against ogb).

The committed fixture ``tests/fixtures/ogb/ogbn_tiny`` is ``write_ogb_node(FIXTURES,
"ogbn-tiny", tiny_graph())``; ``test_ogb_fixture_is_reproducible`` checks that.
"""
from __future__ import annotations

import collections
import gzip
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphbias.data import Graph
from graphbias.data.datasets import (
    UnsafePickleError,
    available_datasets,
    find_planetoid,
    load_ogb_node,
    load_planetoid,
    ogb_evaluate,
    write_ogb_node,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PLANETOID = SHARED / "planetoid"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ogb"
PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")

needs_cora = pytest.mark.skipif(
    find_planetoid(PLANETOID, "cora") is None,
    reason=f"Cora Planetoid files not found in {PLANETOID} (../shared/data is present "
           "in CI, absent in a user's clone)")


def edge_set(edge_index: torch.Tensor) -> set:
    return set(map(tuple, edge_index.t().tolist()))


# --------------------------------------------------------------------- Planetoid

@pytest.fixture(scope="module")
def cora() -> Graph:
    return load_planetoid(PLANETOID, "cora")


@needs_cora
def test_cora_statistics(cora):
    assert cora.name == "cora"
    assert cora.num_nodes == 2708
    assert cora.x.layout == torch.sparse_csr and cora.x.shape == (2708, 1433)
    assert int(cora.y.max()) + 1 == 7 and cora.y.dtype == torch.int64
    assert [int(m.sum()) for m in (cora.train_mask, cora.val_mask, cora.test_mask)] == \
        [140, 500, 1000]
    assert cora.num_edges == 10556 == len(edge_set(cora.edge_index))
    assert cora.is_undirected() and not cora.has_self_loops()


@needs_cora
def test_cora_matches_pyg(cora):
    io = pytest.importorskip("torch_geometric.io")
    ref = io.read_planetoid_data(str(PLANETOID), "cora")
    assert torch.equal(cora.x.to_dense(), ref.x)
    assert torch.equal(cora.y, ref.y)
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(cora, mask), ref[mask])
    assert edge_set(cora.edge_index) == edge_set(ref.edge_index)


def write_planetoid(folder: Path, name: str = "citeseer", seed: int = 0) -> None:
    """A small Planetoid-format dataset with citeseer's quirk: a test id (515) that
    has no row in tx/ty, plus a self-loop and a duplicated edge in the graph dict."""
    rng = np.random.default_rng(seed)
    num_train, num_allx, num_feat, num_cls = 4, 510, 6, 3
    test_index = rng.permutation(np.setdiff1d(np.arange(510, 521), [515]))
    feats = lambda n: sp.csr_matrix(  # noqa: E731
        (rng.random((n, num_feat)) < 0.3).astype(np.float32))
    onehot = lambda n: np.eye(num_cls, dtype=np.int32)[rng.integers(0, num_cls, n)]  # noqa: E731
    adj = collections.defaultdict(list)
    for u, v in rng.integers(0, 521, size=(800, 2)).tolist():
        adj[u].append(v)
        adj[v].append(u)
    adj[3].append(3)
    adj[7] += [8, 8]
    adj[8].append(7)
    objects = {"x": feats(num_train), "tx": feats(len(test_index)), "allx": feats(num_allx),
               "y": onehot(num_train), "ty": onehot(len(test_index)),
               "ally": onehot(num_allx), "graph": adj}
    folder.mkdir(parents=True, exist_ok=True)
    for part, obj in objects.items():
        (folder / f"ind.{name}.{part}").write_bytes(pickle.dumps(obj, protocol=4))
    (folder / f"ind.{name}.test.index").write_text("\n".join(map(str, test_index)) + "\n")


def test_citeseer_style_padding_matches_pyg(tmp_path):
    io = pytest.importorskip("torch_geometric.io")
    write_planetoid(tmp_path / "CiteSeer" / "raw")
    assert find_planetoid(tmp_path, "CiteSeer") == tmp_path / "CiteSeer" / "raw"
    g = load_planetoid(tmp_path, "citeseer")
    ref = io.read_planetoid_data(str(tmp_path / "CiteSeer" / "raw"), "citeseer")
    assert g.num_nodes == 521 and g.x.shape == (521, 6)
    assert torch.equal(g.x.to_dense(), ref.x) and torch.equal(g.y, ref.y)
    assert g.x.to_dense()[515].abs().sum() == 0 and not g.test_mask[515]
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(g, mask), ref[mask])
    assert edge_set(g.edge_index) == edge_set(ref.edge_index)
    assert g.num_edges == len(edge_set(g.edge_index)) and not g.has_self_loops()


def test_find_planetoid_layouts(tmp_path):
    assert find_planetoid(tmp_path, "cora") is None
    for folder in (tmp_path / "planetoid", tmp_path / "PubMed" / "raw"):
        folder.mkdir(parents=True)
    for part in PARTS:
        (tmp_path / "planetoid" / f"ind.cora.{part}").touch()
        (tmp_path / "PubMed" / "raw" / f"ind.pubmed.{part}").touch()
    assert find_planetoid(tmp_path, "Cora") == tmp_path / "planetoid"
    assert find_planetoid(tmp_path, "pubmed") == tmp_path / "PubMed" / "raw"
    with pytest.raises(ValueError, match="unknown Planetoid dataset 'nell'"):
        find_planetoid(tmp_path, "nell")


class Payload:
    """Unpickling this calls ``func(arg)``: what a malicious file would do."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


@pytest.mark.parametrize("part", ["x", "graph"])
@pytest.mark.parametrize("attack", ["os.system", "builtins.eval"])
def test_malicious_pickle_is_refused(tmp_path, part, attack):
    write_planetoid(tmp_path, "cora")
    marker = tmp_path / "pwned"
    payload = (Payload(os.system, f"touch {marker}") if attack == "os.system" else
               Payload(eval, f"__import__('pathlib').Path({str(marker)!r}).touch()"))
    obj = payload if part == "x" else collections.defaultdict(list, {0: [payload]})
    (tmp_path / f"ind.cora.{part}").write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(UnsafePickleError, match=f"ind.cora.{part}") as err:
        load_planetoid(tmp_path, "cora")
    assert ("system" if attack == "os.system" else "eval") in str(err.value)
    assert isinstance(err.value, ValueError)
    assert not marker.exists()


def test_corrupt_files_raise_value_error(tmp_path):
    write_planetoid(tmp_path, "cora")
    (tmp_path / "ind.cora.ty").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="ind.cora.ty: not a readable Planetoid pickle"):
        load_planetoid(tmp_path, "cora")
    write_planetoid(tmp_path, "cora")
    (tmp_path / "ind.cora.test.index").write_text("512\nfive\n")
    with pytest.raises(ValueError, match="ind.cora.test.index, line 2"):
        load_planetoid(tmp_path, "cora")


def test_missing_planetoid_files_named(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_planetoid(tmp_path, "cora")
    message = str(err.value)
    for text in ("ind.cora.x", "ind.cora.test.index", str(tmp_path),
                 str(tmp_path / "Cora" / "raw"), "github.com/kimiyoung/planetoid"):
        assert text in message
    write_planetoid(tmp_path, "cora")
    (tmp_path / "ind.cora.graph").unlink()
    with pytest.raises(FileNotFoundError, match=f"missing ind.cora.graph in {tmp_path}"):
        load_planetoid(tmp_path, "cora")


# --------------------------------------------------------------------------- OGB

def tiny_graph() -> Graph:
    """40 nodes, 8 features, 3 classes, 2 unlabelled nodes, symmetric edge weights."""
    rng = np.random.default_rng(7)
    n = 40
    y = rng.integers(0, 3, n)
    x = np.round(np.eye(3)[y] @ rng.normal(size=(3, 8)) + 0.5 * rng.normal(size=(n, 8)), 3)
    a = np.triu(rng.random((n, n)) < np.where(y[:, None] == y[None], 0.2, 0.03), 1)
    src, dst = a.nonzero()
    w = np.round(rng.uniform(0.1, 1.0, src.size), 2)
    y[[5, 17]] = -1
    order = rng.permutation(np.setdiff1d(np.arange(n), [5, 17]))
    masks = {key: np.isin(np.arange(n), part) for key, part in
             zip(("train_mask", "val_mask", "test_mask"), np.split(order, [20, 28]))}
    return Graph(np.hstack([[src, dst], [dst, src]]), n, x=x.astype(np.float32),
                 edge_weight=np.concatenate([w, w]).astype(np.float32), y=y, **masks)


def test_ogb_fixture_loads():
    g = load_ogb_node(FIXTURES, "ogbn-tiny")
    ref = tiny_graph()
    assert g.name == "ogbn-tiny" and g.num_nodes == 40 and g.x.shape == (40, 8)
    assert g.y.dtype == torch.int64 and set(g.y.tolist()) == {-1, 0, 1, 2}
    assert torch.equal(g.edge_index, ref.edge_index) and torch.equal(g.x, ref.x)
    assert torch.equal(g.edge_weight, ref.edge_weight) and torch.equal(g.y, ref.y)
    assert [int(m.sum()) for m in (g.train_mask, g.val_mask, g.test_mask)] == [20, 8, 10]
    assert g.is_undirected()
    files = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.gz"))
    assert files == sorted([f"ogbn_tiny/raw/{f}.csv.gz" for f in (
        "edge", "edge-feat", "node-feat", "node-label", "num-edge-list", "num-node-list")]
        + [f"ogbn_tiny/split/random/{f}.csv.gz" for f in ("test", "train", "valid")])
    assert sum(p.stat().st_size for p in FIXTURES.rglob("*.gz")) < 16_000


def test_ogb_fixture_is_reproducible(tmp_path):
    write_ogb_node(tmp_path, "ogbn-tiny", tiny_graph())
    committed = sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("*.gz"))
    assert committed == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.gz"))
    for rel in committed:
        assert gzip.decompress((tmp_path / rel).read_bytes()) == \
            gzip.decompress((FIXTURES / rel).read_bytes()), rel


@pytest.mark.parametrize("inverse", [False, True])
def test_ogb_fixture_matches_ogb_reader(inverse):
    pd = pytest.importorskip("pandas")
    read_graph_raw = pytest.importorskip("ogb.io.read_graph_raw")
    raw = FIXTURES / "ogbn_tiny" / "raw"
    ref = read_graph_raw.read_csv_graph_raw(str(raw), add_inverse_edge=inverse)[0]
    g = load_ogb_node(FIXTURES, "ogbn-tiny", add_inverse_edge=inverse)
    assert ref["num_nodes"] == g.num_nodes
    assert np.array_equal(ref["edge_index"], g.edge_index.numpy())
    assert np.array_equal(ref["node_feat"], g.x.numpy())
    assert np.array_equal(ref["edge_feat"][:, 0], g.edge_weight.numpy())
    labels = pd.read_csv(raw / "node-label.csv.gz", header=None).values[:, 0]
    assert np.array_equal(np.nan_to_num(labels, nan=-1), g.y.numpy())


def random_graph(seed: int, n: int = 300, sparse: bool = False, **extra) -> Graph:
    rng = np.random.default_rng(seed)
    ei = rng.integers(0, n, size=(2, 5 * n))
    x = sp.random(n, 16, density=0.1, format="csr", random_state=seed, dtype=np.float32)
    return Graph(ei, n, x=x if sparse else x.toarray(),
                 edge_weight=rng.random(ei.shape[1]).astype(np.float32), **extra)


@pytest.mark.parametrize("sparse", [False, True])
def test_write_load_round_trip(tmp_path, sparse):
    rng = np.random.default_rng(1)
    g = random_graph(0, sparse=sparse, y=rng.integers(-1, 5, 300),
                     train_mask=rng.random(300) < 0.5, val_mask=rng.random(300) < 0.2,
                     test_mask=rng.random(300) < 0.3)
    folder = write_ogb_node(tmp_path, "my-graph", g, split="fixed")
    assert folder == tmp_path / "my_graph"
    h = load_ogb_node(tmp_path, "my-graph")
    assert h.num_nodes == g.num_nodes and torch.equal(h.edge_index, g.edge_index)
    assert torch.equal(h.x, g.x.to_dense() if sparse else g.x)
    assert torch.equal(h.edge_weight, g.edge_weight) and torch.equal(h.y, g.y)
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(h, mask), getattr(g, mask))


def test_round_trip_inverse_edges_multitask_random_split(tmp_path):
    rng = np.random.default_rng(2)
    directed = random_graph(3)
    a = directed.to_scipy()
    a = sp.triu(a + a.T, k=1)
    und = sp.coo_matrix(a + a.T)
    y = rng.integers(0, 2, size=(300, 4)).astype(np.float32)
    g = Graph(np.vstack([und.row, und.col]), 300, x=directed.x,
              edge_weight=und.data.astype(np.float32), y=y)
    write_ogb_node(tmp_path, "ogbn-products", g)  # products: add_inverse_edge=True
    raw = tmp_path / "ogbn_products" / "raw"
    assert int(gzip.decompress((raw / "num-edge-list.csv.gz").read_bytes())) * 2 == \
        g.num_edges
    h = load_ogb_node(tmp_path, "ogbn-products")
    assert h.num_edges == g.num_edges and h.is_undirected()
    assert np.allclose((h.to_scipy() - g.to_scipy()).toarray(), 0)
    assert h.y.dtype == torch.float32 and torch.equal(h.y, g.y)
    sizes = [int(m.sum()) for m in (h.train_mask, h.val_mask, h.test_mask)]
    assert sizes == [180, 60, 60]
    assert not (h.train_mask & h.val_mask).any() and not (h.val_mask & h.test_mask).any()
    with pytest.raises(ValueError, match="undirected"):
        write_ogb_node(tmp_path, "ogbn-products", directed.replace(y=rng.integers(0, 2, 300)))


def test_ogb_missing_and_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_ogb_node(tmp_path, "ogbn-arxiv")
    message = str(err.value)
    for text in (str(tmp_path / "ogbn_arxiv" / "raw"), "edge.csv.gz", "node-label.csv.gz",
                 "split/<type>", "nodeproppred/arxiv.zip"):
        assert text in message
    with pytest.raises(FileNotFoundError, match="write_ogb_node"):
        load_ogb_node(tmp_path, "ogbn-tiny")

    shutil.copytree(FIXTURES / "ogbn_tiny", tmp_path / "ogbn_tiny")
    raw = tmp_path / "ogbn_tiny" / "raw"
    (raw / "num-edge-list.csv.gz").unlink()
    with pytest.raises(FileNotFoundError, match="missing .*num-edge-list.csv.gz"):
        load_ogb_node(tmp_path, "ogbn-tiny")
    shutil.copy(FIXTURES / "ogbn_tiny" / "raw" / "num-edge-list.csv.gz", raw)
    (raw / "edge.csv.gz").write_bytes(gzip.compress(b"0,1\n2,40\n"))
    with pytest.raises(ValueError, match=r"edge.csv.gz, row 1: node ids must lie in \[0, 40\)"):
        load_ogb_node(tmp_path, "ogbn-tiny")
    shutil.copy(FIXTURES / "ogbn_tiny" / "raw" / "edge.csv.gz", raw)
    (raw / "node-label.csv.gz").write_bytes(gzip.compress(b"0.5\n" * 40))
    with pytest.raises(ValueError, match="node-label.csv.gz, row 0: class labels"):
        load_ogb_node(tmp_path, "ogbn-tiny")
    shutil.copy(FIXTURES / "ogbn_tiny" / "raw" / "node-label.csv.gz", raw)

    shutil.copytree(tmp_path / "ogbn_tiny" / "split" / "random",
                    tmp_path / "ogbn_tiny" / "split" / "other")
    with pytest.raises(ValueError, match="several splits .*other, random.*split="):
        load_ogb_node(tmp_path, "ogbn-tiny")
    assert int(load_ogb_node(tmp_path, "ogbn-tiny", split="other").train_mask.sum()) == 20
    with pytest.raises(FileNotFoundError, match="missing split folder"):
        load_ogb_node(tmp_path, "ogbn-tiny", split="time")


def test_ogb_evaluate():
    y_true = np.array([0, 1, 2, 2, 1])
    y_pred = np.array([0, 1, 1, 2, 0])
    assert ogb_evaluate("ogbn-arxiv", y_true, y_pred) == {"acc": 0.6}
    assert ogb_evaluate("ogbn-arxiv", torch.tensor(y_true)[:, None],
                        torch.tensor(y_pred)[:, None]) == {"acc": 0.6}
    assert ogb_evaluate("my-graph", [[0, np.nan], [1, 1]], [[0, 0], [0, 1]]) == \
        {"acc": 0.75}
    with pytest.raises(ValueError, match="shape"):
        ogb_evaluate("ogbn-arxiv", y_true, y_pred[:3])
    with pytest.raises(ValueError, match="112 task"):
        ogb_evaluate("ogbn-proteins", y_true, y_pred)


def test_ogb_evaluate_without_ogb_matches_ogb(monkeypatch):
    rng = np.random.default_rng(0)
    cases = {"ogbn-proteins": (rng.integers(0, 2, (50, 112)), rng.random((50, 112))),
             "ogbn-products": (rng.integers(0, 47, (50, 1)), rng.integers(0, 47, (50, 1)))}
    with_ogb = {name: ogb_evaluate(name, *args) for name, args in cases.items()}
    monkeypatch.setitem(__import__("sys").modules, "ogb.nodeproppred", None)
    for name, args in cases.items():
        assert ogb_evaluate(name, *args) == pytest.approx(with_ogb[name])


def test_metadata_matches_ogb_master_csv():
    pd = pytest.importorskip("pandas")
    ogb = pytest.importorskip("ogb")
    from graphbias.data.datasets import _OGB_NODE

    master = pd.read_csv(Path(ogb.__file__).parent / "nodeproppred" / "master.csv",
                         index_col=0, keep_default_na=False)
    assert set(_OGB_NODE) == set(master.columns)
    for name, meta in _OGB_NODE.items():
        info = master[name]
        assert meta.add_inverse_edge == (info["add_inverse_edge"] == "True")
        assert (meta.metric, meta.num_tasks, meta.download) == \
            (info["eval metric"], int(info["num tasks"]), info["download_name"])


# ------------------------------------------------------------------- discovery

@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared data folder {SHARED} is absent")
def test_available_datasets_shared():
    found = {(d["name"], d["kind"]) for d in available_datasets(SHARED)}
    assert ("cora", "planetoid") in found
    assert ("los-loop", "traffic") in found and ("CAL500", "multilabel") in found


def test_available_datasets_tmp(tmp_path):
    assert available_datasets(tmp_path) == []
    write_planetoid(tmp_path / "planetoid", "pubmed")
    shutil.copytree(FIXTURES / "ogbn_tiny", tmp_path / "ogb" / "ogbn_tiny")
    (tmp_path / "multilabel").mkdir()
    (tmp_path / "multilabel" / "yeast.arff").touch()
    assert available_datasets(tmp_path) == [
        {"name": "pubmed", "kind": "planetoid", "path": str(tmp_path / "planetoid")},
        {"name": "ogbn-tiny", "kind": "ogb-node", "path": str(tmp_path / "ogb" / "ogbn_tiny")},
        {"name": "yeast", "kind": "multilabel",
         "path": str(tmp_path / "multilabel" / "yeast.arff")},
    ]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        available_datasets(tmp_path / "nope")
