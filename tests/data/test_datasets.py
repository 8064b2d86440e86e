"""Offline dataset loaders: Planetoid (against PyG), OGB raw format (against ogb).

The committed fixture ``tests/fixtures/ogb/ogbn_tiny`` is ``write_ogb_node(FIXTURES,
"ogbn-tiny", tiny_graph())``; ``test_ogb_fixture_is_reproducible`` checks that.
"""
from __future__ import annotations

import codecs
import collections
import gzip
import os
import pickle
import shutil
import subprocess
import sys
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
    with pytest.raises(ValueError, match="ind.cora.ty: not a readable pickle"):
        load_planetoid(tmp_path, "cora")
    write_planetoid(tmp_path, "cora")
    (tmp_path / "ind.cora.test.index").write_text("512\nfive\n")
    with pytest.raises(ValueError, match="ind.cora.test.index, line 2"):
        load_planetoid(tmp_path, "cora")


# ------------------------------------------------- Planetoid files that lie or corrupt

class Forged:
    """Pickles as ``func(*args)``, then BUILD with ``state`` (when given): lets a test
    write the files a malicious or corrupt source would, with real numpy globals."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else \
            (self.func, self.args, self.state)


RECONSTRUCT = np.empty(0).__reduce__()[0]
SCALAR = np.int64(0).__reduce__()[0]


def forged_dtype(typestr, byteorder="|", flags=0, fields=None):
    return Forged(np.dtype, (typestr, False, True),
                  (3, byteorder, None, None, fields, -1, -1, flags))


def forged_array(shape, dtype, raw, version=1, fortran=False):
    return Forged(RECONSTRUCT, (np.ndarray, (0,), b"b"), (version, shape, dtype, fortran, raw))


def forged_csr(**state):
    """A csr_matrix whose pickled ``__dict__`` is exactly ``state``."""
    m = sp.csr_matrix((1, 1))
    m.__dict__.clear()
    m.__dict__.update(state)
    return m


def lying_label_csr():
    """The label matrix of a crafted ind.cora.y: one column id of 2**30 and an indptr
    and shape that claim 140 x 7, so ``toarray()`` would write out of bounds."""
    m = sp.csr_matrix(np.eye(2, dtype=np.float32))
    m.indices, m.indptr, m.data, m._shape = (
        np.array([2**30], np.int32), np.array([0] + [1] * 140, np.int32),
        np.array([1.0], np.float32), (140, 7))
    return m


# numpy.dtype('O8') with its flags cleared by BUILD, then an object array whose only
# element is the bogus pointer 0x4141414141414141, under node 0 of the graph dict.
OBJECT_ARRAY_GRAPH = (
    b"\x80\x02}K\x00cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
    b"K\x00\x85U\x01b\x87R(K\x01K\x01\x85cnumpy\ndtype\nU\x02O8K\x00K\x01\x87R"
    b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x08AAAAAAAAtbs.")

EIGHT = np.arange(8, dtype=np.int32).tobytes()
CSR_PARTS = dict(data=np.ones(2, np.float32), indices=np.array([0, 5], np.int32),
                 indptr=np.array([0, 1, 2], np.int32))


def crafted_files():
    """Files that must all be refused with a ValueError: ``name -> (part, bytes)``."""
    dumps = lambda obj: pickle.dumps(obj, protocol=4)  # noqa: E731
    label = lambda dtype, raw, shape=(2, 4): dumps(forged_array(shape, dtype, raw))  # noqa: E731
    f4 = forged_dtype("f4", "<")
    files = {
        "lying-label-csr": ("y", dumps(lying_label_csr())),
        "object-array-graph": ("graph", OBJECT_ARRAY_GRAPH),
        "object-dtype": ("y", label(forged_dtype("O8"), b"A" * 64)),
        "void-dtype": ("y", label(forged_dtype("V4"), EIGHT)),
        "unicode-dtype": ("y", label(forged_dtype("U1"), EIGHT)),
        "datetime-dtype": ("y", label(forged_dtype("M8", "<"), EIGHT * 2)),
        "complex-dtype": ("y", label(forged_dtype("c8", "<"), EIGHT * 2)),
        "dtype-flags-set": ("y", label(forged_dtype("f4", "<", flags=63), EIGHT)),
        "dtype-fields-set": ("y", label(forged_dtype("f4", "<", fields={"a": 1}), EIGHT)),
        "short-data": ("y", label(f4, EIGHT[:-4])),
        "long-data": ("y", label(f4, EIGHT + b"1234")),
        "huge-shape": ("y", label(f4, EIGHT, (2**40, 2**40))),
        "negative-shape": ("y", label(f4, EIGHT, (-2, -4))),
        "3d-shape": ("y", label(f4, EIGHT, (2, 2, 2))),
        "list-shape": ("y", label(f4, EIGHT, [2, 4])),
        "array-state-version": ("y", dumps(forged_array((2, 4), f4, EIGHT, version=2))),
        "fortran-not-bool": ("y", dumps(forged_array((2, 4), f4, EIGHT, fortran=1))),
        "csr-index-out-of-range": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "indices": np.array([0, 2**30], np.int32)}))),
        "csr-negative-index": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "indices": np.array([0, -1], np.int32)}))),
        "csr-indptr-decreasing": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "indptr": np.array([0, 2, 1], np.int32)}))),
        "csr-indptr-short": ("x", dumps(forged_csr(_shape=(5, 6), **CSR_PARTS))),
        "csr-indptr-past-nnz": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "indptr": np.array([0, 1, 9], np.int32)}))),
        "csr-data-short": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "data": np.ones(1, np.float32)}))),
        "csr-huge-shape": ("x", dumps(forged_csr(_shape=(2, 2**40), **CSR_PARTS))),
        "csr-float-indices": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "indices": np.array([0.0, 5.0])}))),
        "csr-object-data": ("x", dumps(forged_csr(_shape=(2, 6), **{
            **CSR_PARTS, "data": forged_array((2,), forged_dtype("O8"), b"A" * 16)}))),
        "csr-no-indptr": ("x", dumps(forged_csr(_shape=(2, 6), data=CSR_PARTS["data"],
                                                indices=CSR_PARTS["indices"]))),
        "codecs-other-encoding": ("x", dumps(Forged(codecs.encode, ("abc", "rot13")))),
        "scalar-object-dtype": ("graph", dumps({0: [Forged(
            SCALAR, (forged_dtype("O8"), b"A" * 8))]})),
        "graph-not-a-dict": ("graph", dumps([[0, 1]])),
        "graph-float-ids": ("graph", dumps({0: [1.5]})),
        "graph-bool-ids": ("graph", dumps({0: [True]})),
        "graph-huge-ids": ("graph", dumps({0: [2**70]})),
        "graph-id-out-of-range": ("graph", dumps({10**12: [0]})),
        "graph-negative-id": ("graph", dumps({0: [-1]})),
        "graph-nested-lists": ("graph", dumps({0: [[1, 2]]})),
        "graph-string-lists": ("graph", dumps({0: "abc"})),
        "graph-self-referencing": ("graph", b"\x80\x02]q\x00h\x00a."),
    }
    for name, text in (("billion", "1000000000"), ("negative", "-3"),
                       ("overflow", "9" * 30)):
        files[f"test-index-{name}"] = ("test.index", ("\n".join(
            map(str, range(510, 520))) + f"\n{text}\n").encode())
    return files


_LOAD_EACH_CASE = """
import resource, sys
from pathlib import Path
from graphbias.data.datasets import load_planetoid
root, cases = Path(sys.argv[1]), sorted(Path(sys.argv[2]).iterdir())
pages = int(Path("/proc/self/statm").read_text().split()[0])
limit = pages * resource.getpagesize() + (2 << 30)  # 2 GiB beyond what is mapped now
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for case in cases:
    name, part = case.name.split("@")
    target = root / ("ind.cora." + part)
    original = target.read_bytes()
    target.write_bytes(case.read_bytes())
    print("start", name, flush=True)
    try:
        load_planetoid(root, "cora")
        outcome = "ok"
    except ValueError:
        outcome = "ValueError"
    except BaseException as err:
        outcome = repr(err)[:300].replace("\\n", " ")
    target.write_bytes(original)
    print("end", name, outcome, flush=True)
