"""Every registered op does what its registry entry declares at the edges of its domain.

Each ``Edge`` of each entry is a test case (the id is the op's name and the point), so a new op
is covered by declaring its edges: the value and the gradient for an upstream gradient of ones
equal the declaration (nan equal to nan, inf to inf), through a plain backward and through
``create_graph=True`` (where the vjps run on Values); an edge that ``raises`` raises that error.
The checks themselves are ``autonet.testing.checks``, which ``check_user_op`` runs on ops of users.
For each ``flat`` input, an infinite or huge upstream gradient still gives exactly 0 wherever the
declaration gives 0: an element the output does not depend on never sees ``inf * 0 = nan``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from autonet import Value, maximum, where
from autonet.ops import REGISTRY, Edge
from autonet.testing import cases, checks

# Edges meet empty means and divisions by zero on purpose; numpy warns about them.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

EDGES = [(name, i) for name, op in REGISTRY.items() for i in range(len(op.edges))]
EDGE_IDS = [f"{name}: {REGISTRY[name].edges[i].point}" for name, i in EDGES]
FLAT = [(name, i) for name, i in EDGES if REGISTRY[name].edges[i].flat]
FLAT_IDS = [f"{name}: {REGISTRY[name].edges[i].point}" for name, i in FLAT]
MODES = pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_entry_declares_well_formed_edges(name: str) -> None:
    edges = cases.check_edges(REGISTRY[name])
    assert edges and all(isinstance(edge, Edge) for edge in edges)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_entry_says_what_it_does_with_size_0_and_0_d_inputs(name: str) -> None:
    edges = REGISTRY[name].edges
    assert any(any(np.size(x) == 0 for x in edge.inputs) for edge in edges), f"{name}: no size-0 edge"
    assert any(np.ndim(edge.inputs[0]) == 0 for edge in edges), f"{name}: no edge with a 0-d input"


@pytest.mark.parametrize(("name", "index"), EDGES, ids=EDGE_IDS)
@MODES
def test_value_and_gradient_at_each_declared_edge(name: str, index: int, create_graph: bool) -> None:
    op = REGISTRY[name]
    failure = checks.declared_edge_failure(op, op.edges[index], create_graph)
    assert failure is None, failure


@pytest.mark.parametrize(("name", "index"), FLAT, ids=FLAT_IDS)
@pytest.mark.parametrize("upstream", [np.inf, 1e300], ids=["inf", "1e300"])
@MODES
def test_a_flat_input_gets_exactly_0_from_any_upstream_gradient(
    name: str, index: int, upstream: float, create_graph: bool
) -> None:
    op = REGISTRY[name]
    failure = checks.flat_edge_failure(op, op.edges[index], upstream, create_graph)
    assert failure is None, failure


# --------------------------------------------------------------------------- the cases


@pytest.mark.parametrize(
    "build",
    [
        lambda x: x.relu().sqrt(),
        lambda x: x.clip(0, None).sqrt(),
        lambda x: maximum(x, 0).sqrt(),
        lambda x: where(x > 0, x, 0).sqrt(),
    ],
    ids=["relu", "clip", "maximum", "where"],
)
def test_sqrt_of_a_cut_off_negative_has_gradient_0_not_nan(build: Any) -> None:
    x = Value([-1.0, 4.0])
    build(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.25]  # as PyTorch


def test_a_layer_norm_of_a_constant_row_keeps_every_weight_gradient_finite() -> None:
    rng = np.random.default_rng(0)
    w1 = Value(rng.normal(size=(3, 4)))
    w2 = Value(rng.normal(size=(4, 2)))
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])  # the second row makes h constant (zero)
    h = Value(x) @ w1
    normed = (h - h.mean(-1, keepdims=True)) / (h.std(-1, keepdims=True) + 1e-5)
    (normed @ w2).sum().backward()
    assert np.isfinite(w1.grad).all() and np.isfinite(w2.grad).all()


# --------------------------------------------------------------------------- the page and the torch oracle


def _docs_script(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "docs" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_edge_page_is_generated_from_the_current_declarations() -> None:
    make_edges = _docs_script("make_edges")
    committed = make_edges.EDGES_PAGE.read_text(encoding="utf-8")
    assert committed == make_edges.render(), "docs/edges.md is out of date: run python docs/make_edges.py"


def test_the_torch_check_has_a_counterpart_for_every_op() -> None:
    # docs/check_edges_torch.py measures the page's "same as torch" column; it needs PyTorch to
    # run, but its table of counterparts can be read without it.
    oracle = _docs_script("check_edges_torch")
    missing = sorted(set(REGISTRY) - set(oracle.TORCH))
    assert not missing, f"give {missing} a PyTorch counterpart in docs/check_edges_torch.py"
