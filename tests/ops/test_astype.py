"""astype: numpy's cast on a Value, inside the graph; the gradient comes back in the input's dtype."""

from __future__ import annotations

import numpy as np
import pytest

import autonet
from autonet import Value, optim
from autonet.storage import stored_gradient


def test_a_float32_copy_rounds_and_the_gradient_is_float64_again() -> None:
    numbers = np.array([0.1, 1 / 3, -2.5])
    x = Value(numbers)
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.op.name == "astype"
    np.testing.assert_array_equal(y.data, numbers.astype(np.float32))
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    # d/dx sum(f32(x)^2) = 2 f32(x), computed in float32 and cast back.
    np.testing.assert_array_equal(x.grad, (2 * numbers.astype(np.float32)).astype(np.float64))


def test_float32_to_float64_is_exact_both_ways() -> None:
    numbers = np.array([0.1, -3.7], dtype=np.float32)
    x = Value(numbers)
    y = x.astype("float64")
    np.testing.assert_array_equal(y.data, numbers.astype(np.float64))
    y.backward(np.array([0.5, 3.0]))
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.5, 3.0]


def test_a_float64_scalar_casts_to_a_0d_float32_and_keeps_its_float_gradient() -> None:
    x = Value(0.1)
    y = x.astype(np.float32)
    assert y.shape == () and y.dtype == np.float32
    (y * 3.0).backward()
    gradient = stored_gradient(x)
    assert type(gradient) is float and gradient == 3.0


def test_copy_false_gives_the_value_itself_only_where_nothing_changes() -> None:
    x = Value([1.0, 2.0])
    assert x.astype(np.float64, copy=False) is x
    copied = x.astype(np.float64)
    assert copied is not x and copied.op.name == "astype"
    copied.data[0] = 9.0
    assert x.tolist() == [1.0, 2.0]  # a copy, as numpy's astype
    assert x.astype(np.float32, copy=False).dtype == np.float32


def test_numpys_astype_function_keeps_the_graph() -> None:
    if not hasattr(np, "astype"):
        pytest.fail("numpy.astype is numpy >= 2.1's; this numpy lacks it")
    x = Value([1.0, 4.0])
    y = np.astype(x, np.float32)
    assert isinstance(y, Value) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="device"):
        np.astype(x, np.float32, device="gpu")


@pytest.mark.parametrize(
    ("dtype", "named"),
    [(np.int32, "int32"), (bool, "bool"), ("complex128", "complex128"), ("no such", "not understood")],
)
def test_what_is_no_float_dtype_is_refused_by_name(dtype, named) -> None:
    with pytest.raises(TypeError, match=rf"astype: dtype must be a float dtype.*{named}"):
        Value([1.0]).astype(dtype)


def test_a_value_or_an_array_is_no_dtype() -> None:
    # np.dtype would read theirs; passing one is a slip for its .dtype.
    with pytest.raises(TypeError, match=r"astype: dtype .* got a ndarray"):
        Value([1.0]).astype(np.zeros(1, np.float32))


def test_second_derivatives_pass_through_the_cast() -> None:
    x = Value([1.0, -2.0])
    (x.astype(np.float32) ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.dtype == np.float64
    np.testing.assert_array_equal(first.data, [3.0, 12.0])  # 3 x^2
    x.zero_grad()
    first.sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, -12.0])  # 6 x


def test_a_float32_model_on_float64_inputs_trains_the_same_compiled() -> None:
    def make():
        rng = np.random.default_rng(0)
        w = Value(rng.normal(size=(3, 2)).astype(np.float32))
        optimizer = optim.SGD([w], lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = ((x.astype(np.float32) @ w).tanh() ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.item()

        return w, step

    (w0, eager), (w1, step) = make(), make()
    compiled = autonet.compile(step)
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = Value(rng.normal(size=(5, 3)), requires_grad=False)
        assert compiled(x) == eager(x)
    np.testing.assert_array_equal(w1.data, w0.data)
    assert w1.dtype == np.float32 and compiled.traces == 1