"""


def load_isolated(tmp_path, files):
    """Loads a Planetoid folder once per ``name -> (part, bytes)`` in ``files`` (each
    replacing one file of a valid dataset) in a child process whose address space
    is capped 2 GiB above its start, so a crash or a huge allocation fails the test
    instead of the test run; returns ``name -> outcome``."""
    root, cases = tmp_path / "planetoid", tmp_path / "cases"
    write_planetoid(root, "cora")
    cases.mkdir()
    for name, (part, data) in files.items():
        (cases / f"{name}@{part}").write_bytes(data)
    run = subprocess.run([sys.executable, "-c", _LOAD_EACH_CASE, str(root), str(cases)],
                         capture_output=True, text=True, timeout=600)
    outcomes, started = {}, None
    for line in run.stdout.splitlines():
        kind, name, *rest = line.split(" ", 2)
        started = name if kind == "start" else started
        if kind == "end":
            outcomes[name] = rest[0]
    assert run.returncode == 0, (
        f"the loader died (exit {run.returncode}) on case {started!r}: "
        f"{run.stderr[-2000:]}")
    return outcomes


def test_lying_and_forged_pickles_are_refused_cleanly(tmp_path):
    files = crafted_files()
    outcomes = load_isolated(tmp_path, files)
    assert outcomes == dict.fromkeys(files, "ValueError")


def test_lying_label_matrix_names_the_problem(tmp_path):
    write_planetoid(tmp_path, "cora")
    (tmp_path / "ind.cora.y").write_bytes(pickle.dumps(lying_label_csr(), protocol=4))
    with pytest.raises(ValueError, match=r"ind.cora.y: malformed pickle: .*column ids "
                                         r"must lie in \[0, 7\), got \[1073741824"):
        load_planetoid(tmp_path, "cora")


def test_object_dtype_is_refused_before_any_array_exists(tmp_path):
    write_planetoid(tmp_path, "cora")
    (tmp_path / "ind.cora.graph").write_bytes(OBJECT_ARRAY_GRAPH)
    with pytest.raises(UnsafePickleError, match="ind.cora.graph: dtype 'O8' is not allowed"):
        load_planetoid(tmp_path, "cora")


def test_python3_protocol_2_pickles_load_like_protocol_4(tmp_path):
    write_planetoid(tmp_path / "p4", "cora")
    write_planetoid(tmp_path / "p2", "cora")
    for part in PARTS[:-1]:
        path = tmp_path / "p2" / f"ind.cora.{part}"
        blob = pickle.dumps(pickle.loads(path.read_bytes()), protocol=2)
        if part != "graph":
            assert b"_codecs\nencode" in blob  # how Python 3 writes bytes in protocol 2
        path.write_bytes(blob)
    a, b = load_planetoid(tmp_path / "p4", "cora"), load_planetoid(tmp_path / "p2", "cora")
    assert torch.equal(a.x.to_dense(), b.x.to_dense()) and torch.equal(a.y, b.y)
    assert torch.equal(a.edge_index, b.edge_index)


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("sparse_labels", [False, True])
def test_pickle_protocols_and_sparse_labels(tmp_path, protocol, sparse_labels):
    write_planetoid(tmp_path / "ref", "cora")
    ref = load_planetoid(tmp_path / "ref", "cora")
    write_planetoid(tmp_path / "alt", "cora")
    for part in PARTS[:-1]:
        path = tmp_path / "alt" / f"ind.cora.{part}"
        obj = pickle.loads(path.read_bytes())
        if sparse_labels and part in ("y", "ty", "ally"):
            obj = sp.csr_matrix(obj)
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    g = load_planetoid(tmp_path / "alt", "cora")
    assert torch.equal(g.x.to_dense(), ref.x.to_dense()) and torch.equal(g.y, ref.y)


def test_test_index_beyond_what_the_files_hold_is_refused(tmp_path):
    write_planetoid(tmp_path, "cora")
    path = tmp_path / "ind.cora.test.index"
    ids = path.read_text().split()
    path.write_text("\n".join(ids[:-1] + ["1000000000"]) + "\n")
    with pytest.raises(ValueError, match=r"test ids reach 1000000000.*isolated nodes"):
        load_planetoid(tmp_path, "cora")
    path.write_text("\n".join(ids[:-1] + [str(2**40)]) + "\n")
    with pytest.raises(ValueError, match=r"line 10: node id 1099511627776 is outside"):
        load_planetoid(tmp_path, "cora")


def mutations(seed_files, rng, count):
    """``count`` random mutations of the seed pickles: bit flips, bytes set to edge
    values, 32-bit integers overwritten with edge values, chunks deleted, repeated or
    spliced from another seed, truncation, and dtype strings swapped."""
    edge_ints = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**30, 2**16, 255, 7, 140]
    names = list(seed_files)
    for k in range(count):
        part, data = seed_files[names[rng.integers(len(names))]]
        data = bytearray(data)
        for _ in range(rng.integers(1, 4)):
            op, at = rng.integers(8), int(rng.integers(max(1, len(data))))
            if op == 0:
                data[at] ^= 1 << int(rng.integers(8))
            elif op == 1:
                data[at] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF]))
            elif op == 2:
                data[at:at + 4] = int(rng.choice(edge_ints)).to_bytes(4, "little")
            elif op == 3:
                del data[at:at + int(rng.integers(1, 16))]
            elif op == 4:
                data[at:at] = data[at:at + int(rng.integers(1, 16))]
            elif op == 5:
                other = seed_files[names[rng.integers(len(names))]][1]
                cut = int(rng.integers(len(other)))
                data[at:] = other[cut:]
            elif op == 6:
                data = data[:at]
            else:
                for old in (b"f4", b"i4", b"i8", b"b1"):
                    data = data.replace(old, bytes(rng.choice([b"O8", b"V8", b"U2", b"M8",
                                                               b"c8", b"S8"])), 1)
        yield f"mutant-{k:04d}", (part, bytes(data))


def test_loader_fuzz_gives_a_graph_or_a_value_error(tmp_path):
    write_planetoid(tmp_path / "seed", "cora")
    seeds = dict(crafted_files())
    for part in PARTS[:-1]:
        obj = pickle.loads((tmp_path / "seed" / f"ind.cora.{part}").read_bytes())
        for protocol in (2, 4, 5):
            seeds[f"valid-{part}-{protocol}"] = (part, pickle.dumps(obj, protocol=protocol))
    files = dict(mutations(seeds, np.random.default_rng(0), 1000))
    outcomes = load_isolated(tmp_path, files)
    assert set(outcomes) == set(files)
    bad = {name: out for name, out in outcomes.items() if out not in ("ok", "ValueError")}
    assert not bad, bad
    assert sum(out == "ValueError" for out in outcomes.values()) > len(files) // 2


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
    part = rng.choice(4, 300, p=[0.5, 0.2, 0.2, 0.1])  # train, val, test, none
    g = random_graph(0, sparse=sparse, y=rng.integers(-1, 5, 300),
                     train_mask=part == 0, val_mask=part == 1, test_mask=part == 2)
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


def test_overlapping_ogb_splits_are_refused_naming_the_files(tmp_path):
    shutil.copytree(FIXTURES / "ogbn_tiny", tmp_path / "ogbn_tiny")
    split = tmp_path / "ogbn_tiny" / "split" / "random"
    train = gzip.decompress((split / "train.csv.gz").read_bytes()).split()
    test = gzip.decompress((split / "test.csv.gz").read_bytes()).split()
    (split / "test.csv.gz").write_bytes(gzip.compress(b"\n".join(test + train[:2]) + b"\n"))
    first = sorted(int(t) for t in train[:2])
    with pytest.raises(ValueError, match=rf"train.csv.gz and .*test.csv.gz share 2 "
                                         rf"node\(s\) \(first: \{first}\).*disjoint"):
        load_ogb_node(tmp_path, "ogbn-tiny")
    g = tiny_graph()
    val = g.val_mask.clone()
    val[int(g.train_mask.nonzero()[0])] = True
    with pytest.raises(ValueError, match=r"overlap at 1 node\(s\)"):
        write_ogb_node(tmp_path, "ogbn-bad", g.replace(val_mask=val))


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
