"""prod and cumsum against numpy and against gradients known in closed form, at the edges too:
zeros in a slice (the gradient is the product of the others, never a division by x), empty
slices, products that underflow or overflow, and the differentiable backward (create_graph)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import check_declared_edge

from autonet import Value, call_op, gradients
from autonet.ops import REGISTRY

RNG = np.random.default_rng(12)


def _product_of_others(x: np.ndarray, axis: int) -> np.ndarray:
    """By brute force: for each element, the product of its slice with that element left out."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty_like(moved)
    n = moved.shape[-1]
    for i in range(n):
        out[..., i] = np.prod(np.delete(moved, i, axis=-1), axis=-1)
    return np.moveaxis(out, -1, axis)


def _with_zeros(shape: tuple[int, ...], count: int) -> np.ndarray:
    x = RNG.uniform(-2.0, 2.0, shape)
    flat = x.reshape(-1, shape[-1])
    for row in flat:
        row[RNG.choice(shape[-1], size=count, replace=False)] = 0.0
    return x


@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_prod_gradient_is_the_product_of_the_others_with_any_number_of_zeros(
    zeros: int, create_graph: bool
) -> None:
    data = _with_zeros((3, 2, 4), zeros)
    x = Value(data)
    out = x.prod(axis=-1)
    np.testing.assert_array_equal(out.data, np.prod(data, axis=-1))
    seed = RNG.uniform(-1.0, 1.0, out.shape)
    out.backward(seed, create_graph=create_graph)
    grad = x.grad.data if create_graph else x.grad
    expected = seed[..., None] * _product_of_others(data, -1)
    np.testing.assert_allclose(grad, expected, rtol=1e-13, atol=1e-15)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), (), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_matches_numpy_over_any_axes(axis, keepdims: bool) -> None:
    data = RNG.uniform(-2.0, 2.0, (2, 3, 2))
    data[0, 1, 0] = 0.0
    x = Value(data)
    out = x.prod(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, np.prod(data, axis=axis, keepdims=keepdims), rtol=1e-14)
    out.backward(np.ones(out.shape))
    # The gradient of a product over several axes: the product of the other elements of the block.
    axes = tuple(range(3)) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    axes = tuple(a % 3 for a in axes)
    expected = np.ones_like(data)
    for index in itertools.product(*map(range, data.shape)):
        if axes:
            block = data[tuple(slice(None) if a in axes else i for a, i in enumerate(index))].copy()
            block[tuple(index[a] for a in axes)] = 1.0
            expected[index] = np.prod(block)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-13, atol=1e-15)


def test_prod_second_derivative_with_a_zero_is_the_product_of_the_remaining_two() -> None:
    # d2 prod / dx_i dx_j = the product of the elements other than i and j: at [0, 2, 3] the
    # Hessian has 3 and 2 in the zero's row, 0 between the others.
    x = Value(np.array([0.0, 2.0, 3.0]))
    (slope,) = gradients(x.prod(), [x], create_graph=True)
    np.testing.assert_array_equal(slope.data, [6.0, 0.0, 0.0])
    hessian = np.stack([gradients(slope[i], [x], retain_graph=True)[0] for i in range(3)])
    np.testing.assert_array_equal(hessian, [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])


def test_prod_of_empty_slices_is_one_with_an_empty_gradient() -> None:
    x = Value(np.zeros((2, 0)))
    out = x.prod(axis=1)
    assert out.data.tolist() == [1.0, 1.0]
    out.sum().backward()
    assert x.grad.shape == (2, 0)
    assert Value(np.zeros(0)).prod().item() == 1.0


def test_prod_gradient_survives_underflow_and_overflow_of_the_product() -> None:
    # g * out / x would give 0 where the product underflows and inf (or nan) where it overflows.
    tiny = Value(np.array([1e-200, 1e-200, 1e200]))
    tiny.prod().backward()
    np.testing.assert_array_equal(tiny.grad, [1.0, 1.0, 0.0])  # the last: 1e-400, below any float
    huge = Value(np.array([1e200, 1e200, 0.0]))
    huge.prod().backward()
    np.testing.assert_array_equal(huge.grad, [0.0, 0.0, np.inf])


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_a_zero_among_others_that_overflow_still_gives_zero_not_nan(create_graph: bool) -> None:
    # The others of each -1e300 hold the zero: their product is exactly 0, though the running
    # products of the rest overflow (0 * inf would be nan); the zero's own is (-1e300)**3 = -inf.
    for data in ([0.0, -1e300, -1e300, -1e300], [-1e300, -1e300, 0.0, -1e300]):
        x = Value(np.array(data))
        (grad,) = gradients(x.prod(), [x], create_graph=create_graph)
        np.testing.assert_array_equal(np.asarray(grad), np.where(np.array(data) == 0, -np.inf, 0.0))


