"""jvp, linearize, vjp, jacobian, hessian and hvp (autonet/transforms.py) against closed forms,
with the argument kinds, dtypes and errors they promise; and gradcheck's forward mode."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest

from autonet import (
    GradcheckError,
    Value,
    call_op,
    gradcheck,
    gradgradcheck,
    hessian,
    hvp,
    jacobian,
    jvp,
    linearize,
    no_grad,
    vjp,
)
from autonet.gradcheck import check_op
from autonet.ops import REGISTRY, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE

RNG = np.random.default_rng(7)
X = np.array([0.3, -1.2, 2.0])
A = RNG.standard_normal((3, 3))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


# --------------------------------------------------------------------------- closed forms


def test_jvp_gives_the_value_and_the_directional_derivative() -> None:
    out, slope = jvp(lambda x: x.sin() * x, (X,), (np.array([1.0, 0.0, 2.0]),))
    np.testing.assert_allclose(out, np.sin(X) * X)
    derivative = np.cos(X) * X + np.sin(X)
    np.testing.assert_allclose(slope, derivative * [1.0, 0.0, 2.0], rtol=1e-14)


def test_jvp_of_several_arguments_adds_their_shares_and_keeps_tuple_outputs() -> None:
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ta, tb = np.array([0.5, 1.0]), np.array([2.0, 0.0])
    (prod, total), (dprod, dtotal) = jvp(lambda a, b: (a * b, (a + b).sum()), (a, b), (ta, tb))
    np.testing.assert_allclose(prod, a * b)
    np.testing.assert_allclose(dprod, ta * b + a * tb)
    assert float(total) == 5.0 and float(dtotal) == pytest.approx(ta.sum() + tb.sum())


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_the_jacobian_of_softmax_is_diag_s_minus_s_s_transposed(mode: str) -> None:
    s = _softmax(X)
    found = jacobian(lambda x: x.softmax(), mode=mode)(X)
    np.testing.assert_allclose(found, np.diag(s) - np.outer(s, s), atol=1e-15)


def test_jacobian_shapes_are_output_shape_then_input_shape_per_argnum() -> None:
    w, x = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    dw, dx = jacobian(lambda w, x: (w @ x).tanh(), argnums=(0, 1))(w, x)
    y = np.tanh(w @ x)
    assert dw.shape == (2, 2, 3) and dx.shape == (2, 3)
    np.testing.assert_allclose(dx, (1 - y**2)[:, None] * w, rtol=1e-12)
    expected = np.zeros((2, 2, 3))
    for i in range(2):
        expected[i, i] = (1 - y[i] ** 2) * x
    np.testing.assert_allclose(dw, expected, rtol=1e-12, atol=1e-15)
    # A negative argnum names the same argument.
    np.testing.assert_allclose(jacobian(lambda w, x: (w @ x).tanh(), argnums=-1)(w, x), dx)


def test_the_hessian_of_a_quadratic_form_is_a_plus_a_transposed() -> None:
    found = hessian(lambda x: x @ (A @ x))(X)
    np.testing.assert_allclose(found, A + A.T, rtol=1e-12)


def test_hessian_blocks_for_two_arguments() -> None:
    # f = sum(x^2 y): d2/dx2 = diag(2y), d2/dxdy = diag(2x), d2/dy2 = 0.
    x, y = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    (hxx, hxy), (hyx, hyy) = hessian(lambda x, y: (x * x * y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(hxx, np.diag(2 * y))
    np.testing.assert_allclose(hxy, np.diag(2 * x))
    np.testing.assert_allclose(hyx, np.diag(2 * x))
    np.testing.assert_allclose(hyy, np.zeros((2, 2)))


def test_hvp_equals_the_hessian_times_the_vector() -> None:
    def f(x: Value) -> Value:
        return (x.tanh() ** 2).sum() + (x @ (A @ x)) * 0.1

    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(hvp(f, (X,), (v,)), hessian(f)(X) @ v, rtol=1e-12)
    # The second derivative of x^3 at 2, times 1: 12.
    assert float(hvp(lambda x: x**3, (2.0,), (1.0,))) == pytest.approx(12.0)


def test_hvp_of_two_arguments_gives_one_product_per_argument() -> None:
    x, y = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    tx, ty = np.array([1.0, 1.0]), np.array([2.0, -1.0])
    hx, hy = hvp(lambda x, y: (x * x * y).sum(), (x, y), (tx, ty))
    np.testing.assert_allclose(hx, 2 * y * tx + 2 * x * ty)
    np.testing.assert_allclose(hy, 2 * x * tx)


def test_vjp_pulls_back_any_number_of_cotangents_through_one_forward() -> None:
    calls = []

    def f(a: Value, b: Value) -> Value:
        calls.append(1)
        return a * b.exp()

    a, b = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    out, pull = vjp(f, a, b)
    np.testing.assert_allclose(out, a * np.exp(b))
    for u in (np.array([1.0, 0.0]), np.array([0.5, 2.0])):
        ga, gb = pull(u)
        np.testing.assert_allclose(ga, u * np.exp(b))
        np.testing.assert_allclose(gb, u * a * np.exp(b))
    assert len(calls) == 1


def test_linearize_pushes_many_tangents_through_one_forward() -> None:
    calls = []

    def f(x: Value) -> Value:
        calls.append(1)
        return x.exp().sum()

    out, push = linearize(f, X)
    assert float(out) == pytest.approx(np.exp(X).sum())
    for k in range(3):
        assert float(push(np.eye(3)[k])) == pytest.approx(np.exp(X[k]))
    assert len(calls) == 1


def test_a_long_chain_needs_no_recursion() -> None:
    def chain(x: Value) -> Value:
        for _ in range(10_000):
            x = x * 1.0
        return x

    assert float(jvp(chain, (1.5,), (2.0,))[1]) == 2.0


# --------------------------------------------------------------------------- auto mode


@pytest.fixture
def sin_with_a_wrong_jvp() -> Iterator[str]:
    # Forward and reverse mode then disagree, so the mode a Jacobian took can be seen.
    op = register(
        Op(
            "sin_wrong_jvp",
            np.sin,
            (lambda g, out, x: g * np.cos(x),),
            (Domain(),),
            jvps=(lambda t, out, x: 2 * t * np.cos(x),),
            cases=ELEMENTWISE,
            edges=(Edge("x = 0", (0.0,), grads=(1.0,), value=0.0),),
        )
    )
    try:
        yield op.name
    finally:
        del REGISTRY[op.name]


def test_auto_takes_forward_mode_for_fewer_inputs_than_outputs(sin_with_a_wrong_jvp: str) -> None:
    def spread(x: Value) -> Value:  # one input element, three outputs
        return call_op(sin_with_a_wrong_jvp, x * np.array([1.0, 2.0, 3.0]))

    def gather(x: Value) -> Value:  # three input elements, one output
        return call_op(sin_with_a_wrong_jvp, x).sum()

    right = np.cos(0.5 * np.array([1.0, 2.0, 3.0])) * [1.0, 2.0, 3.0]
    np.testing.assert_allclose(jacobian(spread)(0.5), 2 * right)  # forward: the jvp
    np.testing.assert_allclose(jacobian(spread, mode="reverse")(0.5), right)
    np.testing.assert_allclose(jacobian(gather)(X), np.cos(X))  # reverse: the vjp
    np.testing.assert_allclose(jacobian(gather, mode="forward")(X), 2 * np.cos(X))


# --------------------------------------------------------------------------- arguments and dtypes


@pytest.mark.parametrize("kind", ["float", "array", "Value"])
def test_numbers_arrays_and_values_give_the_same_arrays(kind: str) -> None:
    x = {"float": 0.7, "array": np.array(0.7), "Value": Value(0.7)}[kind]
    out, slope = jvp(lambda x: x.tanh(), (x,), (1.0,))
    assert isinstance(out, np.ndarray) and isinstance(slope, np.ndarray)
    assert float(slope) == pytest.approx(1 - np.tanh(0.7) ** 2)
    assert float(jacobian(lambda x: x.tanh())(x)) == pytest.approx(1 - np.tanh(0.7) ** 2)
    assert float(hessian(lambda x: x**3)(x)) == pytest.approx(6 * 0.7)


def test_integer_arguments_become_float64() -> None:
    out, slope = jvp(lambda x: x * x, (np.array([1, 2]),), (np.array([1, 1]),))
    assert out.dtype == slope.dtype == np.float64 and slope.tolist() == [2.0, 4.0]


def test_float32_stays_float32() -> None:
    x = X.astype(np.float32)
    out, slope = jvp(lambda x: x.softmax(), (x,), (np.ones(3, np.float32),))
    assert out.dtype == slope.dtype == np.float32
    assert jacobian(lambda x: x.softmax(), mode="forward")(x).dtype == np.float32
    assert jacobian(lambda x: x.softmax(), mode="reverse")(x).dtype == np.float32
    assert vjp(lambda x: x.exp(), x)[1](np.ones(3, np.float32))[0].dtype == np.float32
    assert hvp(lambda x: (x**3).sum(), (x,), (np.ones(3, np.float32),)).dtype == np.float32


def test_forward_mode_leaves_every_grad_and_graph_as_it_was() -> None:
    w = Value([[1.0, 2.0], [3.0, 4.0]], label="w")
    x = Value([0.5, -1.0])
    before = w.numpy().copy()
    with no_grad():  # the functions record what they need whatever the grad mode
        _, slope = jvp(lambda x: (w @ x).tanh(), (x,), (np.array([1.0, 0.0]),))
        hessian(lambda x: ((w @ x) ** 2).sum())(x)
    np.testing.assert_allclose(slope, (1 - np.tanh(w.numpy() @ x.numpy()) ** 2) * w.numpy()[:, 0])
    # .grad reads zeros until a backward reaches a Value: none did.
    assert not w.grad.any() and not x.grad.any() and x.record is None
    np.testing.assert_array_equal(w.numpy(), before)
    # A graph of the user's, recorded before, still backpropagates once the tangents are through,
    # and a Value whose graph a backward released is a constant like any other.
    y = (w @ x).sum()
    _, push = linearize(lambda v: v * y, 2.0)
    assert float(push(1.0)) == y.item()
    y.backward()
    np.testing.assert_allclose(x.grad, w.numpy().sum(axis=0))
    assert float(jvp(lambda v: v * y, (2.0,), (1.0,))[1]) == y.item()


# --------------------------------------------------------------------------- errors


def test_a_tangent_of_another_shape_or_dtype_names_its_argument() -> None:
    def f(a: Value, b: Value) -> Value:
        return a * b

    with pytest.raises(ValueError, match=re.escape("jvp: tangent 1 has shape (2,), it needs shape (3,)")):
        jvp(f, (X, X), (X, np.ones(2)))
    with pytest.raises(TypeError, match="jvp: tangent 0 has dtype float64, it needs dtype float32"):
        jvp(f, (X.astype(np.float32), X), (X, X))
    with pytest.raises(TypeError, match="jvp: tangent 0 must hold real numbers"):
        jvp(f, (X, X), (np.array(["a", "b", "c"]), X))
    with pytest.raises(ValueError, match="jvp: 2 primals but 1 tangents"):
        jvp(f, (X, X), (X,))
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple .* write \(primal,\)"):
        jvp(lambda x: x, X, X)
    with pytest.raises(ValueError, match=re.escape("vjp: the cotangent has shape (2,), it needs shape (3,)")):
        vjp(lambda x: x.exp(), X)[1](np.ones(2))
    with pytest.raises(ValueError, match=re.escape("hvp: tangent 0 has shape (), it needs shape (3,)")):
        hvp(lambda x: (x**2).sum(), (X,), (1.0,))


def test_a_function_that_returns_no_value_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="jvp: the function returned ndarray, not a Value"):
        jvp(lambda x: x.numpy() * 2, (X,), (X,))
    with pytest.raises(TypeError, match="jacobian: output 1 of the function returned float, not a Value"):
        jacobian(lambda x: (x, 1.0))(X)
    with pytest.raises(TypeError, match="vjp: expected a function first, got ndarray"):
        vjp(X, X)


def test_bad_modes_and_argnums_are_refused() -> None:
    with pytest.raises(ValueError, match="jacobian: mode must be one of"):
        jacobian(lambda x: x, mode="sideways")
    with pytest.raises(ValueError, match="jacobian: argnums 2 do not name positional arguments of a call"):
        jacobian(lambda a, b: a * b, argnums=2)(1.0, 2.0)


# --------------------------------------------------------------------------- gradcheck's forward mode


@pytest.fixture
def cube_with_a_wrong_jvp() -> Iterator[str]:
    op = register(
        Op(
            "cube_wrong_jvp",
            lambda x: x**3,
            (lambda g, out, x: 3 * g * x**2,),
            (Domain(-2.0, 2.0),),
            jvps=(lambda t, out, x: 3 * t * x,),  # wrong on purpose: should be 3 * t * x**2
            cases=ELEMENTWISE,
            edges=(Edge("x = 0", (0.0,), grads=(0.0,), value=0.0),),
        )
    )
    try:
        yield op.name
    finally:
        del REGISTRY[op.name]


def test_a_wrong_jvp_fails_the_forward_check_readably(cube_with_a_wrong_jvp: str) -> None:
    def fn(x: Value) -> Value:
        return call_op(cube_with_a_wrong_jvp, x)

    x = Value(np.array([0.5, -1.0, 2.0]), label="x")
    assert gradcheck(fn, x)  # reverse mode is right
    with pytest.raises(GradcheckError) as caught:
        gradcheck(fn, x, mode="forward")
    message = str(caught.value)
    assert message.startswith(
        "gradcheck: the derivative of the output at index (0,) with respect to input 0 'x' (shape (3,)) "
        "at index (0,) is wrong"
    )
    analytic = float(re.search(r"analytic \(forward mode\):\s+(\S+)", message).group(1))
    numerical = float(re.search(r"numerical \(central difference\):\s+(\S+)", message).group(1))
    assert analytic == pytest.approx(1.5) and numerical == pytest.approx(0.75, rel=1e-6)
    assert gradcheck(fn, x, mode="both", raise_exception=False) is False
    with pytest.raises(GradcheckError, match="along a random tangent of the inputs"):
        gradcheck(fn, x, mode="forward", projections=2)
    report = check_op(cube_with_a_wrong_jvp, [((np.array([0.5, 1.0]),), {})], mode="forward")
    assert not report.passed and report.mode == "forward"
    assert "analytic (forward mode)" in report.message and "op cube_wrong_jvp" in report.message
    assert check_op(cube_with_a_wrong_jvp, [((np.array([0.5, 1.0]),), {})]).passed


def test_the_forward_check_passes_right_functions_of_several_inputs_and_outputs() -> None:
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    assert gradcheck(lambda a, b: ((a @ b).tanh(), (a * b).sum()), a, b, mode="both")
    assert gradcheck(lambda a, b: a.softmax(axis=1) * b, a, Value(b, requires_grad=False), mode="forward")
    with pytest.raises(ValueError, match="gradcheck: mode must be one of"):
        gradcheck(lambda x: x, X, mode="sideways")


def test_gradgradcheck_checks_forward_over_reverse() -> None:
    assert gradgradcheck(lambda x: (x**3).sum(), X, mode="forward")
