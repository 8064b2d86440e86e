"""A restricted unpickler for data files: numpy arrays, scipy CSR matrices, containers.

Nothing the pickle describes reaches numpy or scipy as it stands. The globals a
pickle may name are replaced by inert stand-ins that only record what the pickle
says (a dtype's type string, an array's shape and raw bytes, a CSR matrix's
components); once a stand-in has all its parts they are checked (dtype from an
allowlist of plain numeric types, byte count equal to ``prod(shape) * itemsize``,
``indptr`` starting at 0, non-decreasing and ending at ``nnz``, column ids in
range) and the array or matrix is built from them by ordinary numpy / scipy
constructors. A dtype is never built from the state a pickle sets, so object
dtypes, record dtypes and dtypes with forged flags cannot be expressed; every
other global raises :class:`UnsafePickleError`.

>>> import io, pickle
>>> import numpy as np
>>> blob = pickle.dumps({"a": np.arange(3, dtype=np.int32)}, protocol=2)
>>> safe_load(io.BytesIO(blob), "example")
{'a': array([0, 1, 2], dtype=int32)}
>>> safe_load(io.BytesIO(pickle.dumps(np.array([None]))), "example")
Traceback (most recent call last):
...
graphbias.data.datasets._pickle.UnsafePickleError: example: dtype 'O8' is not allowed; data files may only hold bool, integer and floating-point arrays
"""
from __future__ import annotations

import io
import math
import pickle
import pickletools
from typing import Any, BinaryIO, Callable, Optional

import numpy as np
import scipy.sparse as sp

__all__ = ["UnsafePickleError", "safe_load"]

