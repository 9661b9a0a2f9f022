"""Broadcasting: every binary op sums its gradients back to each input's own shape.

Gradients are compared with central differences computed here with numpy; inputs are drawn
from each op's registered domain, so the list of binary ops comes from the registry.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from helpers import assert_grads_match, sample
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import autonet
from autonet import Value, call_op
from autonet.engine import stored_gradient
from autonet.ops import REGISTRY

BINARY = sorted(name for name, op in REGISTRY.items() if op.cases.family == "elementwise" and op.arity == 2)
# Losses of two inputs (prediction and target) broadcast them too, before reducing.
BINARY_LOSSES = sorted(name for name, op in REGISTRY.items() if op.cases.family == "loss" and op.arity == 2)

SHAPE_PAIRS = [
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((2, 1, 3), (4, 1)),
    ((1,), (3,)),
    ((2, 3), (2, 3)),
    ((), ()),
    ((1, 1), (2, 3)),
]


def test_binary_ops_come_from_the_registry() -> None:
    assert {"add", "sub", "mul", "div", "pow", "maximum", "minimum"} <= set(BINARY)


def test_column_plus_row_gives_a_table_and_gradients_sum_back() -> None:
    column = Value(np.array([[1.0], [2.0], [3.0]]))
    row = Value(np.array([10.0, 20.0, 30.0, 40.0]))
    table = column + row
    assert table.shape == (3, 4)
    np.testing.assert_array_equal(table.data, column.data + row.data)
    weights = np.arange(12.0).reshape(3, 4)
    (table * weights).sum().backward()
    assert column.grad.shape == (3, 1)
    assert row.grad.shape == (4,)
    np.testing.assert_array_equal(column.grad, weights.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(row.grad, weights.sum(axis=0))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPE_PAIRS, ids=str)
def test_binary_op_broadcast_gradients_match_central_differences(name: str, shape_a, shape_b) -> None:
    op = REGISTRY[name]
    rng = np.random.default_rng(zlib.crc32(repr((name, shape_a, shape_b)).encode()))
    a, b = (sample(domain, shape, rng) for domain, shape in zip(op.domain, (shape_a, shape_b), strict=True))
    expected_shape = np.broadcast_shapes(shape_a, shape_b)
    assert call_op(name, Value(a), Value(b)).shape == expected_shape
    assert_grads_match(lambda x, y: call_op(name, x, y), [a, b])


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPE_PAIRS, ids=str)
def test_where_broadcasts_condition_and_branches(shape_a, shape_b) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    condition = rng.random(np.broadcast_shapes(shape_a, shape_b)) > 0.5
    out = autonet.where(condition, Value(a), Value(b))
    np.testing.assert_array_equal(out.data, np.where(condition, a, b))
    assert_grads_match(lambda x, y: autonet.where(condition, x, y), [a, b])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", BINARY_LOSSES)
@pytest.mark.parametrize(("shape_a", "shape_b"), [((3, 1), (4,)), ((2, 3), ()), ((), (2, 3))], ids=str)
def test_two_input_losses_sum_gradients_back_to_each_shape(name, reduction, shape_a, shape_b) -> None:
    op = REGISTRY[name]
    rng = np.random.default_rng(zlib.crc32(repr((name, reduction, shape_a, shape_b)).encode()))
    a, b = (sample(domain, shape, rng) for domain, shape in zip(op.domain, (shape_a, shape_b), strict=True))
    assert_grads_match(lambda x, y: call_op(name, x, y, reduction=reduction), [a, b])


def test_where_condition_may_be_larger_than_both_branches() -> None:
    a, b = Value(np.arange(4.0)), Value(5.0)
    condition = np.array([[True, False, True, False]] * 3)
    out = autonet.where(condition, a, b)
    assert out.shape == (3, 4)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 0.0, 3.0, 0.0])
    assert b.grad.item() == 6.0


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 2)),
        ((4, 2, 3), (3, 2)),
        ((1, 2, 3), (4, 3, 2)),
        ((5, 1, 2, 3), (4, 3, 1)),
    ],
    ids=str,
)
def test_matmul_broadcasts_batch_axes(shape_a, shape_b) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    np.testing.assert_allclose((Value(a) @ Value(b)).data, a @ b, rtol=1e-12)
    assert_grads_match(lambda x, y: x @ y, [a, b])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
def test_float_backed_scalar_and_zero_d_array_mix_with_arrays(name: str) -> None:
    """A Python-float Value, a 0-d float64 array and plain numbers all broadcast like numpy."""
    rng = np.random.default_rng(3)
    domain_a, domain_b = REGISTRY[name].domain
    array = sample(domain_a, (2, 3), rng)
    scalar = float(sample(domain_b, (), rng))
    scalar_value = Value(scalar)
    for left, right in [(array, scalar), (scalar, array)] if name in ("add", "mul") else [(array, scalar)]:
        assert_grads_match(lambda x, y: call_op(name, x, y), [np.asarray(left), np.asarray(right)])
    vector = Value(array)
    out = call_op(name, vector, scalar_value)
    reference = call_op(name, Value(array, requires_grad=False), Value(np.array(scalar), requires_grad=False))
    np.testing.assert_array_equal(out.data, reference.data)
    out.sum().backward()
    # The lean float path is what this test covers: the scalar's gradient, summed over the
    # broadcast, is stored as a Python float (what stored_gradient promises for float64 scalars).
    assert type(stored_gradient(scalar_value)) is float
    assert scalar_value.grad.shape == ()
    assert vector.grad.shape == (2, 3)


@pytest.mark.parametrize(
    "constant", [2.0, 2, np.float64(2.0), np.array(2.0), np.array([1.0, 2.0, 3.0])], ids=repr
)
def test_constants_on_either_side_broadcast_and_need_no_gradient(constant) -> None:
    x = Value(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    for out, expected, slope in [
        (x * constant, x.data * constant, np.broadcast_to(constant, (2, 3))),
        (constant * x, constant * x.data, np.broadcast_to(constant, (2, 3))),
        (constant - x, constant - x.data, -np.ones((2, 3))),
        (constant / x, constant / x.data, -constant / x.data**2),
    ]:
        assert isinstance(out, Value)
        np.testing.assert_allclose(out.data, expected, rtol=1e-14)
        x.grad = None
        out.sum().backward()
        np.testing.assert_allclose(x.grad, slope, rtol=1e-14)


def test_float32_broadcast_keeps_float32_gradients() -> None:
    a = Value(np.ones((3, 1), dtype=np.float32))
    b = Value(np.full(4, 2.0, dtype=np.float32))
    out = a * b
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.shape == (3, 1)
    assert b.grad.dtype == np.float32 and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 8.0))
    np.testing.assert_array_equal(b.grad, np.full(4, 3.0))
    zero_d = Value(np.array(3.0, dtype=np.float32))
    (zero_d * b).sum().backward()
    assert zero_d.grad.shape == () and zero_d.grad.dtype == np.float32
    assert zero_d.grad.item() == 8.0


def test_broadcast_gradient_can_be_differentiated_again() -> None:
    """Under create_graph the broadcasting undo (a sum) is itself part of the new graph."""
    a_data, b_data = np.array([[1.0], [2.0], [3.0]]), np.array([0.5, -1.0, 2.0, 1.5])
    a, b = Value(a_data), Value(b_data)
    (grad_a,) = autonet.gradients((a * a * b).sum(), [a], create_graph=True)
    assert grad_a.shape == (3, 1)
    np.testing.assert_allclose(grad_a.data, 2 * a_data * b_data.sum())
    # d/db of sum(grad_a) = sum over rows of 2a, the same for every entry of b.
    (grad_b,) = autonet.gradients(grad_a.sum(), [b])
    np.testing.assert_allclose(grad_b, np.full(4, 2 * a_data.sum()))


@given(
    name=st.sampled_from(BINARY),
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_any_broadcastable_shapes_give_gradients_of_the_input_shapes(name, shapes, seed) -> None:
    op = REGISTRY[name]
    rng = np.random.default_rng(seed)
    a, b = (sample(domain, shape, rng) for domain, shape in zip(op.domain, shapes.input_shapes, strict=True))
    assert call_op(name, Value(a), Value(b)).shape == shapes.result_shape
    assert_grads_match(lambda x, y: call_op(name, x, y), [a, b], seed=seed)
