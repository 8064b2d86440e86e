"""Multi-label streams: a MULAN / MEKA ARFF reader and writer, River's Yeast, CAL500.

Every stream yields ``(x, y)`` pairs as River does: ``x`` a ``dict`` of feature
name -> float and ``y`` a ``dict`` of every label name -> bool. A stream whose
features are a ``scipy.sparse`` matrix (bag-of-words, say) yields in ``x`` only the
features an instance carries (its non-zero entries).

:func:`write_arff` writes a stream as MULAN / MEKA ARFF, dense or sparse; River's
:func:`river.stream.iter_arff` reads it back, and :func:`typed_rows` turns the
strings it yields for sparse rows and nominal labels into numbers and bools.

ARFF label layout (:func:`read_arff`):

- MEKA writes the number of labels into the relation name, ``@relation 'name: -C 6'``;
  a positive ``-C n`` means the first ``n`` attributes are labels, a negative one
  (``-C -6``) the last ``n``.
- MULAN keeps the label names in a separate XML file; pass ``n_labels`` (with
  ``labels_first``) or ``label_names`` instead.

The ARFF syntax (quoting, dense and sparse ``{index value, ...}`` rows, nominal
declarations) is parsed by liac-arff; label attributes must be nominal ``{0,1}`` (or
numeric holding 0/1). A malformed file, a repeated attribute name or a value that
is missing or not finite raises ``ValueError`` naming the file and the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import numpy as np
import scipy.sparse as sp

from .._optional import require

__all__ = ["MultiLabelStream", "read_arff", "write_arff", "typed_rows", "load_cal500",
           "load_yeast", "iter_stream", "find_cal500"]

PathLike = Union[str, Path]

_RELATION_C = re.compile(r"-C\s+(-?\d+)")
_QUOTED_NAME = re.compile(r"""(['"])(?:\\.|(?!\1).)*\1\s""")
_LIAC_LINE = re.compile(r",? (?:at|in) line -?\d+\.?")  # liac-arff's own line mention


@dataclass
class MultiLabelStream:
    """A multi-label data set held in memory and read as a stream.

    ``X`` is ``(n, d)`` float, dense or a ``scipy.sparse`` matrix (kept as CSR), ``Y``
    is ``(n, L)`` bool; iterating yields ``(x: dict, y: dict)`` in row order, ``x``
    holding only the stored entries of a sparse ``X``. ``info`` holds generator
    metadata (e.g. the true label groups of a synthetic stream).
    """

    X: Union[np.ndarray, sp.csr_array]
    Y: np.ndarray
    feature_names: list[str]
    label_names: list[str]
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if sp.issparse(self.X):
            self.X = sp.csr_array(self.X, dtype=float)
        if self.X.ndim != 2 or self.Y.ndim != 2 or self.X.shape[0] != len(self.Y):
            raise ValueError(f"X {self.X.shape} and Y {self.Y.shape} must be 2-D with "
                             "the same number of rows")
        if self.X.shape[1] != len(self.feature_names) or \
                self.Y.shape[1] != len(self.label_names):
            raise ValueError("feature_names / label_names do not match the columns")

    def __len__(self) -> int:
        return self.X.shape[0]

    def __iter__(self) -> Iterator[tuple[dict, dict]]:
        return iter_stream(self.X, self.Y, self.feature_names, self.label_names)

    def head(self, n: int) -> "MultiLabelStream":
        """The first ``n`` instances (a prefix of the stream)."""
        return MultiLabelStream(self.X[:n], self.Y[:n], self.feature_names,
                                self.label_names, self.name, self.info)

    @property
    def n_labels(self) -> int:
        return self.Y.shape[1]


def iter_stream(X: Union[np.ndarray, sp.csr_array], Y: np.ndarray, feature_names: Sequence,
                label_names: Sequence) -> Iterator[tuple[dict, dict]]:
    """Yields ``(x, y)`` dicts row by row from arrays; for a sparse (CSR) ``X``, ``x``
    holds the row's stored entries only."""
    if not sp.issparse(X):
        for xr, yr in zip(X, Y):
            yield (dict(zip(feature_names, map(float, xr))),
                   dict(zip(label_names, map(bool, yr))))
        return
    names = np.asarray(feature_names, dtype=object)
    for i, yr in enumerate(Y):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        yield (dict(zip(names[X.indices[lo:hi]], map(float, X.data[lo:hi]))),
               dict(zip(label_names, map(bool, yr))))


def typed_rows(rows: Iterable[tuple[dict, Any]]) -> Iterator[tuple[dict, dict]]:
    """River's ARFF rows with numbers and bools for the strings it yields.

    :func:`river.stream.iter_arff` yields the values of a sparse row as strings
    (``'0.5'``) and nominal labels as ``'0'``/``'1'`` (an absent sparse label as
    ``0``); River's multi-output metrics would then not match a label ``'1'`` with a
    predicted ``True``.

    Parameters
    ----------
    rows : iterable of (dict, dict)
        ``(x, y)`` pairs such as ``river.stream.iter_arff(path, target=labels,
        sparse=True)`` yields.

    Yields
    ------
    tuple of (dict, dict)
        ``x`` with float values, ``y`` with bool values.

    Raises
    ------
    ValueError
        A feature value that is not a number or a label other than 0/1, naming it.

    Examples
    --------
    >>> next(typed_rows([({"a": "0.5"}, {"l1": "1", "l2": 0})]))
    ({'a': 0.5}, {'l1': True, 'l2': False})
    """
    for n, (x, y) in enumerate(rows):
        try:
            xf = {k: float(v) for k, v in x.items()}
        except (TypeError, ValueError):
            bad = next(k for k, v in x.items() if not _is_number(v))
            raise ValueError(f"row {n}: feature {bad!r} = {x[bad]!r} is not a number") \
                from None
        yb = {}
        for k, v in y.items():
            if str(v).strip() not in ("0", "1", "0.0", "1.0", "True", "False"):
                raise ValueError(f"row {n}: label {k!r} = {v!r} is not 0/1")
            yb[k] = str(v).strip() in ("1", "1.0", "True")
        yield xf, yb


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _arff_name(name: Any) -> str:
    """An attribute name for an ARFF header, quoted when it needs to be."""
    text = str(name)
    if re.fullmatch(r"[A-Za-z_][\w.\-]*", text):
        return text
    if "'" in text or "\n" in text:
        raise ValueError(f"attribute name {text!r} cannot be written to ARFF (a quote "
                         "or a line break)")
    return f"'{text}'"


def write_arff(stream: MultiLabelStream, path: PathLike, *,
               sparse: Optional[bool] = None) -> Path:
    """Writes a stream as a MULAN / MEKA multi-label ARFF file.

    The labels come first, as nominal ``{0,1}`` attributes, then the numeric
    features; the relation ``'name: -C L'`` says how many labels lead (MEKA's
    convention, read by :func:`read_arff`). Sparse rows list ``index value`` pairs
    (0-based attribute indices, ascending, no space after the commas, so that
    :func:`river.stream.iter_arff` with ``sparse=True`` reads them) and leave zeros
    out; a row with nothing on is written as one zero-valued first attribute
    (``{0 0}``), since River's reader cannot parse an empty ``{}``.

    Parameters
    ----------
    stream : MultiLabelStream
        The data.
    path : str or path-like
        The file to write.
    sparse : bool, default=None
        Sparse rows (default: when ``stream.X`` is sparse).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> s = MultiLabelStream(np.array([[0.0, 2.5]]), np.array([[True, False]]),
    ...                      ["f0", "f1"], ["a", "b"], "toy")
    >>> p = write_arff(s, pathlib.Path(tempfile.mkdtemp(), "toy.arff"), sparse=True)
    >>> p.read_text().splitlines()[-1]
    '{0 1,3 2.5}'
    >>> read_arff(p).X.tolist()
    [[0.0, 2.5]]
    """
    path = Path(path)
    sparse = sp.issparse(stream.X) if sparse is None else sparse
    L = stream.n_labels
    relation = f"{stream.name or path.stem}: -C {L}"
    lines = [f"@relation '{relation}'", ""]
    lines += [f"@attribute {_arff_name(n)} {{0,1}}" for n in stream.label_names]
    lines += [f"@attribute {_arff_name(n)} numeric" for n in stream.feature_names]
    lines += ["", "@data"]
    X = sp.csr_array(stream.X) if sparse else stream.X
    with path.open("w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        for i, labels in enumerate(stream.Y):
            if sparse:
                lo, hi = X.indptr[i], X.indptr[i + 1]
                entries = [f"{j} 1" for j in np.flatnonzero(labels)]
                entries += [f"{L + j} {v!r}" for j, v in
                            zip(X.indices[lo:hi].tolist(), X.data[lo:hi].tolist()) if v != 0]
                fh.write("{" + (",".join(entries) or "0 0") + "}\n")
            else:
                fh.write(",".join([str(int(b)) for b in labels] +
                                  [repr(float(v)) for v in X[i]]) + "\n")
    return path


def _liac_arff() -> Any:
    try:
        import arff
    except ImportError:
        arff = None
    if arff is None or not hasattr(arff, "ArffDecoder"):
        raise ImportError("reading ARFF files needs liac-arff: pip install liac-arff "
                          "(a different package also named 'arff' does not do)")
    return arff


class _Lines:
    """The file's lines, counting them, so errors can name the line being read."""

    def __init__(self, path: Path) -> None:
        self.path, self.number, self.text, self.at_end = path, 0, "", False

    def __iter__(self) -> Iterator[str]:
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            for self.number, self.text in enumerate(fh, 1):
                yield self.text
        self.at_end = True

    def error(self, message: str) -> ValueError:
        return ValueError(f"{self.path}, line {self.number}: {message}")


def _decoder(arff: Any, lines: _Lines) -> Any:
    """liac-arff's decoder, stricter about attributes: a repeated name, a type other
    than numeric or nominal, and (because liac-arff truncates INTEGER values) integer
    attributes are handled here; the latter are read as REAL and checked later."""

    class Decoder(arff.ArffDecoder):
        def __init__(self) -> None:
            super().__init__()
            self.first_line: dict[str, int] = {}
            self.integer: set[str] = set()

        def _decode_attribute(self, s: str) -> tuple:
            declared = s.split(None, 1)[-1].lstrip()
            if declared[:1] in ("'", '"') and not _QUOTED_NAME.match(declared):
                raise lines.error(f"unterminated quote in the attribute name: {s!r:.80}")
            name, kind = super()._decode_attribute(s)
            if name in self.first_line:
                raise lines.error(f"attribute {name!r} is declared twice (first on line "
                                  f"{self.first_line[name]}); each label and feature "
                                  "needs its own name")
            self.first_line[name] = lines.number
            if kind == "INTEGER":
                self.integer.add(name)
                kind = "REAL"
            elif kind == "STRING":
                raise lines.error(f"attribute type {kind!r} of {name!r} not supported "
                                  "(numeric or nominal only)")
            return name, kind

    return Decoder()


def _nominal_codes(values: list[str]) -> dict[str, float]:
    """A nominal value's number: the value itself when numeric (``{0,1}`` labels),
    else its position in the declaration."""
    codes = {}
    for i, token in enumerate(values):
        try:
            codes[token] = float(token)
        except ValueError:
            codes[token] = float(i)
    return codes


def _row(values: list, attrs: list[tuple[str, Any]], codes: list, integer: set,
         lines: _Lines) -> np.ndarray:
    out = np.empty(len(values))
    for j, ((name, _), value) in enumerate(zip(attrs, values)):
        if value is None:
            raise lines.error(f"missing value '?' for {name!r} (not supported)")
        number = codes[j][value] if codes[j] is not None else float(value)
        if not np.isfinite(number):
            raise lines.error(f"value {value!r} of {name!r} is not finite")
        if name in integer and number != round(number):
            raise lines.error(f"{name!r} is an INTEGER attribute but holds {value!r}")
        out[j] = number
    return out


def _explain(err: Exception, arff: Any, lines: _Lines, n_attrs: int) -> str:
    """liac-arff's error, said with what the row or header needed."""
    if isinstance(err, arff.BadDataFormat):
        return (f"expected {n_attrs} comma-separated values, or sparse 'index value' "
                f"entries with indices below {n_attrs}")
    if isinstance(err, arff.BadNumericalValue):
        return "a value of a numeric attribute is not a number"
    if isinstance(err, arff.BadLayout):
        if lines.at_end:
            return "no @data section"
        return ("cannot parse this line (an unterminated quote, unbalanced braces or a "
                "declaration out of place)")
    err.line = lines.number
    return _LIAC_LINE.sub("", str(err))


def _read_rows(path: Path) -> tuple[str, list[tuple[str, Any]], np.ndarray, list[int]]:
    """The relation, the attributes, the data (dense or sparse rows) and each row's
    line number, read with liac-arff; every problem raises ``ValueError`` naming the
    line."""
    arff = _liac_arff()
    lines = _Lines(path)
    decoder = _decoder(arff, lines)
    attrs: list = []
    rows, row_lines = [], []
    try:
        parsed = decoder.decode(lines, return_type=arff.DENSE_GEN)
        attrs = parsed["attributes"]
        codes = [None if isinstance(kind, str) else _nominal_codes(kind)
                 for _, kind in attrs]
        for values in parsed["data"]:
            rows.append(_row(values, attrs, codes, decoder.integer, lines))
            row_lines.append(lines.number)
    except arff.ArffException as err:
        message = _explain(err, arff, lines, len(attrs))
        raise lines.error(f"{message}: {lines.text.strip()[:80]!r}") from None
    data = np.array(rows).reshape(len(rows), len(attrs))
    return parsed["relation"], attrs, data, row_lines


def read_arff(path: PathLike, *, n_labels: Optional[int] = None, labels_first: bool = True,
              label_names: Optional[Sequence[str]] = None) -> MultiLabelStream:
    """Reads a MULAN / MEKA multi-label ARFF file (dense or sparse rows).

    Parsing is liac-arff's (quoting, sparse ``{index value}`` rows, nominal
    declarations); this function finds the labels, in this order, from
    ``label_names``, from ``n_labels`` (the first or, with ``labels_first=False``,
    the last attributes) or from ``-C n`` in the relation name (negative ``n``: the
    last ``|n|`` attributes, as MEKA writes). Features must be numeric (nominal
    features are coded by their value when numeric, else by their position).

    Parameters
    ----------
    path : str or path-like
        The ARFF file.
    n_labels : int, default=None
        Number of label attributes (MULAN keeps it in a separate XML file).
    labels_first : bool, default=True
        With ``n_labels``: labels are the first attributes, else the last.
    label_names : sequence of str, default=None
        The label attributes by name (overrides ``n_labels`` and ``-C``).

    Returns
    -------
    MultiLabelStream
        ``X`` float ``(n, d)``, ``Y`` bool ``(n, L)``, the names, and the relation
        name (before any ``:``) as ``name``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Naming the file and the line: a malformed header or row (unterminated
        quotes, wrong number of values, sparse index out of range), an attribute
        declared twice, a string attribute, a missing value ``?``, a value that is
        not finite (``inf``, ``nan``), a non-integer value of an INTEGER
        attribute, a label that is not 0/1, or no way to tell the labels.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp(), "toy.arff")
    >>> _ = path.write_text("@relation 'toy: -C 1'\\n@attribute tag {0,1}\\n"
    ...                     "@attribute size numeric\\n@data\\n1,0.5\\n{1 2}\\n")
    >>> s = read_arff(path)
    >>> s.label_names, s.Y.tolist(), s.X.tolist()
    (['tag'], [[True], [False]], [[0.5], [2.0]])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ARFF file {path} not found")
    relation, attrs, data, row_lines = _read_rows(path)
    names = [name for name, _ in attrs]
    label_idx = _label_columns(path, names, relation, n_labels, labels_first, label_names)
    for j in label_idx:
        bad = ~np.isin(data[:, j], (0.0, 1.0))
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{path}, line {row_lines[row]}: label {names[j]!r} is "
                             f"{data[row, j]:g}, not 0/1")
    feat_idx = [j for j in range(len(names)) if j not in set(label_idx)]
    return MultiLabelStream(data[:, feat_idx].astype(float), data[:, label_idx] == 1.0,
                            [names[j] for j in feat_idx], [names[j] for j in label_idx],
                            relation.split(":")[0].strip() or path.stem)


def _label_columns(path: Path, names: list[str], relation: str, n_labels: Optional[int],
                   labels_first: bool, label_names: Optional[Sequence[str]]) -> list[int]:
    if label_names is not None:
        missing = [n for n in label_names if n not in names]
        if missing:
            raise ValueError(f"{path}: label attributes {missing} not in the header")
        return [names.index(n) for n in label_names]
    if n_labels is None:
        m = _RELATION_C.search(relation)
        if m is None:
            raise ValueError(f"{path}: relation {relation!r} has no '-C n'; pass "
                             "n_labels or label_names")
        c = int(m.group(1))
        n_labels, labels_first = abs(c), c > 0
    if not 0 < n_labels < len(names):
        raise ValueError(f"{path}: {n_labels} labels but {len(names)} attributes")
    return list(range(n_labels)) if labels_first else \
        list(range(len(names) - n_labels, len(names)))


def find_cal500(root: PathLike) -> Optional[Path]:
    """``CAL500.arff`` under ``root``, ``root/multilabel`` or ``root`` itself (a file)."""
    root = Path(root)
    for p in (root, root / "CAL500.arff", root / "multilabel" / "CAL500.arff"):
        if p.is_file():
            return p
    return None


def load_cal500(root: PathLike) -> MultiLabelStream:
    """CAL500 (502 songs, 68 audio features, 174 labels) from its MULAN ARFF file.

    ``root`` is the file, its folder or a data root holding ``multilabel/CAL500.arff``.
    """
    path = find_cal500(root)
    if path is None:
        raise FileNotFoundError(f"CAL500.arff not found under {root}: get it from the "
                                "MULAN / MEKA multi-label repository")
    return read_arff(path)


def load_yeast() -> MultiLabelStream:
    """Yeast (2,417 genes, 103 features, 14 labels), shipped inside River: offline."""
    datasets = require("river.datasets", "stream", "load_yeast")

    X, Y, fnames, lnames = [], [], None, None
    for x, y in datasets.Yeast():
        if fnames is None:
            fnames, lnames = list(x), list(y)
        X.append([x[f] for f in fnames])
        Y.append([bool(y[lab]) for lab in lnames])
    return MultiLabelStream(np.asarray(X, float), np.asarray(Y, bool), fnames, lnames,
                            "yeast")
