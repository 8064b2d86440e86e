"""Any convolution as the LA-backbone: classes, factories, constructor arguments,
inner networks, edge weights, and a clear error for what cannot apply."""
import functools
import inspect
import warnings

import numpy as np
import pytest
import torch

from graphbias.augment import LAGNNClassifier, LocalAugmenter
from graphbias.augment.convs import ConvBuilder, ConvSpec, is_attention, resolve_conv
from graphbias.augment.models import LAGNN
from graphbias.data.synthetic.graphs import sbm
from graphbias.nn import GATConv, GCNConv

pyg_conv = pytest.importorskip("torch_geometric.nn.conv")


@pytest.fixture(scope="module")
def graph():
    return sbm([20, 20], 0.2, 0.03, num_features=8, seed=0)


def _fit(graph, conv, conv_kwargs=None, epochs=3):
    clf = LAGNNClassifier(conv=conv, conv_kwargs=conv_kwargs, max_epochs=epochs,
                          random_state=0,
                          augmenter=LocalAugmenter(max_epochs=1, hidden_channels=8))
    return clf.fit(graph.x, graph.y, graph=graph, train_mask=graph.train_mask,
                   val_mask=graph.val_mask)


# -------------------------------------------------------------- conv forms
def test_a_partial_and_a_factory_function_build_the_layers(graph):
    clf = _fit(graph, functools.partial(pyg_conv.GATv2Conv, heads=2))
    first = clf.module_.branches[0]
    assert isinstance(first, pyg_conv.GATv2Conv) and first.heads == 2
    # the partial's heads hold for every layer; the output layer averages them
    assert clf.module_.layers[0].heads == 2 and not clf.module_.layers[0].concat

    def sage_max(in_channels, out_channels):
        return pyg_conv.SAGEConv(in_channels, out_channels, aggr="max")

    clf = _fit(graph, sage_max)
    assert clf.module_.conv_class is pyg_conv.SAGEConv
    assert str(clf.module_.branches[1].aggr_module) == "MaxAggregation()"


def test_conv_kwargs_reach_every_layer_and_override_attention_defaults(graph):
    clf = _fit(graph, pyg_conv.ChebConv, {"K": 3})
    assert all(len(m.lins) == 3 for m in [*clf.module_.branches, *clf.module_.layers])
    clf = _fit(graph, GATConv, {"heads": 2})
    assert clf.module_.branches[0].heads == 2 and clf.module_.layers[0].heads == 2


def test_gin_gets_an_inner_network_from_the_layer_widths(graph):
    clf = _fit(graph, pyg_conv.GINConv)
    inner = clf.module_.branches[0].nn
    assert [tuple(m.weight.shape) for m in inner if hasattr(m, "weight")] == \
        [(8, 8), (8, 8)]
    assert clf.module_.layers[0].nn[-1].out_features == 2
    assert np.isfinite(clf.history_[-1]["train_loss"])


