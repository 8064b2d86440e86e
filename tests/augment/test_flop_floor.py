"""benchmarks/lagnn/flop_floor.py: the products it calls necessary are a lower bound
of those the paper's protocol computes, and its sizes are the selection's own."""
import pytest
import torch

from graphbias.augment.selection import UncertaintySelection
from graphbias.bench.lagnn_suite import lowdegree_sbm


@pytest.fixture(scope="module")
def flop_floor(benchmark_script):
    return benchmark_script("lagnn/flop_floor.py")


def test_selection_sizes_are_the_selections(flop_floor):
    g = lowdegree_sbm(quick=True)
    train = g.train_mask.nonzero().view(-1)
    sizes = flop_floor.selection_sizes(g, train)
    sel = UncertaintySelection(g, torch.as_tensor(g.x).float(), g.y, train, n_models=2)
    first = sel.classifier.first
    assert sizes == {"rows_two_hop": sel.x.size(0), "rows_one_hop": first.num_rows,
                     "nnz_first": first.nnz}


def test_necessary_products_are_a_lower_bound_of_the_counted_ones(flop_floor):
    torch.manual_seed(0)
    g = lowdegree_sbm(quick=True)
    counted, sizes = flop_floor.counted_flops(g, epochs=3, warmup=2)
    necessary = flop_floor.necessary_flops(**sizes, epochs=3, generator_epochs=1)
    generator = necessary["generator"] + necessary["selection_decode"] + \
        necessary["selection_first_layer"]
    la_model = necessary["la_decode"] + necessary["la_first_layer"]
    # every part counted, none left at zero
    assert min(necessary.values()) > 0
    assert generator <= counted["generator_and_selection"]
    assert la_model <= counted["la_model"]
    # and close to them: the protocol's cost is in the products counted
    assert generator >= 0.5 * counted["generator_and_selection"]
    assert la_model >= 0.5 * counted["la_model"]
