"""Gradient clipping: the returned total norm, the gradients' norm after clipping (hand-worked),
in place on each parameter's own gradient, skipping parameters without one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autonet import Value, nn
from autonet.engine import stored_gradient
from autonet.nn.utils import clip_grad_norm_, clip_grad_value_
from autonet.optim import SGD


def with_gradients(*gradients) -> list[Value]:
    params = []
    for g in gradients:
        p = Value(np.zeros_like(np.asarray(g, dtype=float)) if np.ndim(g) else 0.0)
        p.grad = g
        params.append(p)
    return params


def test_clip_grad_norm_by_hand():
    # Gradients [3, 4] and 12: total norm sqrt(9 + 16 + 144) = 13; clipped to 6.5 they halve.
    a, b = with_gradients(np.array([3.0, 4.0]), 12.0)
    array = a.grad
    total = clip_grad_norm_([a, b], max_norm=6.5)
    assert total == pytest.approx(13.0) and type(total) is float
    factor = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * factor, 4.0 * factor], rtol=1e-15)
    assert type(stored_gradient(b)) is float  # a float64 scalar keeps the lean path
    assert b.grad.item() == pytest.approx(12.0 * factor, rel=1e-15)
    assert a.grad is array  # in place, on the parameter's own array
    after = math.sqrt(np.sum(a.grad**2) + b.grad.item() ** 2)
    assert after == pytest.approx(6.5, rel=1e-6)


def test_a_norm_within_the_limit_leaves_the_gradients_alone():
    (a,) = with_gradients(np.array([0.3, -0.4]))
    assert clip_grad_norm_([a], max_norm=1.0) == pytest.approx(0.5)
    assert a.grad.tolist() == [0.3, -0.4]


@pytest.mark.parametrize(
    ("norm_type", "total"),
    [(1.0, 3 + 4 + 12), (math.inf, 12.0), (3.0, (27 + 64 + 1728) ** (1 / 3))],
)
def test_other_norm_types_by_hand(norm_type, total):
    a, b = with_gradients(np.array([3.0, -4.0]), -12.0)
    assert clip_grad_norm_([a, b], max_norm=1.0, norm_type=norm_type) == pytest.approx(total, rel=1e-14)
    np.testing.assert_allclose(a.grad, np.array([3.0, -4.0]) / (total + 1e-6), rtol=1e-14)


@given(
    st.lists(
        hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-1e3, 1e3)),
        min_size=1,
        max_size=4,
    ),
    st.floats(1e-3, 1e3),
    st.sampled_from([1.0, 2.0, 3.0, math.inf]),
)
def test_after_clipping_the_total_norm_is_at_most_max_norm(gradients, max_norm, norm_type):
    params = with_gradients(*gradients)
    before = clip_grad_norm_(params, max_norm, norm_type)
    flat = np.concatenate([np.ravel(g) for g in gradients])
    expected = (
        np.max(np.abs(flat), initial=0.0)
        if norm_type == math.inf
        else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    )
    assert before == pytest.approx(expected, rel=1e-12, abs=1e-300)
    after_flat = np.concatenate([np.ravel(p.grad) for p in params])
    after = clip_grad_norm_(params, math.inf, norm_type)  # measures without changing anything
    assert after <= max_norm * (1 + 1e-12)
    np.testing.assert_array_equal(np.concatenate([np.ravel(p.grad) for p in params]), after_flat)
    if before + 1e-6 <= max_norm:  # the factor max_norm / (norm + 1e-6) is at least 1
        np.testing.assert_array_equal(after_flat, flat)


def test_parameters_without_a_gradient_are_skipped_and_none_at_all_give_zero():
    used, unused = Value(np.zeros(2)), Value(np.zeros(3))
    used.grad = np.array([6.0, 8.0])
    assert clip_grad_norm_([used, unused], max_norm=5.0) == pytest.approx(10.0)
    assert stored_gradient(unused) is None
    clip_grad_value_([used, unused], 0.1)
    assert stored_gradient(unused) is None and used.grad.tolist() == pytest.approx([0.1, 0.1])
    assert clip_grad_norm_([Value(1.0)], max_norm=1.0) == 0.0


def test_clip_grad_norm_works_on_a_model_between_backward_and_step():
    model = nn.MLP(2, [8, 1], rng=0)
    loss = (model(np.array([[100.0, -100.0]])) ** 2).sum()
    loss.backward()
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total > 1.0
    assert clip_grad_norm_(model.parameters(), max_norm=math.inf) == pytest.approx(1.0, rel=1e-5)
    before = [p.numpy().copy() for p in model.parameters()]
    SGD(model.parameters(), lr=0.1).step()
    moved = math.sqrt(sum(np.sum((p.data - q) ** 2) for p, q in zip(model.parameters(), before, strict=True)))
    assert moved == pytest.approx(0.1, rel=1e-5)  # lr times the clipped norm


def test_float32_gradients_stay_float32():
    p = Value(np.zeros(3, dtype=np.float32))
    p.grad = np.array([3.0, 4.0, 0.0], dtype=np.float32)
    clip_grad_norm_(p, max_norm=1.0)  # a single Value is accepted, as in torch
    assert p.grad.dtype == np.float32 and np.allclose(p.grad, [0.6, 0.8, 0.0], rtol=1e-5)


def test_gradients_that_are_values_are_clipped_in_place():
    p = Value(np.array([3.0, 4.0]))
    (p * p).sum().backward(create_graph=True)  # gradient 2p = [6, 8], a Value
    assert clip_grad_norm_([p], max_norm=5.0) == pytest.approx(10.0)
    assert isinstance(p.grad, Value) and p.grad.tolist() == pytest.approx([3.0, 4.0], rel=1e-6)
    clip_grad_value_([p], 3.5)
    assert p.grad.tolist() == pytest.approx([3.0, 3.5], rel=1e-6)


def test_a_nonfinite_norm_raises_only_when_asked():
    (p,) = with_gradients(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match=r"total norm of order 2\.0 of the gradients is inf"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [np.inf, 1.0]
    assert clip_grad_norm_([p], 1.0) == math.inf  # as torch: scaled by 0, so inf * 0 = nan
    assert np.isnan(p.grad[0]) and p.grad[1] == 0.0


def test_clip_grad_value_by_hand():
    a, b = with_gradients(np.array([[-2.0, 0.5], [0.25, 3.0]]), -7.0)
    array = a.grad
    assert clip_grad_value_([a, b], clip_value=1.0) is None
    assert a.grad.tolist() == [[-1.0, 0.5], [0.25, 1.0]] and a.grad is array
    assert stored_gradient(b) == -1.0 and type(stored_gradient(b)) is float


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: clip_grad_norm_([Value(1.0)], -1.0), ValueError, "max_norm must be >= 0"),
        (lambda: clip_grad_norm_([Value(1.0)], 1.0, norm_type=0), ValueError, "norm_type must be > 0"),
        (lambda: clip_grad_norm_([np.ones(2)], 1.0), TypeError, "parameter 0 is a ndarray, not a Value"),
        (lambda: clip_grad_value_([Value(1.0)], -0.5), ValueError, "clip_value must be >= 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
