"""The strategies users import from ``autonet.testing.strategies`` draw what they promise: shapes
in bounds, shapes that broadcast, values inside each op's domain (off its kinks, without ties for
``distinct`` ops), and arguments that every registered op accepts, reaching the awkward cases too:
size-0 dimensions, and with ``edges=True`` exact zeros, kinks, ties, constant rows and 1e300.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from autonet import Value, call_op
from autonet.ops import REGISTRY, Domain
from autonet.testing import cases
from autonet.testing.strategies import (
    arrays_in,
    broadcastable_pairs,
    broadcastable_shapes,
    broadcastable_triples,
    op_arrays,
    op_inputs,
    shapes,
    values,
)

ALL_OPS = list(REGISTRY)
SEARCH = settings(derandomize=True, database=None, max_examples=2000, suppress_health_check=list(HealthCheck))


def _inside(x: np.ndarray, domain: Domain) -> bool:
    off_kinks = all((np.abs(x - point) >= domain.margin - 1e-12).all() for point in domain.avoid)
    return bool(((x >= domain.low) & (x <= domain.high)).all() and off_kinks)


@given(shapes(min_dims=1, max_dims=2, min_side=2, max_side=4))
def test_shapes_respect_their_bounds(shape: tuple[int, ...]) -> None:
    assert 1 <= len(shape) <= 2 and all(2 <= n <= 4 for n in shape)


@given(broadcastable_pairs(), broadcastable_triples(), broadcastable_shapes(1))
def test_broadcastable_shapes_broadcast(pair: list, triple: list, single: list) -> None:
    assert len(pair) == 2 and len(triple) == 3 and len(single) == 1
    np.broadcast_shapes(*pair)
    np.broadcast_shapes(*triple)


@given(arrays_in(Domain(-2.0, 2.0, avoid=(-1.0, 0.0, 1.0), margin=0.2), (4, 3)))
def test_arrays_keep_the_margin_from_every_avoided_point(x: np.ndarray) -> None:
    assert x.shape == (4, 3) and x.dtype == np.float64
    assert _inside(x, Domain(-2.0, 2.0, avoid=(-1.0, 0.0, 1.0), margin=0.2))


@given(arrays_in(Domain(0.0, 1.0, margin=0.01), shapes(), distinct=True))
def test_distinct_arrays_have_no_two_values_closer_than_the_margin(x: np.ndarray) -> None:
    if x.size > 1:
        assert np.diff(np.sort(x.ravel())).min() >= 0.01 - 1e-12


@given(values(op_arrays("log"), requires_grad=False))
def test_values_wrap_the_arrays(v: Value) -> None:
    assert isinstance(v, Value) and not v.requires_grad and (v.data > 0).all()


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_op_inputs_lie_in_the_declared_domains_and_the_op_accepts_them(
    name: str, data: st.DataObject
) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(name))
    domains = cases.check_domains(op)
    for i, x in enumerate(inputs):
        assert x.dtype == np.float64
        assert _inside(x, domains[0] if op.variadic else domains[i]), (i, x)
    if op.distinct and sum(x.size for x in inputs) > 1:
        # Ties across inputs count too: maximum(a, b) has its kink where a == b.
        merged = np.sort(np.concatenate([x.ravel() for x in inputs]))
        assert np.diff(merged).min() >= domains[0].margin - 1e-12
    out = call_op(name, *inputs, **params)
    assert out.dtype == np.float64 and np.isfinite(out.data).all()


def _reaches(name: str, condition: Callable[[tuple, dict[str, Any]], bool], edges: bool = False) -> bool:
    find(op_inputs(name, edges=edges), lambda case: condition(*case), settings=SEARCH)
    return True


def _is_int_array(part: Any) -> bool:
    return isinstance(part, np.ndarray) and part.dtype.kind == "i"


def _parts(index: Any) -> tuple:
    return index if isinstance(index, tuple) else (index,)


INDEX_CASES: dict[str, Callable[[tuple, dict[str, Any]], bool]] = {
    "int-array-with-repeats": lambda inputs, p: any(
        _is_int_array(i) and len(np.unique(i)) < i.size for i in _parts(p["index"])
    ),
    "2-d-int-array": lambda inputs, p: any(_is_int_array(i) and i.ndim == 2 for i in _parts(p["index"])),
    "boolean-mask": lambda inputs, p: any(
        isinstance(i, np.ndarray) and i.dtype == bool and i.ndim >= 1 for i in _parts(p["index"])
    ),
    "negative-step-slice": lambda inputs, p: any(
        isinstance(i, slice) and (i.step or 1) < 0 for i in _parts(p["index"])
    ),
    "none-and-ellipsis": lambda inputs, p: (
        any(i is None for i in _parts(p["index"])) and any(i is Ellipsis for i in _parts(p["index"]))
    ),
}


@pytest.mark.parametrize("case", list(INDEX_CASES))
def test_getitem_cases_reach_the_awkward_indexes(case: str) -> None:
    assert _reaches("getitem", INDEX_CASES[case])


@pytest.mark.parametrize(
    ("name", "condition"),
    [
        ("matmul", lambda inputs, p: inputs[0].ndim == 1 and inputs[1].ndim >= 3),
        (
            "matmul",
            lambda inputs, p: (
                inputs[0].ndim >= 3 and inputs[1].ndim >= 3 and inputs[0].shape[:-2] != inputs[1].shape[:-2]
            ),
        ),
        ("sum", lambda inputs, p: isinstance(p["axis"], tuple) and len(p["axis"]) >= 2 and p["keepdims"]),
        ("max", lambda inputs, p: isinstance(p["axis"], int) and p["axis"] < 0),
        (
            "scatter_add",
            lambda inputs, p: _is_int_array(p["index"]) and len(np.unique(p["index"])) < p["index"].size,
        ),
        ("concatenate", lambda inputs, p: len(inputs) == 3 and inputs[0].ndim >= 2),
        ("where", lambda inputs, p: p["condition"].shape != np.broadcast_shapes(*(x.shape for x in inputs))),
        ("clip", lambda inputs, p: p["low"] is None),
        ("mul", lambda inputs, p: inputs[0].ndim != inputs[1].ndim and inputs[0].shape != ()),
        ("std", lambda inputs, p: p["axis"] is not None),
        ("reshape", lambda inputs, p: -1 in p["shape"]),
        ("transpose", lambda inputs, p: p["axes"] is not None and len(p["axes"]) == 3),
    ],
    ids=[
        "matmul-vector-by-batch",
        "matmul-broadcast-batches",
        "sum-tuple-axis-keepdims",
        "max-negative-axis",
        "scatter_add-repeats",
        "concatenate-three",
        "where-broadcast-condition",
        "clip-one-sided",
        "mul-broadcast",
        "std-along-an-axis",
        "reshape-minus-one",
        "transpose-3d",
    ],
)
def test_op_inputs_reach_the_cases_that_matter(
    name: str, condition: Callable[[tuple, dict[str, Any]], bool]
) -> None:
    assert _reaches(name, condition)


def _constant_row(x: np.ndarray) -> bool:
    return x.ndim >= 1 and x.shape[-1] >= 2 and x.size > 0 and bool((np.ptp(x, axis=-1) == 0).any())


@pytest.mark.parametrize(
    ("name", "edges", "condition"),
    [
        ("sum", False, lambda inputs, p: inputs[0].size == 0),
        ("matmul", False, lambda inputs, p: inputs[0].size == 0 or inputs[1].size == 0),
        ("getitem", False, lambda inputs, p: inputs[0].size == 0),
        ("relu", True, lambda inputs, p: bool((inputs[0] == 0).any())),
        ("maximum", True, lambda inputs, p: bool(np.any(inputs[0] == inputs[1]))),
        ("std", True, lambda inputs, p: _constant_row(inputs[0])),
        ("clip", True, lambda inputs, p: bool((np.abs(inputs[0]) == 1).any())),  # its bounds: -1, 1
        ("exp", True, lambda inputs, p: bool((inputs[0] == 1e300).any())),
        ("log", True, lambda inputs, p: bool((inputs[0] == 0).any())),
        ("cross_entropy", True, lambda inputs, p: bool((np.abs(inputs[0]) == 1e300).any())),
        ("hinge", True, lambda inputs, p: bool((p["target"] * inputs[0] == 1).any())),
    ],
    ids=[
        "sum-size-0",
        "matmul-size-0",
        "getitem-size-0",
        "relu-exact-zero",
        "maximum-tie",
        "std-constant-row",
        "clip-at-its-bounds",
        "exp-1e300",
        "log-at-its-bound",
        "cross_entropy-1e300",
        "hinge-at-its-kink",
    ],
)
def test_op_inputs_reach_the_edges(
    name: str, edges: bool, condition: Callable[[tuple, dict[str, Any]], bool]
) -> None:
    assert _reaches(name, condition, edges=edges)


@pytest.mark.parametrize("name", ["log", "sqrt", "binary_cross_entropy", "bce_with_logits", "pow"])
@given(data=st.data())
def test_edge_draws_reach_but_never_pass_the_bounds_of_a_domain(name: str, data: st.DataObject) -> None:
    # log's domain ends at 0, probabilities at 0 and 1: edge draws go there (see the log case
    # above), never past, where the op is not even real.
    inputs, _ = data.draw(op_inputs(name, edges=True))
    for x, domain in zip(inputs, REGISTRY[name].domain, strict=True):
        low, high = domain.bounds
        assert ((x >= low) & (x <= high)).all(), (name, x, domain.bounds)


def test_autonet_imports_without_hypothesis() -> None:
    # Hypothesis is a test extra: only autonet.testing.strategies may need it.
    script = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import autonet, autonet.gradcheck, autonet.testing, autonet.testing.cases\n"
        "try:\n"
        "    import autonet.testing.strategies\n"
        "except ImportError:\n"
        "    print('strategies need hypothesis')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "strategies need hypothesis"
