r"""The convolutions an LA-model can be built from, and how each is built and called.

A convolution is given as

- a name of :data:`BACKBONES` (``"gcn"``, ``"sage"``, ``"gat"``: :mod:`graphbias.nn`),
- a class, built as ``cls(in_channels, out_channels, **conv_kwargs)``: any
  :mod:`graphbias.nn` or ``torch_geometric.nn`` convolution, or a module of one's
  own with that constructor and a PyG-style ``forward(x, edge_index[, edge_weight])``;
  a class whose constructor takes an inner network ``nn`` instead of the widths
  (``GINConv``, ``EdgeConv``) gets a two-layer MLP to ``out_channels``
  (``LazyLinear(out) -> ReLU -> Linear(out, out)``, its input width set by the
  first call),
- or a factory called as ``factory(in_channels, out_channels, **conv_kwargs)``,
  such as ``functools.partial(GATv2Conv, heads=2)`` or a function.

A class with a ``heads`` argument is an attention convolution: hidden layers get
``heads`` heads (concatenated), the output layer ``out_heads`` (averaged), and
``dropout`` is its attention dropout, for each of these that the constructor
names and ``conv_kwargs`` does not set. The width of every built convolution is
read from a call on a three-node graph (in eval mode, without gradients: nothing
random is drawn), so convolutions whose output width is not ``out_channels``
(``heads`` concatenated, ``MixHopConv``'s powers) are chained correctly.

What cannot be an LA convolution raises a ``ValueError`` that says why: a
constructor argument without default that ``conv_kwargs`` does not give (e.g.
``ChebConv``'s ``K``), a ``forward`` that needs more than ``(x, edge_index)``
(``GCN2Conv``'s ``x_0``), a constructor without ``in_channels`` /
``out_channels`` (width-preserving layers such as ``APPNP``), a convolution
instance (one is needed per branch and layer), or a call that fails.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional, Union

import torch
from torch import Tensor

from .._validation import Constraint
from ..data.graph import Graph
from ..nn import GATConv, GCNConv, SAGEConv
from ..nn.functional import Features
from ..nn.message_passing import MessagePassing
from ..ops.csr import CSR

__all__ = ["BACKBONES", "ConvSpec", "ConvBuilder", "resolve_conv", "is_attention"]

#: the convolutions by name
BACKBONES = {"gcn": GCNConv, "sage": SAGEConv, "gat": GATConv}

Conv = Union[str, type, Callable[..., torch.nn.Module]]

# parameters of an attention convolution that LA-models set (unless conv_kwargs does)
_ATTENTION = ("heads", "concat", "dropout")
_EMPTY = inspect.Parameter.empty


class ConvSpec(Constraint):
    """A convolution class (a ``torch.nn.Module`` subclass) or a factory of
    convolution modules (any other callable that is not a module instance).

    Examples
    --------
    >>> import functools
    >>> from graphbias.nn import GATConv
    >>> spec = ConvSpec()
    >>> spec.accepts(GATConv), spec.accepts(functools.partial(GATConv, heads=2))
    (True, True)
    >>> spec.accepts(GATConv(4, 2)), spec.accepts("gat")
    (False, False)
    """

    def accepts(self, value: Any) -> bool:
        if inspect.isclass(value):
            return issubclass(value, torch.nn.Module)
        return callable(value) and not isinstance(value, (torch.nn.Module, str))

    def describe(self) -> str:
        return ("a torch.nn.Module convolution class, or a factory (in_channels, "
                "out_channels, **kwargs) -> module such as functools.partial(GATConv, "
                "heads=2); not a convolution instance (one is built per branch and layer)")


def _underlying_class(conv: Any) -> Optional[type]:
    """The class a name, class or ``functools.partial`` of a class builds."""
    if isinstance(conv, str):
        return BACKBONES.get(conv)
    while isinstance(conv, functools.partial):
        conv = conv.func
    return conv if inspect.isclass(conv) else None


def resolve_conv(conv: Conv) -> type:
    """The convolution class of a name, a class, or a ``functools.partial`` of one.

    Parameters
    ----------
    conv : str, type or functools.partial
        ``"gcn"``, ``"sage"``, ``"gat"``, a ``torch.nn.Module`` subclass, or a
        partial of one.

    Returns
    -------
    type

    Raises
    ------
    ValueError
        For anything else (a factory function's class is only known once it has
        built a module: see :class:`ConvBuilder`).

    Examples
    --------
    >>> import functools
    >>> resolve_conv("sage").__name__
    'SAGEConv'
    >>> resolve_conv(functools.partial(GATConv, heads=2)).__name__
    'GATConv'
    """
    if isinstance(conv, str) and conv not in BACKBONES:
        raise ValueError(f"conv must be one of {tuple(BACKBONES)}, a convolution class "
                         f"or a factory, got {conv!r}")
    cls = _underlying_class(conv)
    if cls is None or not issubclass(cls, torch.nn.Module):
        raise ValueError(f"conv must be one of {tuple(BACKBONES)} or a torch.nn.Module "
                         f"convolution class (or a partial of one), got {conv!r}")
    return cls


def _named_parameters(fn: Any) -> dict[str, inspect.Parameter]:
    """The explicitly named parameters of ``fn`` (no ``self``, ``*args``,
    ``**kwargs``)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return {}
    return {n: p for n, p in params.items() if n != "self" and p.kind not in
            (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}


def is_attention(conv: Any) -> bool:
    """Whether a convolution (class, partial or name) takes ``heads`` (GAT-like).

    Parameters
    ----------
    conv : str, type or callable
        A convolution as :class:`ConvBuilder` takes it.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_attention(GATConv), is_attention(GCNConv), is_attention("gat")
    (True, False, True)
    """
    cls = _underlying_class(conv)
    return cls is not None and "heads" in _named_parameters(cls.__init__)


@functools.lru_cache(maxsize=None)
def _takes_edge_weight(cls: type) -> bool:
    return "edge_weight" in _named_parameters(cls.forward)


def _inner_network(out_channels: int) -> torch.nn.Module:
    """The network of a convolution that takes one (GIN): input width set on first
    use, then ReLU and a second layer, as PyG's GIN models build it."""
    return torch.nn.Sequential(torch.nn.LazyLinear(out_channels), torch.nn.ReLU(),
                               torch.nn.Linear(out_channels, out_channels))


def _probe_graph() -> Graph:
    """Three nodes in a cycle, both directions: the graph of the width probe."""
    return Graph(torch.tensor([[0, 1, 2, 1, 2, 0], [1, 2, 0, 0, 1, 2]]), 3)


class ConvBuilder:
    """Builds the convolutions of an LA-model from a name, class or factory, and
    calls them.

    Parameters
    ----------
    conv : str, type or callable
        See the module description.
    kwargs : dict or None, default=None
        Constructor keyword arguments of every convolution (``conv_kwargs``).

    Attributes
    ----------
    name : str
        The convolution's name in messages.
    attention : bool
        Whether it takes ``heads``.

    Raises
    ------
    ValueError
        When ``conv`` cannot be an LA convolution (see the module description).

    Examples
    --------
    >>> import functools
    >>> builder = ConvBuilder(functools.partial(GATConv, heads=2))
    >>> conv, width = builder.build(5, 3)
    >>> type(conv).__name__, width
    ('GATConv', 6)
    """

    def __init__(self, conv: Conv, kwargs: Optional[dict[str, Any]] = None) -> None:
        if isinstance(conv, torch.nn.Module):
            raise ValueError(
                f"conv got a {type(conv).__name__} instance; an LA-model builds one "
                f"convolution per branch and layer, each with its own sizes: pass the "
                f"class (with conv_kwargs) or a factory such as functools.partial("
                f"{type(conv).__name__}, ...)")
        if isinstance(conv, str):
            resolve_conv(conv)
        elif not ConvSpec().accepts(conv):
            raise ValueError(f"conv must be one of {tuple(BACKBONES)}, "
                             f"{ConvSpec().describe()}; got {conv!r}")
        self.factory = BACKBONES[conv] if isinstance(conv, str) else conv
        self.kwargs = dict(kwargs or {})
        self.inner_network = False
        cls = _underlying_class(conv)
        self.name = cls.__name__ if cls is not None else getattr(conv, "__name__",
                                                                 repr(conv))
        self.attention = is_attention(conv)
        if self.kwargs.get("cached"):
            raise ValueError(f"{self.name}(cached=True) keeps the normalisation of the "
                             "first graph it sees; an LA-model calls each convolution "
                             "on several graphs (its passes' disjoint union): drop cached")
        if cls is not None:
            self._check_forward(cls)
            self._check_constructor(cls, conv)

    # ---------------------------------------------------------------- checks
    def _check_constructor(self, cls: type, conv: Any) -> None:
        """The constructor of a class (or a partial of one) takes the widths or an
        inner network, and ``conv_kwargs`` gives every argument without default."""
        init = _named_parameters(cls.__init__)
        bound = set(conv.keywords) if isinstance(conv, functools.partial) else set()
        given = bound | set(self.kwargs)
        widths = {"in_channels", "out_channels"} <= set(init)
        self.inner_network = not widths and "nn" in init
        if not widths and not self.inner_network:
            raise ValueError(
                f"{self.name} takes no in_channels / out_channels pair (constructor "
                f"{sorted(init)}): an LA-model builds convolutions from in_channels to "
                "out_channels (the feature width, the hidden width, the classes)")
        supplied = given | ({"in_channels", "out_channels"} if widths else {"nn"})
        missing = [n for n, p in init.items() if p.default is _EMPTY and n not in supplied]
        if missing:
            raise ValueError(f"{self.name} needs the constructor argument(s) {missing}: "
                             f"pass them in conv_kwargs, e.g. conv_kwargs="
                             f"{ {n: '...' for n in missing} }")

    def _check_forward(self, cls: type) -> None:
        """``forward`` takes ``(x, edge_index)`` and needs nothing else."""
        forward = list(_named_parameters(cls.forward).items())
        if [n for n, _ in forward[:2]] != ["x", "edge_index"]:
            raise ValueError(f"{self.name}.forward takes ({', '.join(n for n, _ in forward)})"
                             "; an LA-model calls conv(x, edge_index[, edge_weight])")
        extra = [n for n, p in forward[2:] if p.default is _EMPTY]
        if extra:
            raise ValueError(f"{self.name}.forward needs {extra} besides (x, edge_index); "
                             "an LA-model calls conv(x, edge_index[, edge_weight]) and "
                             "has no such input to give")

    # ----------------------------------------------------------------- build
    def _defaults(self, cls: Optional[type], last: bool, heads: int, out_heads: int,
                  dropout: float) -> dict[str, Any]:
        """The attention settings the constructor names and ``conv_kwargs`` leaves."""
        if not self.attention or cls is None:
            return {}
        values = {"heads": out_heads if last else heads, "concat": not last,
                  "dropout": dropout}
        init = _named_parameters(cls.__init__)
        bound = set(self.factory.keywords) if isinstance(self.factory,
                                                          functools.partial) else set()
        return {k: v for k, v in values.items()
                if k in init and k not in self.kwargs and k not in bound}

    def build(self, in_channels: int, out_channels: int, *, last: bool = False,
              heads: int = 8, out_heads: int = 1, dropout: float = 0.0
              ) -> tuple[torch.nn.Module, int]:
        """One convolution from ``in_channels`` to (about) ``out_channels``, and the
        width of its output.

        Parameters
        ----------
        in_channels, out_channels : int
            Input width and output width (per head for attention).
        last : bool, default=False
            The output layer: ``out_heads`` averaged heads for attention.
        heads, out_heads : int
            Heads of hidden and output attention layers.
        dropout : float, default=0.0
            Attention dropout.

        Returns
        -------
        module : torch.nn.Module
        width : int
            Its output's feature width (read from a call on a three-node graph).

        Raises
        ------
        ValueError
            When building or calling it fails (with the underlying error).
        """
        cls = _underlying_class(self.factory)
        kwargs = {**self._defaults(cls, last, heads, out_heads, dropout), **self.kwargs}
        try:
            if self.inner_network:
                module = self.factory(nn=_inner_network(out_channels), **kwargs)
            else:
                module = self.factory(in_channels, out_channels, **kwargs)
        except Exception as err:  # a constructor's own error, reported with context
            raise ValueError(f"building {self.name}({in_channels}, {out_channels}, "
                             f"**{kwargs}) failed: {type(err).__name__}: {err}") from None
        if not isinstance(module, torch.nn.Module):
            raise ValueError(f"conv factory {self.name} returned a "
                             f"{type(module).__name__}, not a torch.nn.Module")
        if cls is None:  # a factory function: check what it built
            self._check_forward(type(module))
        return module, self._width(module, in_channels)

    def _width(self, module: torch.nn.Module, in_channels: int) -> int:
        """Output width of ``module`` on a three-node graph (eval mode, no gradient,
        no random draw; lazy layers take their input width here)."""
        graph = _probe_graph()
        training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = self.call(module, torch.zeros(3, in_channels), graph)
        except ValueError:
            raise
        except Exception as err:  # the convolution's own error, reported with context
            raise ValueError(f"calling {self.name} as conv(x, edge_index) failed: "
                             f"{type(err).__name__}: {err}") from None
        finally:
            module.train(training)
        return int(out.size(-1))

    # ------------------------------------------------------------------ call
    @staticmethod
    def call(module: torch.nn.Module, x: Features, graph: Graph) -> Tensor:
        """``module`` on node features ``x`` over ``graph``.

        :mod:`graphbias.nn` convolutions get the graph itself (their cached
        normalisation; edge weights as each layer documents); any other
        convolution gets dense ``x``, ``graph.edge_index`` and, when the graph is
        weighted, its ``edge_weight``.

        Raises
        ------
        ValueError
            A weighted graph and a convolution whose ``forward`` takes no
            ``edge_weight`` (weights are never silently dropped), or an output that
            is not a ``[N, width]`` tensor.
        """
        if isinstance(module, MessagePassing):
            return module(x, graph)
        if isinstance(x, CSR):
            x = x.to_dense()
        if graph.edge_weight is None:
            out = module(x, graph.edge_index)
        elif _takes_edge_weight(type(module)):
            out = module(x, graph.edge_index, edge_weight=graph.edge_weight)
        else:
            raise ValueError(f"the graph has edge weights but {type(module).__name__}."
                             "forward takes no edge_weight: drop them "
                             "(graph.replace(edge_weight=None)) or use a convolution "
                             "that takes them")
        if not isinstance(out, Tensor) or out.dim() != 2 or out.size(0) != x.size(0):
            kind = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(f"{type(module).__name__} returned {kind}, not a "
                             f"[{x.size(0)}, width] tensor of node features")
        return out