def test_prod_keeps_float32_and_dispatches_from_numpy() -> None:
    x = Value(np.array([1.5, 2.0, -1.0], dtype=np.float32))
    out = np.prod(x)
    assert isinstance(out, Value) and out.dtype == np.float32 and out.item() == -3.0
    out.backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [-2.0, -1.5, 3.0]
    np.testing.assert_array_equal(np.multiply.reduce(Value([[1.0, 2.0], [3.0, 4.0]])).data, [3.0, 8.0])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2])
def test_cumsum_matches_numpy_and_its_gradient_sums_the_seed_from_each_element_on(axis) -> None:
    data = RNG.normal(size=(3, 4))
    x = Value(data)
    out = np.cumsum(x, axis=axis)
    np.testing.assert_allclose(out.data, np.cumsum(data, axis=axis), rtol=1e-14)
    seed = RNG.normal(size=out.shape)
    out.backward(seed)
    # Element i feeds the running sums i, i + 1, ...: its slope is the reverse running sum of the seed.
    if axis is None:
        expected = np.cumsum(seed[::-1])[::-1].reshape(data.shape)
    else:
        expected = np.flip(np.cumsum(np.flip(seed, axis), axis), axis)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-13)


def test_cumsum_of_a_0d_value_is_a_vector_of_one_as_in_numpy() -> None:
    for axis in (None, 0, -1):
        x = Value(2.5)
        out = x.cumsum(axis)
        assert out.shape == (1,) == np.cumsum(np.array(2.5), axis=axis).shape
        out.sum().backward()
        assert x.grad == 1.0


def test_cumsum_differentiates_twice() -> None:
    # sum(cumsum(x) ** 2) = |L x|^2 for L the lower triangle of ones: slope 2 L^T L x, Hessian 2 L^T L.
    x = Value(np.array([1.0, -2.0, 0.5]))
    (slope,) = gradients((x.cumsum() ** 2).sum(), [x], create_graph=True)
    lower = np.tril(np.ones((3, 3)))
    np.testing.assert_allclose(slope.data, 2 * lower.T @ lower @ x.data)
    (hessian_row_sums,) = gradients(slope.sum(), [x])
    np.testing.assert_allclose(hessian_row_sums, (2 * lower.T @ lower).sum(axis=0))


@pytest.mark.parametrize(
    ("call", "error", "clues"),
    [
        (lambda x: x.cumsum(2), np.exceptions.AxisError, ["cumsum", "axis 2", "dimension 2"]),
        (lambda x: x.cumsum((0, 1)), TypeError, ["cumsum", "one int"]),
        (lambda x: call_op("cumsum", x, axis=1.5), TypeError, ["cumsum", "axis", "1.5"]),
        (lambda x: call_op("cumsum", x, axis=-3), np.exceptions.AxisError, ["cumsum", "axis -3", "(2, 3)"]),
        (lambda x: x.prod(axis=3), np.exceptions.AxisError, ["prod", "axis 3", "dimension 2"]),
    ],
)
def test_bad_axes_name_the_op_and_the_axis(call, error, clues) -> None:
    with pytest.raises(error) as caught:
        call(Value(np.ones((2, 3))))
    assert all(clue in str(caught.value) for clue in clues), str(caught.value)


# --------------------------------------------------------------------------- declared edges


@pytest.mark.parametrize(
    ("name", "index"),
    [(name, i) for name in ("prod", "cumsum") for i in range(len(REGISTRY[name].edges))],
)
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_the_declared_edges_hold(name: str, index: int, create_graph: bool) -> None:
    check_declared_edge(name, REGISTRY[name].edges[index], create_graph)
