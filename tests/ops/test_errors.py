"""Bad shapes give an error that names the op and both shapes, and leave nothing half-done."""

from __future__ import annotations

import numpy as np
import pytest

import autonet
from autonet import Value, call_op
from autonet.ops import REGISTRY
from autonet.ops.registry import REAL, Op

BINARY = sorted(name for name, op in REGISTRY.items() if op.cases.family == "elementwise" and op.arity == 2)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize(
    ("shape_a", "shape_b"), [((3,), (4,)), ((2, 3), (3, 2)), ((4, 1, 3), (2, 4))], ids=str
)
def test_binary_shape_mismatch_names_the_op_and_both_shapes(name, shape_a, shape_b) -> None:
    a, b = Value(np.ones(shape_a)), Value(np.ones(shape_b))
    with pytest.raises(ValueError) as caught:
        call_op(name, a, b)
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert str(shape_a) in message and str(shape_b) in message


@pytest.mark.parametrize(
    ("build", "op"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b.data, "sub"),
        (lambda a, b: a.data * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: np.maximum(a, b), "maximum"),
        (lambda a, b: autonet.where(np.ones(3, dtype=bool), a, b), "where"),
    ],
    ids=["+", "- array", "array *", "/", "**", "np.maximum", "where"],
)
def test_operators_and_numpy_calls_report_the_op(build, op) -> None:
    with pytest.raises(ValueError) as caught:
        build(Value(np.ones(3)), Value(np.ones(4)))
    message = str(caught.value)
    assert message.startswith(f"{op}:")
    assert "(3,)" in message and "(4,)" in message


def test_add_of_3_and_4_names_add_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"^add: .*\(3,\).*\(4,\)"):
        Value([1.0, 2.0, 3.0]) + Value([1.0, 2.0, 3.0, 4.0])


def test_matmul_names_both_shapes_and_the_inner_sizes() -> None:
    with pytest.raises(ValueError) as caught:
        Value(np.ones((3, 4))) @ Value(np.ones((5, 2)))
    assert str(caught.value) == "matmul: shapes (3, 4) and (5, 2) are not aligned: 4 != 5"


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "pieces"),
    [
        ((3,), (4,), ["3 != 4"]),
        ((2, 3), (4,), ["3 != 4"]),
        ((3,), (2, 4), ["3 != 2"]),
        ((2, 3, 4), (5, 4, 2), ["(2,)", "(5,)", "batch"]),
        ((), (3,), ["at least one dimension"]),
    ],
    ids=str,
)
def test_matmul_errors_name_both_shapes(shape_a, shape_b, pieces) -> None:
    a, b = Value(np.ones(shape_a)), Value(np.ones(shape_b))
    for left, right in [(a, b), (a, b.data), (a.data, b)]:
        with pytest.raises(ValueError) as caught:
            left @ right
        message = str(caught.value)
        assert message.startswith("matmul:")
        assert f"{shape_a}" in message and f"{shape_b}" in message
        for piece in pieces:
            assert piece in message


def test_failed_op_records_nothing_and_leaves_gradients_alone() -> None:
    a, b = Value(np.ones(3)), Value(np.ones(4))
    (a * 2).sum().backward()
    with pytest.raises(ValueError):
        a * b
    with pytest.raises(ValueError):
        a @ b
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(b.grad, np.zeros(4))


def test_failed_backward_leaves_the_graph_usable() -> None:
    x = Value(np.array([1.0, 2.0]))
    y = x * x
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    y.backward(np.ones(2))  # the graph was not released by the failed calls
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_a_vjp_of_the_wrong_shape_is_reported_with_the_op_name() -> None:
    broken = Op("broken_identity", lambda x: x * 1.0, (lambda g, out, x: np.ones(5),), (REAL,))
    y = call_op(broken, Value(np.ones(3)))
    with pytest.raises(RuntimeError) as caught:
        y.sum().backward()
    message = str(caught.value)
    assert "broken_identity" in message and "(5,)" in message and "(3,)" in message


@pytest.mark.parametrize(
    "build",
    [
        lambda x: x.sum(axis=2),
        lambda x: x.mean(axis=(0, -3)),
        lambda x: x.softmax(axis=2),
        lambda x: x.log_softmax(axis=-3),
    ],
)
def test_axis_errors_name_the_function_axis_and_ndim(build) -> None:
    with pytest.raises(np.exceptions.AxisError, match=r"^\w+: axis -?\d is out of bounds .* dimension 2"):
        build(Value(np.ones((2, 3))))


def test_clip_without_bounds_and_unknown_gelu_form_are_refused() -> None:
    with pytest.raises(ValueError, match="clip"):
        Value(1.0).clip()
    with pytest.raises(ValueError, match=r"gelu.*'exact'"):
        Value(1.0).gelu(approximate="exact")


def test_numpy_function_without_an_op_says_so() -> None:
    with pytest.raises(TypeError, match=r"numpy\.cbrt has no autonet op"):
        np.cbrt(Value([1.0]))