@pytest.mark.parametrize("conv, kwargs, match", [
    (GCNConv(4, 2), None, "not a convolution instance"),
    (pyg_conv.ChebConv, None, r"ChebConv needs the constructor argument\(s\) \['K'\]"),
    (pyg_conv.GCN2Conv, None, "GCN2Conv.forward takes \\(x, x_0"),
    (pyg_conv.FAConv, None, "FAConv.forward takes \\(x, x_0"),
    (pyg_conv.APPNP, None, "APPNP takes no in_channels / out_channels"),
    (pyg_conv.GCNConv, {"cached": True}, "cached=True"),
    (pyg_conv.MixHopConv, None, "returns 6 features per node, not out_channels=2"),
    ("mlp", None, "conv must be one of"),
    (3, None, "conv must be one of"),
])
def test_what_cannot_be_a_backbone_is_a_clear_error(graph, conv, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _fit(graph, conv, kwargs)


def test_an_instance_is_refused_by_the_builder_with_what_to_pass():
    with pytest.raises(ValueError, match=r"GCNConv instance.*functools.partial\(GCNConv"):
        ConvBuilder(GCNConv(4, 2))


def test_conv_spec_and_attention():
    spec = ConvSpec()
    assert spec.accepts(pyg_conv.GINConv) and spec.accepts(lambda i, o: GCNConv(i, o))
    assert not spec.accepts(GCNConv(3, 2)) and not spec.accepts(int)
    assert is_attention(functools.partial(pyg_conv.TransformerConv, beta=True))
    assert not is_attention(pyg_conv.GINConv)
    assert resolve_conv(functools.partial(GATConv, heads=2)) is GATConv


# ------------------------------------------------------------- edge weights
def test_edge_weights_reach_convs_that_take_them(graph):
    weighted = graph.replace(edge_weight=torch.rand(graph.num_edges) + 0.5)
    x = torch.as_tensor(graph.x).float()
    torch.manual_seed(0)
    model = LAGNN(pyg_conv.GCNConv, 8, 4, 2).eval()
    with torch.no_grad():
        with_weights = model(x, [x], weighted)
        plain = model(x, [x], graph)
        # by hand: every layer called with the weights
        ei, w = weighted.edge_index, weighted.edge_weight
        h = torch.cat([torch.relu(b(x, ei, w)) for b in model.branches], dim=1)
        by_hand = model.layers[0](h, ei, w)
    torch.testing.assert_close(with_weights, by_hand)
    assert not torch.allclose(with_weights, plain)
    # a convolution without edge_weight refuses a weighted graph
    gat = LAGNN(pyg_conv.GATConv, 8, 4, 2)
    with pytest.raises(ValueError, match="edge weights but GATConv.forward takes no"):
        gat(x, [x], weighted)


# ------------------------------------------------------- every PyG conv
# Constructor arguments without default that a backbone needs (and what makes a
# few of them work at all).
CONV_KWARGS = {
    "ChebConv": {"K": 2}, "SSGConv": {"alpha": 0.1}, "EGConv": {"num_heads": 1},
    "PNAConv": {"aggregators": ["mean", "max"], "scalers": ["identity"],
                "deg": torch.tensor([0, 5, 5])},
}
# What cannot be an LA-backbone, and why (a fragment of the ValueError).
CANNOT_APPLY = {
    "SimpleConv": "no in_channels / out_channels", "AGNNConv": "no in_channels",
    "APPNP": "no in_channels", "LGConv": "no in_channels", "WLConv": "no in_channels",
    "WLConvContinuous": "no in_channels", "DNAConv": "no in_channels",
    "CGConv": "no in_channels", "GatedGraphConv": "no in_channels",
    "GPSConv": "no in_channels", "AntiSymmetricConv": "no in_channels",
    "DirGNNConv": "no in_channels",
    "RGCNConv": "num_relations", "FastRGCNConv": "num_relations",
    "RGATConv": "num_relations", "CuGraphRGCNConv": "needs ['edge_type']",
    "GMMConv": "'dim', 'kernel_size'", "SplineConv": "'dim', 'kernel_size'",
    "NNConv": "['nn']", "PANConv": "filter_size", "PDNConv": "edge_dim",
    "HEATConv": "needs ['node_type', 'edge_type']",
    "CuGraphGATConv": "needs ['edge_attr']",
    "GINEConv": "calling GINEConv",           # needs edge features
    "MeshCNNConv": "calling MeshCNNConv",     # mesh edge features, not nodes
    "MixHopConv": "not out_channels=",        # one output per power
    "CuGraphSAGEConv": "CuGraphSAGEConv",     # needs pylibcugraphops
}


def _takes_x_and_edge_index(cls):
    return list(inspect.signature(cls.forward).parameters)[1:3] == ["x", "edge_index"]


def _pyg_convs():
    classes = [getattr(pyg_conv, n) for n in pyg_conv.__all__]
    return sorted((c for c in classes if inspect.isclass(c) and
                   issubclass(c, torch.nn.Module) and c is not pyg_conv.MessagePassing),
                  key=lambda c: c.__name__)


def test_every_pyg_conv_trains_as_a_backbone_or_says_why_not(graph):
    convs = [c for c in _pyg_convs() if _takes_x_and_edge_index(c)]
    skipped = sorted(c.__name__ for c in _pyg_convs() if not _takes_x_and_edge_index(c))
    trained, refused = [], {}
    for cls in convs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                clf = _fit(graph, cls, CONV_KWARGS.get(cls.__name__))
            except ValueError as err:        # never another exception type
                refused[cls.__name__] = str(err)
                continue
        assert clf.n_epochs_ == 3 and np.isfinite(clf.history_[-1]["train_loss"]), cls
        assert clf.predict(graph.x).shape == (graph.num_nodes,)
        trained.append(cls.__name__)
    print(f"\ntrained: {trained}\ncannot apply: {sorted(refused)}\n"
          f"forward not (x, edge_index): {skipped}")
    known = {n: CANNOT_APPLY[n] for n in refused if n in CANNOT_APPLY}
    assert set(refused) == set(known), f"unexpected failures: {set(refused) - set(known)}"
    for name, fragment in known.items():
        assert fragment in refused[name], (name, refused[name])
    assert {"GCNConv", "GATConv", "GATv2Conv", "SAGEConv", "GINConv", "ChebConv",
            "TransformerConv", "EdgeConv", "PNAConv", "EGConv"} <= set(trained)
    assert "GCN2Conv" in skipped and "FAConv" in skipped   # need x_0 besides x


def test_builder_reads_output_widths():
    conv, width = ConvBuilder(pyg_conv.MixHopConv).build(5, 3)
    assert width == 9                                  # powers 0, 1, 2
    conv, width = ConvBuilder(GATConv).build(5, 3, heads=4)
    assert width == 12 and conv.heads == 4