# numpy's type strings (kind + item size) for the plain numeric dtypes.
_DTYPES = {f"{kind}{size}": np.dtype(f"{kind}{size}") for kind, sizes in
           (("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)), ("f", (2, 4, 8)), ("b", (1,)))
           for size in sizes}
_BYTEORDERS = {"<": "<", ">": ">", "|": "=", "=": "="}
_MAX_NDIM = 2  # data files hold vectors and matrices
_MAX_INDEX = 2**31 - 1  # sparse dimensions must fit scipy's int32 index arrays


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for something the restricted unpickler does not build."""


class _Refuse(ValueError):
    """A malformed part of a pickle: reported with the file's name."""


class _Inert:
    """Base of the stand-ins: a pickle's BUILD may only reach ``__setstate__``."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise _Refuse(f"unexpected state for {type(self).__name__.lstrip('_')}")


class _Global(_Inert):
    """A callable global: calling it runs ``func``; its attributes cannot be set."""

    __slots__ = ("_func",)

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func

    def __call__(self, *args: Any) -> Any:
        return self._func(*args)


class _ArrayClass(_Inert):
    """Stands for ``numpy.ndarray``, the only class ``_reconstruct`` may build."""

    __slots__ = ()


_NDARRAY = _ArrayClass()


def _dtype(typestr: Any, byteorder: str = "=") -> np.dtype:
    if isinstance(typestr, bytes):
        typestr = typestr.decode("latin1")
    if not isinstance(typestr, str) or typestr not in _DTYPES:
        raise UnsafePickleError(
            f"dtype {typestr!r} is not allowed; data files may only hold bool, integer "
            "and floating-point arrays")
    dtype = _DTYPES[typestr]
    return dtype.newbyteorder(byteorder) if dtype.itemsize > 1 else dtype


class _Dtype(_Inert):
    """Stands for ``numpy.dtype(typestr, align, copy)``; BUILD may set its byte
    order and nothing else."""

    __slots__ = ("typestr", "byteorder")

    def __init__(self, typestr: Any, *_: Any) -> None:
        _dtype(typestr)
        self.typestr, self.byteorder = typestr, "="

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (8, 9) or \
                state[0] not in (3, 4) or state[1] not in _BYTEORDERS or \
                any(part is not None for part in state[2:5]) or state[7] != 0 or \
                (len(state) == 9 and state[8] not in (None, {})):
            raise UnsafePickleError(
                f"dtype {self.typestr!r} carries a state that a plain numeric dtype "
                "does not have (sub-arrays, fields, flags or metadata)")
        self.byteorder = _BYTEORDERS[state[1]]

    @property
    def dtype(self) -> np.dtype:
        return _dtype(self.typestr, self.byteorder)


def _as_dtype(obj: Any) -> np.dtype:
    if not isinstance(obj, _Dtype):
        raise _Refuse(f"expected a dtype, got {type(obj).__name__}")
    return obj.dtype


def _shape(obj: Any, max_ndim: int) -> tuple[int, ...]:
    if not isinstance(obj, tuple) or len(obj) > max_ndim or not all(
            type(n) is int and n >= 0 for n in obj):
        raise _Refuse(f"a shape must be a tuple of at most {max_ndim} non-negative "
                      f"integers, got {obj!r:.60}")
    return obj


def _raw_bytes(obj: Any) -> bytes:
    if isinstance(obj, str):  # Python 2 pickles read with encoding="latin1"
        return obj.encode("latin1")
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    raise _Refuse(f"array data must be bytes, got {type(obj).__name__}")


def _array(shape: Any, dtype: np.dtype, raw: Any, fortran: bool = False) -> np.ndarray:
    """A fresh native-order array from checked components."""
    shape = _shape(shape, _MAX_NDIM)
    raw = _raw_bytes(raw)
    count = math.prod(shape)
    if len(raw) != count * dtype.itemsize:
        raise _Refuse(f"an array of shape {shape} and dtype {dtype} needs "
                      f"{count * dtype.itemsize} bytes, the file holds {len(raw)}")
    flat = np.frombuffer(raw, dtype=dtype, count=count)
    return flat.reshape(shape, order="F" if fortran else "C").astype(
        dtype.newbyteorder("="), order="C")


class _Array(_Inert):
    """Stands for ``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``; BUILD
    gives ``(version, shape, dtype, is_fortran, raw bytes)``."""

    __slots__ = ("value",)

    def __init__(self, cls: Any, shape: Any, typecode: Any) -> None:
        if cls is not _NDARRAY:
            raise UnsafePickleError("_reconstruct may only build numpy.ndarray")
        _shape(shape, 1)
        self.value: Optional[np.ndarray] = None

    def __setstate__(self, state: Any) -> None:
        if self.value is not None or not isinstance(state, tuple) or len(state) != 5 \
                or state[0] != 1 or not isinstance(state[3], bool):
            raise _Refuse("an array's state must be (1, shape, dtype, is_fortran, data), "
                          "set once")
        self.value = _array(state[1], _as_dtype(state[2]), state[4], state[3])


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """Stands for ``numpy.core.numeric._frombuffer`` (pickle protocol 5)."""
    if order not in ("C", "F"):
        raise _Refuse(f"array order must be 'C' or 'F', got {order!r:.20}")
    return _array(shape, _as_dtype(dtype), buf, order == "F")


def _scalar(dtype: Any, raw: Any) -> Any:
    """Stands for ``numpy.core.multiarray.scalar``: a numpy scalar, as a Python number."""
    return _array((), _as_dtype(dtype), raw).item()


def _vector(obj: Any, kinds: str, what: str) -> np.ndarray:
    if isinstance(obj, _Array):
        obj = obj.value
    if not isinstance(obj, np.ndarray) or obj.ndim != 1 or obj.dtype.kind not in kinds:
        raise _Refuse(f"a CSR matrix's {what} must be a 1-D "
                      f"{'integer' if kinds == 'iu' else 'numeric'} array")
    return obj


def csr_from_parts(data: Any, indices: Any, indptr: Any, shape: Any) -> sp.csr_matrix:
    """A CSR matrix from unchecked components, checked before scipy sees them.

    Raises ``ValueError`` unless ``shape`` is two non-negative integers that fit an
    int32 index, ``indptr`` has ``shape[0] + 1`` entries, starts at 0, never
    decreases and ends at ``len(indices) == len(data)``, and every column id lies in
    ``[0, shape[1])``.
    """
    rows, cols = _shape(shape, 2) if len(shape) == 2 else (-1, -1)
    if rows < 0 or max(rows, cols) > _MAX_INDEX:
        raise _Refuse(f"a CSR matrix's shape must be two integers in [0, {_MAX_INDEX}], "
                      f"got {shape!r:.60}")
    data = _vector(data, "biuf", "data")
    indices = _vector(indices, "iu", "indices")
    indptr = _vector(indptr, "iu", "indptr")
    if indptr.size != rows + 1 or indptr[0] != 0 or indptr[-1] != indices.size or \
            indices.size != data.size or bool((indptr[1:] < indptr[:-1]).any()):
        raise _Refuse(f"a CSR matrix of {rows} rows needs an indptr of {rows + 1} "
                      f"non-decreasing entries from 0 to nnz = len(indices) = len(data); "
                      f"got {indptr.size} entries, {indices.size} indices, "
                      f"{data.size} values")
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= cols):
        raise _Refuse(f"a CSR matrix's column ids must lie in [0, {cols}), got "
                      f"[{int(indices.min())}, {int(indices.max())}]")
    return sp.csr_matrix((data, indices.astype(np.int64), indptr.astype(np.int64)),
                         shape=(rows, cols))


class _Csr(_Inert):
    """Stands for ``scipy.sparse.csr_matrix``; BUILD gives its ``__dict__``."""

    __slots__ = ("value",)

    def __new__(cls, *args: Any) -> "_Csr":
        if args:
            raise _Refuse("a CSR matrix must be rebuilt from its state, not arguments")
        out = super().__new__(cls)
        out.value = None
        return out

    def __setstate__(self, state: Any) -> None:
        if self.value is not None or not isinstance(state, dict):
            raise _Refuse("a CSR matrix's state must be one dict of its components")
        shape = state.get("_shape", state.get("shape"))
        if not isinstance(shape, tuple):
            raise _Refuse("a CSR matrix's state has no shape")
        self.value = csr_from_parts(state.get("data"), state.get("indices"),
                                    state.get("indptr"), shape)


def _codecs_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """Stands for ``_codecs.encode``: Python 3 writes bytes this way in protocol 2."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("_codecs.encode is allowed only for latin1 text, as "
                                "protocol-2 pickles write bytes")
    return text.encode("latin1")


def _plain_dict(*_: Any) -> dict:
    """Stands for ``collections.defaultdict(factory)``: loaded as a plain dict."""
    return {}


def _allowed_globals() -> dict[tuple[str, str], Any]:
    """The globals a data pickle may name, under old and new module paths."""
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _Dtype,
        ("collections", "defaultdict"): _Global(_plain_dict),
        ("_codecs", "encode"): _Global(_codecs_encode),
    }
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = _Array
        allowed[(f"{core}.multiarray", "scalar")] = _Global(_scalar)
        allowed[(f"{core}.numeric", "_frombuffer")] = _Global(_frombuffer)
    for module in ("scipy.sparse.csr", "scipy.sparse._csr", "scipy.sparse"):
        allowed[(module, "csr_matrix")] = _Csr
    for module in ("__builtin__", "builtins"):  # Python 2 pickles say __builtin__
        for container in (list, dict, tuple, set, frozenset):
            allowed[(module, container.__name__)] = _Global(container)
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise UnsafePickleError(
                f"refused to load the global {module}.{name}; data files may only "
                "hold numpy arrays, scipy CSR matrices and plain containers") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent ids are not allowed in data files")


