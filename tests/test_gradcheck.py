"""The public gradient checks: they pass right gradients and catch wrong ones with a message that
says which input, which element, both values and the tolerance.

The wrong vjps are defined here, not in the library: an op applied through the engine (or
registered for one test and removed afterwards) whose gradient is off by a factor, by a sign,
transposed, or not linear in its output gradient.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from autonet import Value, call_op
from autonet.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from autonet.ops import REGISTRY, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE
from autonet.surface import apply

X = np.array([0.5, -1.0, 2.0])
SQUARE_A = np.array([[1.0, 2.0], [-0.5, 3.0]])
SQUARE_B = np.array([[0.3, -1.2], [2.0, 0.7]])  # not symmetric, so B and B.T differ


def _sin_op(vjp: Callable[..., Any], name: str = "sin_under_test") -> Op:
    # register() wants the edges an op declares (sin's value and slope at 0) and its cases.
    edges = (Edge("x = 0", (0.0,), grads=(1.0,), value=0.0),)
    jvps = (lambda t, out, x: t * np.cos(x),)
    return Op(name, np.sin, (vjp,), (Domain(),), cases=ELEMENTWISE, edges=edges, jvps=jvps)


def _apply_sin(vjp: Callable[..., Any]) -> Callable[[Value], Value]:
    op = _sin_op(vjp)
    return lambda x: apply(op, x)


def _matmul_transposed_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    return g @ b  # should be g @ b.T


MATMUL_WRONG = Op(
    "matmul_under_test", np.matmul, (_matmul_transposed_a, lambda g, out, a, b: a.T @ g), (Domain(), Domain())
)

WRONG_FUNCTIONS: dict[str, tuple[Callable[..., Value], tuple[np.ndarray, ...]]] = {
    "off-by-factor": (_apply_sin(lambda g, out, x: 2 * g * np.cos(x)), (X,)),
    "wrong-sign": (_apply_sin(lambda g, out, x: -g * np.cos(x)), (X,)),
    "transposed": (lambda a, b: apply(MATMUL_WRONG, a, b), (SQUARE_A, SQUARE_B)),
    # Right for every one-hot output gradient (g * |g| = g there), wrong for any other.
    "not-linear-in-g": (_apply_sin(lambda g, out, x: g * np.abs(g) * np.cos(x)), (X,)),
}


@pytest.mark.parametrize("case", list(WRONG_FUNCTIONS))
def test_gradcheck_catches_a_wrong_vjp(case: str) -> None:
    fn, inputs = WRONG_FUNCTIONS[case]
    with pytest.raises(GradcheckError, match=r"input \d.*at index") as caught:
        gradcheck(fn, *inputs)
    message = str(caught.value)
    assert "analytic (reverse mode)" in message and "numerical (central difference)" in message
    assert "tolerance" in message
    assert gradcheck(fn, *inputs, raise_exception=False) is False


@pytest.mark.parametrize("case", list(WRONG_FUNCTIONS))
def test_random_projections_also_catch_a_wrong_vjp(case: str) -> None:
    fn, inputs = WRONG_FUNCTIONS[case]
    assert gradcheck(fn, *inputs, projections=2, raise_exception=False) is False


def test_the_right_vjps_pass_in_both_modes() -> None:
    right_sin = _apply_sin(lambda g, out, x: g * np.cos(x))
    assert gradcheck(right_sin, X)
    assert gradcheck(right_sin, X, projections=3)
    right_matmul = Op(
        "matmul_right",
        np.matmul,
        (lambda g, out, a, b: g @ b.T, lambda g, out, a, b: a.T @ g),
        (Domain(), Domain()),
    )
    assert gradcheck(lambda a, b: apply(right_matmul, a, b), SQUARE_A, SQUARE_B)


def test_the_message_names_the_input_the_element_and_both_values() -> None:
    fn = _apply_sin(lambda g, out, x: 2 * g * np.cos(x))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda w: fn(w).sum(), Value(X, label="weights"))
    message = str(caught.value)
    assert "input 0 'weights' (shape (3,)) at index (0,)" in message
    analytic = float(re.search(r"analytic \(reverse mode\):\s+(\S+)", message).group(1))
    numerical = float(re.search(r"numerical \(central difference\):\s+(\S+)", message).group(1))
    assert analytic == pytest.approx(2 * np.cos(0.5), rel=1e-12)
    assert numerical == pytest.approx(np.cos(0.5), rel=1e-6)
    assert f"1e-05 + 0.001 * {abs(numerical):.3g}" in message


@pytest.fixture
def registered_wrong_op() -> Iterator[str]:
    op = register(_sin_op(lambda g, out, x: g * np.cos(x) + 0.1, name="sin_off_by_constant"))
    try:
        yield op.name
    finally:
        del REGISTRY[op.name]


def test_a_wrong_op_registered_for_a_test_fails_through_call_op(registered_wrong_op: str) -> None:
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x: call_op(registered_wrong_op, x), X)


def test_tensor_outputs_are_checked_element_by_element_and_name_the_output() -> None:
    assert gradcheck(lambda a, b: (a @ b).tanh(), SQUARE_A, SQUARE_B)
    assert gradcheck(lambda x: (x.exp(), x.sum(), x[1:] * x[:-1]), X)
    wrong = _apply_sin(lambda g, out, x: -g * np.cos(x))
    with pytest.raises(GradcheckError, match=r"output 1 at index \(0,\) with respect to input 0"):
        gradcheck(lambda x: (x.exp(), wrong(x)), X)


def test_constant_inputs_are_not_checked() -> None:
    wrong = _apply_sin(lambda g, out, x: 3 * g * np.cos(x))
    fn = lambda x, c: x * wrong(c)
    assert gradcheck(fn, X, Value(X[::-1].copy(), requires_grad=False))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(fn, X, X[::-1].copy())


def test_numbers_ints_and_values_are_accepted() -> None:
    assert gradcheck(lambda x: x**3, 2.0)
    assert gradcheck(lambda x, y: x * y + y, 3, np.array([1, 2]))
    assert gradcheck(lambda x: x.sigmoid(), Value(np.array([[0.1, -0.2]])))


def test_float32_inputs_are_refused_unless_allowed() -> None:
    x32 = X.astype(np.float32)
    with pytest.raises(TypeError, match=r"input 0 has dtype float32.*float64.*allow_float32=True"):
        gradcheck(lambda x: x.exp(), x32)
    with pytest.raises(TypeError, match="float32"):
        gradgradcheck(lambda x: x.exp(), Value(x32))
    with pytest.raises(TypeError, match="float32"):
        numerical_grad(lambda x: x.sum(), x32)
    assert gradcheck(lambda x: x.exp(), x32, allow_float32=True)


def test_non_numeric_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="input 0 must hold real numbers"):
        gradcheck(lambda x: x, np.array(["a"]))


def test_the_callers_arrays_are_untouched_and_a_mutating_function_fails() -> None:
    x = X.copy()
    gradcheck(lambda v: (v * v).sum(), x)
    np.testing.assert_array_equal(x, X)

    def mutating(v: Value) -> Value:
        v.data[0] = 0.0
        return v.sum()

    with pytest.raises(ValueError, match="changed input 0 in place"):
        gradcheck(mutating, x)


def test_gradgradcheck_passes_right_second_derivatives() -> None:
    assert gradgradcheck(lambda x: (x**3).sum(), X)
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), SQUARE_A, SQUARE_B)
    assert gradgradcheck(lambda x: x.sin(), X, grad_outputs=np.array([1.0, -2.0, 0.5]))


def test_gradgradcheck_catches_a_vjp_that_leaves_the_graph() -> None:
    # np.asarray(x) takes a Value's data: the gradient is right, but its own gradient is lost.
    detached = _apply_sin(lambda g, out, x: g * np.cos(np.asarray(x)))
    assert gradcheck(detached, X)
    with pytest.raises(GradcheckError, match=r"gradgradcheck: the gradient of the gradient for input 0"):
        gradgradcheck(detached, X)


def test_gradgradcheck_checks_the_output_gradient_too() -> None:
    # np.asarray(g) detaches the output gradient: first order is right, d/d(grad_outputs) is lost.
    detached_g = _apply_sin(lambda g, out, x: np.asarray(g) * np.cos(x))
    assert gradcheck(detached_g, X)
    with pytest.raises(GradcheckError, match=r"with respect to grad_outputs\[0\]"):
        gradgradcheck(detached_g, X)


def test_gradgradcheck_validates_grad_outputs() -> None:
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(2,\) but output 0 has shape \(3,\)"):
        gradgradcheck(lambda x: x.exp(), X, grad_outputs=np.ones(2))


def test_numerical_grad_matches_closed_forms() -> None:
    y = np.array([[0.2], [-0.7]])
    grad_x, grad_y = numerical_grad(lambda x, y: (x * y.exp()).sum(), X, y)
    np.testing.assert_allclose(grad_x, np.full(X.shape, np.exp(y).sum()), rtol=1e-8)
    np.testing.assert_allclose(grad_y, X.sum() * np.exp(y), rtol=1e-8)
    (grad,) = numerical_grad(lambda x: x**3, 2.0)
    assert grad.shape == () and float(grad) == pytest.approx(12.0, rel=1e-9)


def test_numerical_grad_needs_a_scalar() -> None:
    with pytest.raises(ValueError, match="must return one scalar, it returned 3 elements"):
        numerical_grad(lambda x: x * 2, X)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="eps must be positive"):
        gradcheck(lambda x: x, X, eps=0.0)
    with pytest.raises(ValueError, match="projections"):
        gradcheck(lambda x: x, X, projections=0)


def test_pytorchs_spelling_one_tuple_of_inputs_is_the_same_check() -> None:
    def f(x, y):
        return (x * y.sin()).sum()

    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    assert gradcheck(f, (x, y)) and gradcheck(f, (Value(x), Value(y))) and gradgradcheck(f, (x, y))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: Value(b.data) * a, (x, y))  # b's graph is cut: its gradient is wrong
    assert gradcheck(lambda rows: rows.sum(axis=0), [[1.0, 2.0], [3.0, 4.0]])  # a list stays one input
