"""Gradients against their closed forms, so central differences are not the only judge.

d tanh = 1 - tanh^2; the softmax Jacobian is diag(s) - s s^T; the gradient of logsumexp is the
softmax; the gradients of A @ B are g @ B.T and A.T @ g.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from autonet import Value, gradients, matmul
from autonet.ops.registry import REAL
from autonet.testing.strategies import arrays_in, op_arrays, shapes

TIGHT = {"rtol": 1e-12, "atol": 1e-14}


def _jacobian(fn, x: np.ndarray) -> np.ndarray:
    """Reverse-mode Jacobian (output elements x input elements), one backward per output element."""
    leaf = Value(x)
    out = fn(leaf)
    rows = []
    for m in range(out.size):
        cotangent = np.zeros(out.shape)
        cotangent.flat[m] = 1.0
        (grad,) = gradients(out, [leaf], gradient=cotangent, retain_graph=True)
        rows.append(np.asarray(grad).ravel())
    return np.array(rows)


@given(op_arrays("tanh"))
def test_tanh_derivative_is_one_minus_tanh_squared(x: np.ndarray) -> None:
    leaf = Value(x)
    leaf.tanh().backward(gradient=np.ones(x.shape))
    np.testing.assert_allclose(leaf.grad, 1 - np.tanh(x) ** 2, **TIGHT)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@given(arrays_in(REAL, shapes(min_dims=1, max_dims=1)))
def test_softmax_jacobian_is_diag_s_minus_s_outer_s(x: np.ndarray) -> None:
    s = _softmax(x, 0)
    np.testing.assert_allclose(_jacobian(lambda v: v.softmax(), x), np.diag(s) - np.outer(s, s), **TIGHT)


@given(arrays_in(REAL, shapes(min_dims=2, max_dims=2)), st.integers(0, 1))
def test_softmax_rows_are_independent_along_the_other_axis(x: np.ndarray, axis: int) -> None:
    # Each slice along `axis` has its own diag(s) - s s^T; slices do not mix.
    s = _softmax(x, axis)
    moved = np.moveaxis(np.arange(x.size).reshape(x.shape), axis, -1).reshape(-1, x.shape[axis])
    expected = np.zeros((x.size, x.size))
    flat_s = s.ravel()
    for slice_ in moved:
        block = np.diag(flat_s[slice_]) - np.outer(flat_s[slice_], flat_s[slice_])
        expected[np.ix_(slice_, slice_)] = block
    np.testing.assert_allclose(_jacobian(lambda v: v.softmax(axis=axis), x), expected, **TIGHT)


@given(arrays_in(REAL, shapes(min_dims=1, max_dims=3)), st.data())
def test_logsumexp_gradient_is_the_softmax(x: np.ndarray, data: st.DataObject) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    leaf = Value(x)
    leaf.logsumexp(axis=axis).sum().backward()
    np.testing.assert_allclose(leaf.grad, _softmax(x, axis), **TIGHT)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.data())
def test_matmul_gradients_are_g_at_b_transposed_and_a_transposed_at_g(
    n: int, k: int, m: int, data: st.DataObject
) -> None:
    a = data.draw(arrays_in(REAL, (n, k)), label="A")
    b = data.draw(arrays_in(REAL, (k, m)), label="B")
    g = data.draw(arrays_in(REAL, (n, m)), label="g")
    left, right = Value(a), Value(b)
    matmul(left, right).backward(gradient=g)
    np.testing.assert_allclose(left.grad, g @ b.T, **TIGHT)
    np.testing.assert_allclose(right.grad, a.T @ g, **TIGHT)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.data())
def test_batched_matmul_gradients_sum_over_a_broadcast_batch(
    n: int, k: int, m: int, data: st.DataObject
) -> None:
    # B is shared by every batch element of A, so its gradient sums A[i].T @ g[i] over the batch.
    batch = data.draw(st.integers(1, 3), label="batch")
    a = data.draw(arrays_in(REAL, (batch, n, k)), label="A")
    b = data.draw(arrays_in(REAL, (k, m)), label="B")
    g = data.draw(arrays_in(REAL, (batch, n, m)), label="g")
    left, right = Value(a), Value(b)
    (left @ right).backward(gradient=g)
    np.testing.assert_allclose(left.grad, g @ b.T, **TIGHT)
    np.testing.assert_allclose(right.grad, np.einsum("bnk,bnm->km", a, g), rtol=1e-12, atol=1e-12)


def test_pinned_values() -> None:
    # d tanh at 0 is 1; d logsumexp of equal entries is uniform; d/dx (x @ [2, 3]) = [2, 3].
    x = Value(0.0)
    x.tanh().backward()
    assert float(x.grad) == 1.0
    y = Value(np.zeros(4))
    y.logsumexp().backward()
    assert y.grad.tolist() == [0.25] * 4
    v = Value(np.array([1.0, -1.0]))
    (v @ Value(np.array([2.0, 3.0]))).backward()
    assert v.grad.tolist() == [2.0, 3.0]