def _check_opcodes(data: bytes) -> None:
    """Walks the opcodes without running them: every counted string must be present
    in full and memo indices and frames bounded by the file's size, so that no opcode
    can make the unpickler allocate more than a small multiple of the file."""
    try:
        for op, arg, pos in pickletools.genops(data):
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and int(arg) > len(data):
                raise _Refuse(f"memo index {arg} at byte {pos} is beyond what a file "
                              f"of {len(data)} bytes can hold")
            if op.name == "FRAME" and arg > len(data) - pos:
                raise _Refuse(f"a frame of {arg} bytes at byte {pos} runs past the end "
                              "of the file")
    except _Refuse:
        raise
    except ValueError as err:  # genops: unknown opcode, truncated argument, no STOP
        raise pickle.UnpicklingError(str(err)) from None


def _resolve(obj: Any) -> Any:
    """The loaded object with every stand-in replaced by the array it built."""
    if isinstance(obj, (_Array, _Csr)):
        if obj.value is None:
            raise _Refuse("an array or CSR matrix without its data")
        return obj.value
    if isinstance(obj, _Inert):
        raise _Refuse(f"a bare {type(obj).__name__.lstrip('_')} in the data")
    if type(obj) is dict:
        return {_resolve(k): _resolve(v) for k, v in obj.items()}
    if type(obj) in (list, tuple, set, frozenset):
        return type(obj)(_resolve(v) for v in obj)
    return obj


def safe_load(file: BinaryIO, name: str) -> Any:
    """Unpickles ``file`` with the restricted unpickler; ``name`` is used in errors.

    Parameters
    ----------
    file : binary file object
        The pickle, read from its current position.
    name : str
        How errors refer to the file (usually its path).

    Returns
    -------
    object
        Plain containers (dict, list, tuple, set), Python numbers and strings,
        numpy arrays of bool, integer or floating-point dtype (at most 2-D,
        native byte order, owning their memory) and ``scipy.sparse.csr_matrix``.

    Raises
    ------
    UnsafePickleError
        The pickle names a global that is not allowed (anything but the numpy
        array, dtype and scalar reconstructors, ``scipy.sparse.csr_matrix``,
        ``collections.defaultdict``, latin1 ``_codecs.encode`` and the builtin
        containers) or a dtype outside the allowlist.
    ValueError
        Any other malformed content (inconsistent shapes and byte counts, bad
        CSR structure, truncated or corrupt data).
    """
    try:
        data = file.read()
        _check_opcodes(data)
        return _resolve(_RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load())
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{name}: {err}") from None
    except _Refuse as err:
        raise ValueError(f"{name}: malformed pickle: {err}") from None
    except Exception as err:  # any other failure means a corrupt or foreign file
        raise ValueError(f"{name}: not a readable pickle ({type(err).__name__}: "
                         f"{str(err)[:200]})") from None
