"""Multi-label streams: a MULAN / MEKA ARFF reader, River's Yeast and CAL500.

Every stream yields ``(x, y)`` pairs as River does: ``x`` a ``dict`` of feature
name -> float and ``y`` a ``dict`` of label name -> bool.

ARFF label layout (:func:`read_arff`):

- MEKA writes the number of labels into the relation name, ``@relation 'name: -C 6'``;
  a positive ``-C n`` means the first ``n`` attributes are labels, a negative one
  (``-C -6``) the last ``n``.
- MULAN keeps the label names in a separate XML file; pass ``n_labels`` (with
  ``labels_first``) or ``label_names`` instead.

Dense and sparse (``{index value, ...}``) data rows are read; label attributes must be
nominal ``{0,1}`` (or numeric holding 0/1). A malformed file raises ``ValueError``
naming the file and the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import numpy as np

__all__ = ["MultiLabelStream", "read_arff", "load_cal500", "load_yeast", "iter_stream",
           "find_cal500"]

PathLike = Union[str, Path]

_RELATION_C = re.compile(r"-C\s+(-?\d+)")
_ATTRIBUTE = re.compile(r"@attribute\s+('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)\s+(.+)$",
                        re.IGNORECASE)


@dataclass
class MultiLabelStream:
    """A multi-label data set held in memory and read as a stream.

    ``X`` is ``(n, d)`` float, ``Y`` is ``(n, L)`` bool; iterating yields
    ``(x: dict, y: dict)`` in row order. ``info`` holds generator metadata
    (e.g. the true label groups of a synthetic stream).
    """

    X: np.ndarray
    Y: np.ndarray
    feature_names: list[str]
    label_names: list[str]
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.Y.ndim != 2 or len(self.X) != len(self.Y):
            raise ValueError(f"X {self.X.shape} and Y {self.Y.shape} must be 2-D with "
                             "the same number of rows")
        if self.X.shape[1] != len(self.feature_names) or \
                self.Y.shape[1] != len(self.label_names):
            raise ValueError("feature_names / label_names do not match the columns")

    def __len__(self) -> int:
        return len(self.X)

    def __iter__(self) -> Iterator[tuple[dict, dict]]:
        return iter_stream(self.X, self.Y, self.feature_names, self.label_names)

    def head(self, n: int) -> "MultiLabelStream":
        """The first ``n`` instances (a prefix of the stream)."""
        return MultiLabelStream(self.X[:n], self.Y[:n], self.feature_names,
                                self.label_names, self.name, self.info)

    @property
    def n_labels(self) -> int:
        return self.Y.shape[1]


def iter_stream(X: np.ndarray, Y: np.ndarray, feature_names: Sequence,
                label_names: Sequence) -> Iterator[tuple[dict, dict]]:
    """Yields ``(x, y)`` dicts row by row from arrays."""
    for xr, yr in zip(X, Y):
        yield (dict(zip(feature_names, map(float, xr))),
               dict(zip(label_names, map(bool, yr))))


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def _split_values(text: str) -> list[str]:
    """Comma-separated ARFF values, honouring single and double quotes."""
    out, cur, quote = [], [], ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _parse_value(token: str, nominal: Optional[list[str]], where: str) -> float:
    if token == "?":
        return np.nan
    if nominal is not None:
        if token not in nominal:
            raise ValueError(f"{where}: value {token!r} is not one of {nominal}")
        return float(token) if _is_number(token) else float(nominal.index(token))
    try:
        return float(token)
    except ValueError:
        raise ValueError(f"{where}: {token!r} is not a number") from None


def _is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def read_arff(path: PathLike, *, n_labels: Optional[int] = None, labels_first: bool = True,
              label_names: Optional[Sequence[str]] = None) -> MultiLabelStream:
    """Reads a MULAN / MEKA multi-label ARFF file.

    The labels are found, in this order, from ``label_names``, from ``n_labels`` (the
    first or, with ``labels_first=False``, the last attributes) or from ``-C n`` in the
    relation name (negative ``n``: the last ``|n|`` attributes, as MEKA writes).
    Features must be numeric (nominal features are coded by their index); missing
    values ``?`` raise, as no learner here accepts them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ARFF file {path} not found")
    relation, attrs, rows, sparse_rows = "", [], [], []
    in_data = False
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip()
            where = f"{path}, line {lineno}"
            if not line or line.startswith("%"):
                continue
            if not in_data:
                low = line.lower()
                if low.startswith("@relation"):
                    relation = _unquote(line[len("@relation"):].strip())
                elif low.startswith("@attribute"):
                    m = _ATTRIBUTE.match(line)
                    if m is None:
                        raise ValueError(f"{where}: cannot read attribute {line!r}")
                    name, kind = _unquote(m.group(1)), m.group(2).strip()
                    if kind.startswith("{"):
                        if not kind.endswith("}"):
                            raise ValueError(f"{where}: unterminated nominal set {kind!r}")
                        nominal = [_unquote(v) for v in _split_values(kind[1:-1])]
                        attrs.append((name, nominal))
                    elif kind.lower() in ("numeric", "real", "integer"):
                        attrs.append((name, None))
                    else:
                        raise ValueError(f"{where}: attribute type {kind!r} not supported "
                                         "(numeric or nominal only)")
                elif low.startswith("@data"):
                    if not attrs:
                        raise ValueError(f"{where}: @data before any @attribute")
                    in_data = True
                else:
                    raise ValueError(f"{where}: unexpected header line {line!r}")
                continue
            values = np.zeros(len(attrs))
            if line.startswith("{"):
                if not line.endswith("}"):
                    raise ValueError(f"{where}: sparse row does not end with '}}'")
                body = line[1:-1].strip()
                for item in (_split_values(body) if body else []):
                    parts = item.split(None, 1)
                    if len(parts) != 2 or not parts[0].isdigit():
                        raise ValueError(f"{where}: sparse entry {item!r} is not "
                                         "'index value'")
                    j = int(parts[0])
                    if j >= len(attrs):
                        raise ValueError(f"{where}: sparse index {j} out of range "
                                         f"({len(attrs)} attributes)")
                    values[j] = _parse_value(_unquote(parts[1].strip()), attrs[j][1], where)
                sparse_rows.append(lineno)
            else:
                tokens = _split_values(line)
                if len(tokens) != len(attrs):
                    raise ValueError(f"{where}: {len(tokens)} values, expected "
                                     f"{len(attrs)}")
                for j, tok in enumerate(tokens):
                    values[j] = _parse_value(_unquote(tok), attrs[j][1], where)
            if np.isnan(values).any():
                raise ValueError(f"{where}: missing value '?' (not supported)")
            rows.append((lineno, values))
    if not in_data:
        raise ValueError(f"{path}: no @data section")
    names = [a[0] for a in attrs]
    label_idx = _label_columns(path, names, relation, n_labels, labels_first, label_names)
    data = np.array([r[1] for r in rows]).reshape(len(rows), len(attrs))
    for j in label_idx:
        bad = ~np.isin(data[:, j], (0.0, 1.0))
        if bad.any():
            lineno = rows[int(np.argmax(bad))][0]
            raise ValueError(f"{path}, line {lineno}: label {names[j]!r} is not 0/1")
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
    from river import datasets

    X, Y, fnames, lnames = [], [], None, None
    for x, y in datasets.Yeast():
        if fnames is None:
            fnames, lnames = list(x), list(y)
        X.append([x[f] for f in fnames])
        Y.append([bool(y[lab]) for lab in lnames])
    return MultiLabelStream(np.asarray(X, float), np.asarray(Y, bool), fnames, lnames,
                            "yeast")
