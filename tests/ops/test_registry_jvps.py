"""Every registered op's forward mode agrees with its reverse mode and with central differences.

Parametrised over the registry, as the gradient checks are (tests/ops/test_registry_gradients.py),
with inputs drawn in each op's domain from its declared cases, so an op cannot ship without a
checked jvp: for a random tangent u and a random cotangent v, ``<J u, v> == <u, J^T v>`` (the
jvps against the vjps) and ``J u`` equals the central difference of the op along u. At every
declared edge the Jacobian built by forward mode equals the one built by reverse mode, inf for
inf and 0 for 0 (apart from the 0 * inf that one mode meets and the other does not), its column
sums are the declared gradients, and an infinite tangent of an element the output does not
depend on moves nothing (the flat inputs of the edge declarations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet import call_op, jacobian, linearize, vjp
from autonet.ops import REGISTRY, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE
from autonet.testing.strategies import op_inputs

ALL_OPS = list(REGISTRY)
PRIMITIVES = [name for name, op in REGISTRY.items() if op.composite is None]
EDGES = [(name, i) for name, op in REGISTRY.items() for i, e in enumerate(op.edges) if e.raises is None]
EDGE_IDS = [f"{name}: {REGISTRY[name].edges[i].point}" for name, i in EDGES]
FLAT = [(name, i) for name, i in EDGES if REGISTRY[name].edges[i].flat]
FLAT_IDS = [f"{name}: {REGISTRY[name].edges[i].point}" for name, i in FLAT]

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # edges divide by zero on purpose


def _function(op: Op, params: dict[str, Any]) -> Any:
    return lambda *xs: call_op(op, *xs, **params)


def _inner(a: Any, b: Any) -> float:
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))


@pytest.mark.parametrize("name", PRIMITIVES)
def test_every_primitive_declares_one_jvp_per_input(name: str) -> None:
    op = REGISTRY[name]
    assert op.jvps is not None, f"{name} opts out of forward mode"
    assert len(op.jvps) == (1 if op.variadic else len(op.vjps)) and all(map(callable, op.jvps))


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_forward_mode_agrees_with_reverse_mode_and_with_central_differences(
    name: str, data: st.DataObject
) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op), label="inputs, params")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    for x in inputs:
        x.flags.writeable = False
    fn = _function(op, params)
    out, push = linearize(fn, *inputs)
    u = [rng.standard_normal(np.shape(x)) for x in inputs]
    ju = push(*u)
    v = rng.standard_normal(np.shape(out))
    jtv = vjp(fn, *inputs)[1](v)
    # <J u, v> and <u, J^T v> are one number computed two ways: they agree to rounding.
    left, right = _inner(ju, v), sum(_inner(a, b) for a, b in zip(u, jtv, strict=True))
    scale = np.linalg.norm(ju) * np.linalg.norm(v) + sum(
        np.linalg.norm(a) * np.linalg.norm(b) for a, b in zip(u, jtv, strict=True)
    )
    assert abs(left - right) <= 1e-10 * scale + 1e-12, f"<J u, v> = {left!r}, <u, J^T v> = {right!r}"
    # J u against the central difference along u (the gradient checks' step and tolerance).
    eps = 1e-6
    plus = fn(*[x + eps * t for x, t in zip(inputs, u, strict=True)]).numpy()
    minus = fn(*[x - eps * t for x, t in zip(inputs, u, strict=True)]).numpy()
    numerical = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(ju, numerical, rtol=1e-3, atol=1e-5, err_msg=f"{name}: J u")
    assert ju.shape == np.shape(out) and ju.dtype == out.dtype


def _edge_inputs(edge: Edge) -> list[np.ndarray]:
    return [np.array(x, dtype=np.float64) for x in edge.inputs]


@pytest.mark.parametrize(("name", "index"), EDGES, ids=EDGE_IDS)
def test_at_each_declared_edge_forward_and_reverse_mode_give_one_jacobian(name: str, index: int) -> None:
    op = REGISTRY[name]
    edge = op.edges[index]
    inputs = _edge_inputs(edge)
    argnums = tuple(range(len(inputs)))
    fn = _function(op, dict(edge.params))
    forward = jacobian(fn, argnums, mode="forward")(*inputs)
    reverse = jacobian(fn, argnums, mode="reverse")(*inputs)
    for i, (f, r) in enumerate(zip(forward, reverse, strict=True)):
        assert f.shape == r.shape
        # At a pole a mode can meet 0 * inf where the other does not: reverse mode where it sums
        # over a broadcast axis (pow at a = 0 with b = [0.5, 2.5]), and at a transposed place for
        # element-wise ops (log at [0, -1]: 0 / 0 above the diagonal forward, below it in reverse).
        # Elsewhere the two agree, and forward mode has no more of those nans than reverse mode.
        known = ~np.isnan(f) & ~np.isnan(r)
        assert np.isnan(f).sum() <= np.isnan(r).sum(), f"{name}: input {i}: forward {f}, reverse {r}"
        scale = np.abs(r[known & np.isfinite(r)]).max(initial=0.0)
        np.testing.assert_allclose(
            f[known], r[known], rtol=1e-12, atol=1e-12 * scale, err_msg=f"{name}: input {i}"
        )
    # The declared gradients (an upstream gradient of ones) are the column sums of that Jacobian.
    for i, declared in enumerate(edge.grads):
        if declared is None:
            continue
        declared = np.broadcast_to(np.asarray(declared, dtype=np.float64), inputs[i].shape)
        summed = forward[i].sum(axis=tuple(range(forward[i].ndim - inputs[i].ndim)))
        # A declared nan is inf - inf inside the vjp; forward mode's columns keep the two apart.
        known = ~np.isnan(declared) & ~np.isnan(summed)
        scale = np.abs(forward[i][np.isfinite(forward[i])]).max(initial=0.0)
        np.testing.assert_allclose(
            summed[known], declared[known], rtol=1e-12, atol=1e-12 * scale, err_msg=f"{name}: input {i}"
        )


@pytest.mark.parametrize(("name", "index"), FLAT, ids=FLAT_IDS)
def test_an_infinite_tangent_where_the_output_does_not_depend_moves_nothing(name: str, index: int) -> None:
    op = REGISTRY[name]
    edge = op.edges[index]
    inputs = _edge_inputs(edge)
    _, push = linearize(_function(op, dict(edge.params)), *inputs)
    for i in edge.flat:
        flat = np.broadcast_to(np.asarray(edge.grads[i], dtype=np.float64), inputs[i].shape) == 0
        assert flat.any()
        tangents: list[Any] = [None] * len(inputs)
        tangents[i] = np.where(flat, np.inf, 0.0)
        moved = push(*tangents)
        assert np.all(moved == 0), f"{name}: input {i}'s infinite tangent where flat gave {moved}"


def test_register_refuses_a_primitive_without_jvps_and_takes_an_explicit_opt_out() -> None:
    entry = Op(
        "probe_no_jvp",
        np.exp,
        (lambda g, out, x: g * out,),
        (Domain(),),
        cases=ELEMENTWISE,
        edges=(Edge("x = 0", (0.0,), grads=(1.0,), value=1.0),),
    )
    with pytest.raises(ValueError, match=r"probe_no_jvp.*0 jvps for 1 input.*jvps=None"):
        register(entry)
    assert "probe_no_jvp" not in REGISTRY
    from dataclasses import replace

    opted_out = register(replace(entry, jvps=None))
    try:
        with pytest.raises(NotImplementedError, match=r"probe_no_jvp.*without forward mode"):
            linearize(lambda x: call_op(opted_out, x), np.ones(2))[1](np.ones(2))
        assert np.allclose(vjp(lambda x: call_op(opted_out, x), np.zeros(2))[1](np.ones(2))[0], 1.0)
    finally:
        del REGISTRY["probe_no_jvp"]
