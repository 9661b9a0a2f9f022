"""The engine's fast paths give the same answers as the general ones.

The hot path has shortcuts for speed (see docs/performance.md): Python-float arithmetic for
scalar graphs, an op's forward saving what its vjp reuses (``Op.saves``, the softmax of a
cross-entropy), a backward walk keyed by identity that pauses the cyclic collector on big graphs,
and an in-place ``v.data -= step``. Each test states what must stay true whichever path runs.
"""

from __future__ import annotations

import gc
import math
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet import Value, gradients
from autonet.nn import cross_entropy
from autonet.ops import REGISTRY
from autonet.ops.registry import REAL, Op
from autonet.surface import apply

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([0.0, -0.0, 1.0, -1.0])
BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(a=FLOATS, b=FLOATS)
def test_scalar_arithmetic_follows_numpy_float64_including_inf_and_nan(name: str, a: float, b: float) -> None:
    with np.errstate(all="ignore"):
        expected = BINARY[name](np.float64(a), np.float64(b))
    got = BINARY[name](Value(a), Value(b)).item()
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_scalar_graph_gradients_match_the_array_path() -> None:
    def f(x: Value, y: Value) -> Value:
        return (x * y + x / y - y**2.0) * x

    scalars = [Value(1.5), Value(-0.5)]
    arrays = [Value(np.array([1.5])), Value(np.array([-0.5]))]
    f(*scalars).backward()
    f(*arrays).sum().backward()
    for s, a in zip(scalars, arrays, strict=True):
        assert float(s.grad) == pytest.approx(float(a.grad[0]), rel=1e-15)


def _logits_and_labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(5, 4)), rng.integers(0, 4, 5)


def test_cross_entropy_saves_its_exponentials_out_of_sight_and_drops_them_after_backward() -> None:
    assert REGISTRY["cross_entropy"].saves
    logits, labels = _logits_and_labels()
    x = Value(logits)
    loss = cross_entropy(x, labels)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert "saved" not in loss.params  # what the forward saved is no parameter of the op
    exp, sums, picks = loss.record.saved  # kept beside them instead: the softmax's two parts
    np.testing.assert_allclose(exp / sums, softmax, rtol=1e-12)
    np.testing.assert_array_equal(logits.reshape(-1)[picks], logits[np.arange(5), labels])
    loss.backward()
    # Released with the graph: the record keeps the op and its parameters, not the softmax.
    assert loss.graph_released and loss.record.saved is None
    assert "saved" not in loss.params and loss.record.op.name == "cross_entropy"
    expected = (softmax - np.eye(4)[labels]) / 5
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


def test_a_retained_graph_reuses_the_saved_softmax_without_spoiling_it() -> None:
    logits, labels = _logits_and_labels()
    x = Value(logits)
    loss = cross_entropy(x, labels)
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-12)


def test_second_derivatives_ignore_the_saved_constant() -> None:
    logits, labels = _logits_and_labels()
    x = Value(logits)
    (g,) = gradients(cross_entropy(x, labels), [x], create_graph=True)
    direction = np.random.default_rng(2).normal(size=logits.shape)
    (hvp,) = gradients((g * direction).sum(), [x])

    def plain_grad(z: np.ndarray) -> np.ndarray:
        v = Value(z)
        cross_entropy(v, labels).backward()
        return v.grad

    eps = 1e-6
    numeric = (plain_grad(logits + eps * direction) - plain_grad(logits - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(hvp, numeric, rtol=1e-5, atol=1e-8)


def _chain(length: int) -> tuple[Value, Value]:
    x = Value(0.5)
    y = x
    for _ in range(length):
        y = y * 1.0
    return x, y


def test_a_big_backward_gives_the_collector_back_as_it_found_it() -> None:
    x, y = _chain(20_000)
    assert gc.isenabled()
    y.backward()
    assert gc.isenabled()
    assert float(x.grad) == 1.0
    gc.disable()
    try:
        x, y = _chain(20_000)
        y.backward()
        assert not gc.isenabled()  # a collector the user switched off stays off
    finally:
        gc.enable()


def test_a_backward_that_fails_midway_still_resumes_the_collector() -> None:
    def broken_vjp(g: object, out: object, x: object) -> object:
        raise ValueError("this vjp always fails")

    broken = Op("broken", lambda x: x * 1.0, (broken_vjp,), (REAL,))  # not registered: test-local
    _, y = _chain(20_000)
    top = apply(broken, y * 1.0)
    with pytest.raises(RuntimeError, match="broken"):
        top.backward()
    assert gc.isenabled()


def test_an_in_place_data_update_keeps_the_array_and_the_new_values() -> None:
    v = Value(np.array([1.0, 2.0]))
    array = v.data
    v.data -= 0.5
    assert v.data is array  # nothing copied or converted
    np.testing.assert_array_equal(v.data, [0.5, 1.5])
    s = Value(1.0)
    s.data -= 0.25
    assert s.item() == 0.75 and s.data.shape == ()
