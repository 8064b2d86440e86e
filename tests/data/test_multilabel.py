from pathlib import Path

import numpy as np
import pytest

from river import stream as river_stream

from graphbias.data.multilabel import (MultiLabelStream, find_cal500, load_cal500,
                                       load_yeast, read_arff, typed_rows, write_arff)
from graphbias.data.synthetic.multilabel import multilabel_stream, sparse_multilabel_stream

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

HEADER = """% a comment
@relation 'toy: -C {c}'

{attrs}

@data
"""


def _write(tmp_path, c, attrs, rows, name="toy.arff"):
    text = HEADER.format(c=c, attrs="\n".join(attrs)) + "\n".join(rows) + "\n"
    path = tmp_path / name
    path.write_text(text)
    return path


LABELS_FIRST = ["@attribute l1 {0,1}", "@attribute 'l 2' {0,1}", "@attribute f1 numeric",
                "@attribute f2 real"]
LABELS_LAST = ["@attribute f1 numeric", "@attribute f2 numeric", "@attribute l1 {0,1}",
               "@attribute l2 {0,1}"]


def test_labels_first(tmp_path):
    s = read_arff(_write(tmp_path, 2, LABELS_FIRST, ["1,0,0.5,2", "0,1,-1,3e-1"]))
    assert s.label_names == ["l1", "l 2"] and s.feature_names == ["f1", "f2"]
    np.testing.assert_array_equal(s.Y, [[True, False], [False, True]])
    np.testing.assert_allclose(s.X, [[0.5, 2.0], [-1.0, 0.3]])
    x, y = next(iter(s))
    assert x == {"f1": 0.5, "f2": 2.0} and y == {"l1": True, "l 2": False}
    assert s.name == "toy"


def test_negative_c_means_labels_last_as_in_meka(tmp_path):
    s = read_arff(_write(tmp_path, -2, LABELS_LAST, ["0.5,2,1,0"]))
    assert s.label_names == ["l1", "l2"] and s.Y.tolist() == [[True, False]]


def test_n_labels_and_label_names_override_the_relation(tmp_path):
    path = _write(tmp_path, 2, LABELS_LAST, ["0.5,2,1,0"])
    assert read_arff(path, n_labels=2, labels_first=False).label_names == ["l1", "l2"]
    assert read_arff(path, label_names=["l2"]).feature_names == ["f1", "f2", "l1"]


def test_sparse_rows(tmp_path):
    s = read_arff(_write(tmp_path, -2, LABELS_LAST, ["{0 1.5,3 1}", "{}"]))
    np.testing.assert_allclose(s.X, [[1.5, 0.0], [0.0, 0.0]])
    assert s.Y.tolist() == [[False, True], [False, False]]


@pytest.mark.parametrize("attrs, rows, match", [
    (LABELS_FIRST, ["1,0,0.5"], "line 10: expected 4 comma-separated values"),
    (LABELS_FIRST, ["1,0,abc,1"], "line 10: a value of a numeric attribute is not a number"),
    (LABELS_FIRST, ["2,0,1,1"], "line 10: Data value 2 not found in nominal declaration"),
    (LABELS_FIRST, ["1,0,?,1"], "line 10: missing value '\\?' for 'f1'"),
    (LABELS_LAST[:3] + ["@attribute l2 numeric"], ["1,2,1,0", "1,2,1,5"],
     "line 11: label 'l2' is 5, not 0/1"),
    (LABELS_FIRST, ["{0 1,9 1}"], "line 10: .*sparse 'index value' entries with indices "
                                  "below 4"),
    (LABELS_FIRST, ["{0 1"], "line 10: cannot parse this line"),
    (LABELS_FIRST[:3] + ["@attribute f2 string"], ["1,0,1,a"],
     "line 7: attribute type 'STRING' of 'f2' not supported"),
    (LABELS_FIRST, ["1,0,inf,1"], "line 10: value inf of 'f1' is not finite"),
    (LABELS_FIRST, ["1,0,1,-Infinity"], "line 10: value -inf of 'f2' is not finite"),
    (LABELS_FIRST, ["1,0,nan,1"], "line 10: value nan of 'f1' is not finite"),
    (LABELS_FIRST, ["1,0,1e400,1"], "line 10: value inf of 'f1' is not finite"),
    (LABELS_FIRST[:2] + ["@attribute l1 numeric", "@attribute f2 real"], ["1,0,1,1"],
     "line 6: attribute 'l1' is declared twice \\(first on line 4\\)"),
    (LABELS_FIRST, ["1,0,'0.5,1"], "line 10: cannot parse this line \\(an unterminated "
                                   "quote"),
    (LABELS_FIRST[:2] + ["@attribute 'f1 numeric", "@attribute f2 real"], ["1,0,1,1"],
     "line 6: unterminated quote in the attribute name"),
    (LABELS_FIRST[:3] + ["@attribute f2 integer"], ["1,0,1,2.5"],
     "line 10: 'f2' is an INTEGER attribute but holds 2.5"),
])
def test_malformed_files_name_file_and_line(tmp_path, attrs, rows, match):
    c = -2 if attrs[0].startswith("@attribute f1") else 2
    path = _write(tmp_path, c, attrs, rows)
    with pytest.raises(ValueError, match=match) as err:
        read_arff(path)
    assert str(path) in str(err.value)


def test_missing_label_count_or_data(tmp_path):
    path = tmp_path / "nolabels.arff"
    path.write_text("@relation toy\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n")
    with pytest.raises(ValueError, match="-C n"):
        read_arff(path)
    path.write_text("@relation 'toy: -C 1'\n@attribute a {0,1}\n@attribute b numeric\n")
    with pytest.raises(ValueError, match="line 3: no @data section"):
        read_arff(path)
    with pytest.raises(FileNotFoundError):
        read_arff(tmp_path / "absent.arff")
    with pytest.raises(FileNotFoundError, match="CAL500"):
        load_cal500(tmp_path)


def test_yeast_from_river_offline():
    s = load_yeast()
    assert s.X.shape == (2417, 103) and s.Y.shape == (2417, 14)
    assert s.head(10).X.shape == (10, 103)


def test_cal500():
    root = SHARED / "multilabel" / "CAL500.arff"
    if not root.is_file():
        pytest.skip(f"CAL500.arff not found at {root}")
    assert find_cal500(SHARED) == find_cal500(root.parent) == root
    s = load_cal500(SHARED)
    assert s.X.shape == (502, 68) and s.Y.shape == (502, 174)
    assert s.label_names[0] == "Angry-Agressive"
    assert 0.1 < s.Y.mean() < 0.2


def test_synthetic_stream_correlation_and_drift():
    s = multilabel_stream(6000, n_labels=9, n_groups=3, correlation=0.9, density=0.3,
                          drift_points=[3000], seed=0)
    assert s.X.shape == (6000, 10) and abs(s.Y.mean() - 0.3) < 0.05
    for part, groups in ((s.Y[:3000], s.info["groups"][0]), (s.Y[3000:], s.info["groups"][1])):
        corr = np.corrcoef(part.T)
        same = groups[:, None] == groups[None, :]
        off = ~np.eye(9, dtype=bool)
        assert corr[same & off].mean() > 0.5 > 0.2 > corr[~same].mean()
    assert not np.array_equal(s.info["groups"][0], s.info["groups"][1])
    independent = multilabel_stream(3000, n_labels=9, n_groups=3, correlation=0.0, seed=0)
    assert np.abs(np.corrcoef(independent.Y.T)[~np.eye(9, dtype=bool)]).mean() < 0.2
    np.testing.assert_array_equal(multilabel_stream(50, seed=3).Y, multilabel_stream(50, seed=3).Y)


@pytest.mark.parametrize("kwargs", [{"n_groups": 0}, {"correlation": 1.5}, {"density": 1.0},
                                    {"drift_points": [0]}, {"n_samples": 0}])
def test_synthetic_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        multilabel_stream(**{"n_samples": 100, **kwargs})


# ------------------------------------------------------------------ sparse streams
def _jaccard(Y):
    inter = Y.T.astype(int) @ Y.astype(int)
    occ = np.diag(inter)
    return inter / np.maximum(occ[:, None] + occ[None, :] - inter, 1)


def test_sparse_stream_properties():
    s = sparse_multilabel_stream(4000, n_features=1800, n_labels=150, n_topics=30,
                                 drift_points=[2000], seed=0)
    assert s.X.shape == (4000, 1800) and s.Y.shape == (4000, 150)
    words = np.diff(s.X.indptr)
    assert 1 <= words.min() and 5 < words.mean() < 9           # a few words each
    assert 0.01 < s.Y.mean() < 0.06 and s.Y.any(axis=1).all()
    for part, groups in ((s.Y[:2000], s.info["groups"][0]), (s.Y[2000:], s.info["groups"][1])):
        J = _jaccard(part)
        same = (groups[:, None] == groups[None, :]) & ~np.eye(150, dtype=bool)
        assert J[same].mean() > 0.3 > 0.02 > J[~same & ~np.eye(150, dtype=bool)].mean()
    assert not np.array_equal(s.info["groups"][0], s.info["groups"][1])
    # topic words say which labels: instances of one topic share its group's labels
    topic0 = s.info["topics"][:2000] == 0
    group0 = s.info["groups"][0] == 0
    assert s.Y[:2000][topic0][:, group0].mean() > 0.5
    again = sparse_multilabel_stream(4000, n_features=1800, n_labels=150, n_topics=30,
                                     drift_points=[2000], seed=0)
    assert (again.X != s.X).nnz == 0 and np.array_equal(again.Y, s.Y)


def test_sparse_stream_iterates_stored_entries_only():
    s = sparse_multilabel_stream(50, n_features=300, n_labels=20, n_topics=5, seed=1)
    for i, (x, y) in enumerate(s):
        row = s.X[[i]]
        assert x == {f"w{j}": v for j, v in zip(row.indices, row.data)}
        assert len(y) == 20 and sum(y.values()) == s.Y[i].sum()
    assert len(s.head(10)) == 10 and s.head(10).X.shape == (10, 300)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_topics": 0}, "n_topics must be an integer >= 1"),
    ({"n_features": 10, "n_topics": 6}, r"n_features must be an integer >= 12"),
    ({"n_labels": 5, "n_topics": 6}, r"n_labels must be an integer >= 6"),
    ({"words": 0.5}, "words must be a real number"), ({"background": 1.0}, "background"),
    ({"label_rate": 0.0}, "label_rate"), ({"drift_points": [100]}, "drift_points"),
])
def test_sparse_stream_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sparse_multilabel_stream(**{"n_samples": 100, **kwargs})


def test_write_arff_dense_round_trip(tmp_path):
    s = multilabel_stream(30, n_features=4, n_labels=3, seed=2)
    back = read_arff(write_arff(s, tmp_path / "dense.arff"))
    np.testing.assert_array_equal(back.X, s.X)
    np.testing.assert_array_equal(back.Y, s.Y)
    assert back.label_names == s.label_names and back.name == "synthetic"


def test_write_arff_sparse_round_trip_through_ours_and_rivers_reader(tmp_path):
    s = sparse_multilabel_stream(200, n_features=300, n_labels=20, n_topics=5, seed=3)
    s.Y[7] = False                                    # a row with no label on
    path = write_arff(s, tmp_path / "bow.arff")
    assert "{" in path.read_text().splitlines()[-1]
    back = read_arff(path)
    np.testing.assert_array_equal(back.X, s.X.toarray())
    np.testing.assert_array_equal(back.Y, s.Y)
    rows = list(typed_rows(river_stream.iter_arff(path, target=s.label_names, sparse=True)))
    assert rows == list(s)


def test_typed_rows_errors():
    with pytest.raises(ValueError, match="row 1: feature 'a' = 'x' is not a number"):
        list(typed_rows([({"a": "1"}, {}), ({"a": "x"}, {})]))
    with pytest.raises(ValueError, match="row 0: label 'l' = '2' is not 0/1"):
        list(typed_rows([({}, {"l": "2"})]))


def test_write_arff_refuses_names_it_cannot_quote(tmp_path):
    s = MultiLabelStream(np.zeros((1, 1)), np.zeros((1, 1), bool), ["it's"], ["l"])
    with pytest.raises(ValueError, match="cannot be written"):
        write_arff(s, tmp_path / "bad.arff")
