"""The engine: constructing Values, grad mode, backward's rules, higher-order gradients, memory,
and how Values mix with numpy."""

from __future__ import annotations

import dataclasses
import gc
import threading
import weakref
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autonet
from autonet import Value, ops
from autonet.engine import stored_gradient
from autonet.ops import REGISTRY, Op

# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "data",
    [3, True, np.int32(3), np.int64(-2), np.uint8(7), np.bool_(False), [1, 2], [[True, False]], np.arange(3)],
    ids=repr,
)
def test_integers_and_bools_become_float64(data) -> None:
    v = Value(data)
    assert v.dtype == np.float64
    assert v.data.dtype == np.float64
    np.testing.assert_array_equal(v.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize(
    "data", [np.float32(1.5), np.ones(3, dtype=np.float32), np.array(2.0, dtype=np.float32)]
)
def test_float32_stays_float32(data) -> None:
    v = Value(data)
    assert v.dtype == np.float32
    assert v.data.dtype == np.float32
    assert v.grad.dtype == np.float32


@pytest.mark.parametrize("data", [1.5, [1.5, 2.5], np.float64(1.5), np.array(1.5)], ids=repr)
def test_default_float_is_float64(data) -> None:
    assert Value(data).dtype == np.float64


@pytest.mark.parametrize("data", [2.5, 2, np.float64(2.5), np.array(2.5)], ids=repr)
def test_scalars_report_data_as_a_zero_d_array(data) -> None:
    v = Value(data)
    assert type(v.data) is np.ndarray
    assert v.data.shape == () and v.shape == () and v.ndim == 0 and v.size == 1
    assert v.data.dtype == np.float64
    assert v.item() == float(data)
    assert type(v.item()) is float


@pytest.mark.parametrize(
    "data",
    [
        "1.0",
        b"1",
        1j,
        np.complex128(1 + 2j),
        np.array([1 + 1j]),
        np.array([1, "a"], dtype=object),
        np.array([1.0, 2.0], dtype=object),
        np.array(["a", "b"]),
        None,
        [[1.0, 2.0], [3.0]],
        [1.0, "a"],
        {"a": 1.0},
        object(),
    ],
    ids=lambda d: type(d).__name__ + (f"[{d.dtype}]" if isinstance(d, np.ndarray) else ""),
)
def test_non_numeric_data_is_refused_naming_what_is_accepted(data) -> None:
    with pytest.raises(TypeError) as caught:
        Value(data)
    message = str(caught.value)
    assert "real number" in message
    assert "Value" in message


@pytest.mark.parametrize("data", [["1.0"], np.array([1 + 0j]), [None], np.array(["2"])], ids=repr)
def test_an_explicit_dtype_does_not_let_non_numbers_through(data) -> None:
    """Casting would parse strings, drop imaginary parts and turn None into nan; it must not."""
    with pytest.raises(TypeError, match="real number"):
        Value(data, dtype=np.float64)


def test_dtype_argument_takes_float_dtypes_only() -> None:
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    assert Value(2.0, dtype="float32").data.dtype == np.float32
    with pytest.raises(TypeError, match="float dtype"):
        Value([1, 2], dtype=np.int32)


def test_construction_copies_nothing_it_does_not_need_to_but_never_changes_the_input() -> None:
    source = np.array([1, 2, 3])
    v = Value(source)
    (v * v).sum().backward()
    assert source.dtype == np.int64 and source.tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    "data", [2.0, np.ones((2, 3)), np.ones(4, dtype=np.float32)], ids=["scalar", "matrix", "float32"]
)
def test_grad_is_zeros_of_the_same_shape_and_dtype_before_backward(data) -> None:
    v = Value(data)
    assert type(v.grad) is np.ndarray
    assert v.grad.shape == v.shape
    assert v.grad.dtype == v.dtype
    assert not v.grad.any()


def test_item_numpy_len_iter_and_tolist() -> None:
    v = Value([[1.0, 2.0], [3.0, 4.0]])
    assert v.numpy() is v.data and type(v.numpy()) is np.ndarray
    assert len(v) == 2
    rows = list(v)
    assert all(isinstance(row, Value) for row in rows)
    assert [row.tolist() for row in rows] == [[1.0, 2.0], [3.0, 4.0]]
    assert v.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert Value([7.0]).item() == 7.0
    with pytest.raises(ValueError, match=r"item.*\(2, 2\)"):
        v.item()
    with pytest.raises(TypeError, match="len"):
        len(Value(1.0))
    assert float(Value(2.5)) == 2.5
    assert f"{Value(2.0):.2f}" == "2.00"


def test_repr_shows_data_shape_and_requires_grad() -> None:
    text = repr(Value([1.5, 2.5]))
    assert "1.5" in text and "2.5" in text
    assert "shape=(2,)" in text
    assert "requires_grad=True" in text
    scalar = repr(Value(3.25, requires_grad=False))
    assert "3.25" in scalar and "requires_grad=False" in scalar
    assert "float32" in repr(Value(np.ones(2, dtype=np.float32)))
    assert "label='w'" in repr(Value(1.0, label="w"))


# --------------------------------------------------------------------------- requires_grad and grad mode


def test_requires_grad_defaults_and_propagation() -> None:
    leaf = Value(1.0)
    constant = Value(2.0, requires_grad=False)
    assert leaf.requires_grad and leaf.is_leaf
    assert not constant.requires_grad
    assert (leaf * constant).requires_grad
    assert (constant * 3).requires_grad is False
    assert (constant * constant).is_leaf  # nothing to record
    out = leaf * constant
    assert not out.is_leaf and out.op is REGISTRY["mul"]
    assert out.parents == (leaf, constant)


def test_detach_shares_data_and_cuts_the_graph() -> None:
    x = Value(np.array([1.0, 2.0]))
    twin = x.detach()
    assert np.shares_memory(twin.data, x.data)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])  # only the direct path, not through d


GRAD_OFF: list[tuple[str, Callable[[Callable], Callable]]] = [
    ("no_grad()", lambda fn: autonet.no_grad()(fn)),
    ("set_grad_enabled(False)", lambda fn: autonet.set_grad_enabled(False)(fn)),
]


@pytest.mark.parametrize(
    "context", [autonet.no_grad, lambda: autonet.set_grad_enabled(False)], ids=["no_grad", "set_false"]
)
def test_grad_off_context_records_nothing_and_is_restored_after_an_exception(context) -> None:
    x = Value(2.0)
    with context():
        assert not autonet.is_grad_enabled()
        y = x * x
    assert not y.requires_grad and y.is_leaf
    assert autonet.is_grad_enabled()
    with pytest.raises(KeyError):
        with context():
            raise KeyError("boom")
    assert autonet.is_grad_enabled()
    assert (x * x).requires_grad


@pytest.mark.parametrize(("label", "decorate"), GRAD_OFF, ids=[g[0] for g in GRAD_OFF])
def test_grad_off_decorator_and_restore_after_exception(label, decorate) -> None:
    @decorate
    def double(v: Value) -> Value:
        return v * 2

    @decorate
    def fail(v: Value) -> Value:
        raise ValueError("inside")

    assert not double(Value(1.0)).requires_grad
    assert double.__name__ == "double"
    assert autonet.is_grad_enabled()
    with pytest.raises(ValueError, match="inside"):
        fail(Value(1.0))
    assert autonet.is_grad_enabled()


def test_enable_grad_inside_no_grad_as_context_and_decorator() -> None:
    x = Value(2.0)

    @autonet.enable_grad()
    def square(v: Value) -> Value:
        return v * v

    with autonet.no_grad():
        with autonet.enable_grad():
            assert (x * x).requires_grad
        assert not (x * x).requires_grad
        assert square(x).requires_grad
        assert not autonet.is_grad_enabled()
        with pytest.raises(RuntimeError):
            with autonet.enable_grad():
                raise RuntimeError
        assert not autonet.is_grad_enabled()
    assert autonet.is_grad_enabled()


def test_set_grad_enabled_true_and_reused_context_nest() -> None:
    context = autonet.no_grad()
    with context:
        with autonet.set_grad_enabled(True):
            assert autonet.is_grad_enabled()
        with context:
            assert not autonet.is_grad_enabled()
        assert not autonet.is_grad_enabled()
    assert autonet.is_grad_enabled()


def test_grad_mode_is_per_thread() -> None:
    seen = []
    started, release = threading.Event(), threading.Event()

    def other_thread() -> None:
        started.set()
        release.wait(5)
        seen.append((Value(1.0) * 2).requires_grad)

    thread = threading.Thread(target=other_thread)
    thread.start()
    started.wait(5)
    with autonet.no_grad():
        release.set()
        thread.join(5)
    assert seen == [True]


# --------------------------------------------------------------------------- comparisons and numpy


@pytest.mark.parametrize(
    "other", [2.0, np.array([0.0, 2.0, 5.0]), Value([0.0, 2.0, 5.0])], ids=["number", "array", "Value"]
)
def test_comparisons_return_plain_bool_arrays(other) -> None:
    x = Value([1.0, 2.0, 3.0])
    raw = other.data if isinstance(other, Value) else other
    for result, expected in [
        (x < other, x.data < raw),
        (x <= other, x.data <= raw),
        (x > other, x.data > raw),
        (x >= other, x.data >= raw),
        (x == other, x.data == raw),
        (x != other, x.data != raw),
    ]:
        assert type(result) is np.ndarray and result.dtype == bool
        np.testing.assert_array_equal(result, expected)
    assert type(Value(1.0) < 2) is np.ndarray  # 0-d, still usable in `if`
    assert bool(Value(1.0) < 2)


REFLECTED = [
    ("number + v", lambda v: 2.0 + v, lambda a: 2.0 + a, lambda a: np.ones_like(a)),
    ("int * v", lambda v: 3 * v, lambda a: 3 * a, lambda a: np.full_like(a, 3.0)),
    ("number - v", lambda v: 1 - v, lambda a: 1 - a, lambda a: -np.ones_like(a)),
    ("number / v", lambda v: 2 / v, lambda a: 2 / a, lambda a: -2 / a**2),
    ("number ** v", lambda v: 2**v, lambda a: 2**a, lambda a: 2**a * np.log(2)),
    (
        "array + v",
        lambda v: np.array([1.0, 2.0]) + v,
        lambda a: np.array([1.0, 2.0]) + a,
        lambda a: np.ones_like(a),
    ),
    (
        "array - v",
        lambda v: np.array([1.0, 2.0]) - v,
        lambda a: np.array([1.0, 2.0]) - a,
        lambda a: -np.ones_like(a),
    ),
    (
        "array * v",
        lambda v: np.array([3.0, 4.0]) * v,
        lambda a: np.array([3.0, 4.0]) * a,
        lambda a: np.array([3.0, 4.0]),
    ),
    (
        "array / v",
        lambda v: np.array([3.0, 4.0]) / v,
        lambda a: np.array([3.0, 4.0]) / a,
        lambda a: -np.array([3.0, 4.0]) / a**2,
    ),
    (
        "array ** v",
        lambda v: np.array([2.0, 3.0]) ** v,
        lambda a: np.array([2.0, 3.0]) ** a,
        lambda a: np.array([2.0, 3.0]) ** a * np.log([2.0, 3.0]),
    ),
    (
        "matrix @ v",
        lambda v: np.array([[1.0, 2.0], [3.0, 4.0]]) @ v,
        lambda a: np.array([[1.0, 2.0], [3.0, 4.0]]) @ a,
        lambda a: np.array([4.0, 6.0]),
    ),
    ("np.float64 + v", lambda v: np.float64(2.0) + v, lambda a: 2.0 + a, lambda a: np.ones_like(a)),
    ("np.float64 * v", lambda v: np.float64(2.0) * v, lambda a: 2.0 * a, lambda a: np.full_like(a, 2.0)),
    ("np.float64 - v", lambda v: np.float64(2.0) - v, lambda a: 2.0 - a, lambda a: -np.ones_like(a)),
    # list.__add__ refuses a Value, so Python falls back to Value.__radd__: the case under test.
    ("list + v", lambda v: [1.0, 2.0] + v, lambda a: np.array([1.0, 2.0]) + a, lambda a: np.ones_like(a)),  # noqa: RUF005
    ("0-d array * v", lambda v: np.array(2.0) * v, lambda a: 2.0 * a, lambda a: np.full_like(a, 2.0)),
]


@pytest.mark.parametrize(("label", "build", "value", "slope"), REFLECTED, ids=[r[0] for r in REFLECTED])
def test_reflected_ops_with_numbers_and_arrays_give_values(label, build, value, slope) -> None:
    data = np.array([0.5, 1.5])
    x = Value(data)
    out = build(x)
    assert type(out) is Value, f"{label} gave {type(out).__name__}"
    np.testing.assert_allclose(out.data, value(data), rtol=1e-14)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, slope(data), rtol=1e-14)


def test_float32_with_numpy_float32_scalar_on_the_left_stays_float32() -> None:
    x = Value(np.ones(2, dtype=np.float32))
    out = np.float32(2.0) * x
    assert type(out) is Value and out.dtype == np.float32


def test_numpy_functions_on_values_are_differentiated() -> None:
    data = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    x = Value(data)
    exp, column_sums = np.exp(x), np.sum(x, axis=0)
    chosen = np.where(x > 0, x, 0)
    assert all(type(v) is Value for v in (exp, column_sums, chosen))
    np.testing.assert_allclose(exp.data, np.exp(data))
    np.testing.assert_array_equal(column_sums.data, data.sum(axis=0))
    np.testing.assert_array_equal(chosen.data, np.where(data > 0, data, 0))
    (exp.sum() + (column_sums * np.array([1.0, 2.0, 3.0])).sum() + chosen.sum()).backward()
    expected = np.exp(data) + np.array([1.0, 2.0, 3.0]) + (data > 0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14)


def test_numpy_functions_without_an_op_see_the_data() -> None:
    x = Value([1.0, 2.0])
    assert np.allclose(x, [1.0, 2.0]) is True
    assert np.allclose([1.0, 2.0], x)
    assert type(np.isclose(x, 1.0)) is np.ndarray
    assert np.linalg.norm(x) == pytest.approx(5**0.5)
    assert type(np.sign(x)) is np.ndarray  # piecewise constant: a plain array, no graph
    assert np.array(x).dtype == np.float64


SPECIAL_POINTS = [-1000.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 710.0, 1000.0, np.inf, -np.inf, np.nan]
FAST_PATH_PARAMS = {"clip": {"low": -1.0, "high": 1.0}, "leaky_relu": {"negative_slope": 0.1}}


@pytest.mark.parametrize("name", sorted(name for name, op in REGISTRY.items() if op.scalar is not None))
def test_the_float_fast_path_agrees_with_the_array_path(name) -> None:
    """Python-float scalars take a lean path of their own; it must give numpy's answers, including
    nan, inf and overflow, for the value and for every gradient."""
    op = REGISTRY[name]
    arity = op.arity
    params = FAST_PATH_PARAMS.get(name, {})
    pairs = (
        [(a,) for a in SPECIAL_POINTS]
        if arity == 1
        else [(a, b) for a in SPECIAL_POINTS for b in SPECIAL_POINTS]
    )
    # The same entry with its scalar callable counted: call_op takes an entry as well as a name,
    # so the test sees the fast path run without looking inside a Value.
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return op.scalar(*args, **kwargs)

    watched = dataclasses.replace(op, scalar=counted)
    for point in pairs:
        scalars = [Value(x) for x in point]
        arrays = [Value(np.array([x])) for x in point]
        calls.clear()
        fast = autonet.call_op(watched, *scalars, **params)
        assert calls == [point], "the fast path was not tried"  # and it was given the floats themselves
        slow = autonet.call_op(name, *arrays, **params)
        fast.backward()
        slow.sum().backward()
        # Floats all the way: the seed kept on the result and each input's gradient are Python
        # floats, as stored_gradient documents for float64 scalars (no 0-d arrays were made).
        assert all(type(stored_gradient(v)) is float for v in (fast, *scalars)), f"{name}{point}"
        got = [fast.item()] + [v.grad.item() for v in scalars]
        expected = [slow.data.item()] + [v.grad.item() for v in arrays]
        np.testing.assert_allclose(
            got, expected, rtol=1e-14, atol=0, equal_nan=True, err_msg=f"{name}{point}"
        )


# --------------------------------------------------------------------------- backward rules


def test_scalar_backward_seeds_one() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad.item() == 6.0
    y = Value([3.0])
    (y * y).backward()  # one element is a scalar too
    assert y.grad.tolist() == [6.0]


def test_non_scalar_backward_without_gradient_is_a_runtime_error() -> None:
    x = Value(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        (x * 2).backward()


def test_gradient_of_the_wrong_shape_names_both_shapes() -> None:
    x = Value(np.ones((2, 3)))
    with pytest.raises(ValueError) as caught:
        (x * 2).backward(np.ones((3, 2)))
    assert "(3, 2)" in str(caught.value) and "(2, 3)" in str(caught.value)


def test_backward_with_an_explicit_gradient_is_a_vector_jacobian_product() -> None:
    x = Value(np.array([1.0, 2.0]))
    seed = np.array([10.0, 100.0])
    (x * x).backward(seed)
    np.testing.assert_array_equal(x.grad, [20.0, 400.0])
    assert seed.tolist() == [10.0, 100.0]


def test_backward_on_something_without_grad_says_why() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Value(1.0, requires_grad=False) * 2).backward()


def test_gradients_accumulate_until_zero_grad_or_none() -> None:
    x = Value(np.array([1.0, 2.0]))
    for expected in ([2.0, 4.0], [4.0, 8.0], [6.0, 12.0]):
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad, expected)
    x.zero_grad()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    mine = np.array([10.0, 20.0])
    x.grad = mine
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [13.0, 23.0])
    assert mine.tolist() == [10.0, 20.0]  # accumulation makes a new array, never adds into the caller's


def test_intermediates_get_grad_too() -> None:
    x = Value(2.0)
    hidden = x * 3
    (hidden * hidden).backward()
    assert hidden.grad.item() == 12.0
    assert x.grad.item() == 36.0


def test_second_backward_without_retain_graph_raises_a_clear_error() -> None:
    x = Value(2.0)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_lets_gradients_double() -> None:
    x = Value(np.array([1.0, 2.0]))
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * first)
    np.testing.assert_array_equal(first, 3 * x.data**2)


def test_a_shared_subgraph_is_walked_once() -> None:
    x = Value(2.0)
    shared = x * x
    total = shared + shared * shared  # x**2 + x**4: slope 2x + 4x**3 = 36
    total.backward()
    assert x.grad.item() == 36.0


# --------------------------------------------------------------------------- higher order


def test_second_derivative_of_cube_through_grad_backward() -> None:
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    slope = x.grad
    assert isinstance(slope, Value) and slope.item() == 12.0
    x.grad = None
    slope.backward()
    assert x.grad.item() == 12.0  # d²(x³)/dx² = 6x


def test_second_derivative_of_cube_through_nested_grad() -> None:
    def cube(v):
        return v**3

    assert float(autonet.grad(cube)(2.0)) == 12.0
    assert float(autonet.grad(autonet.grad(cube))(2.0)) == 12.0
    assert float(autonet.grad(autonet.grad(autonet.grad(cube)))(2.0)) == 6.0
    nested = autonet.grad(cube)(Value(2.0))
    assert isinstance(nested, Value) and nested.requires_grad


def test_grad_with_several_arguments_and_arrays() -> None:
    def inner(a, b):
        return (a * b).sum()

    ga, gb = autonet.grad(inner, argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(ga, [3.0, 4.0])
    np.testing.assert_array_equal(gb, [1.0, 2.0])
    with pytest.raises(ValueError, match="scalar"):
        autonet.grad(lambda a: a * 2)(np.ones(3))


def test_gradients_returns_without_touching_grad() -> None:
    x, y = Value(np.array([1.0, 2.0])), Value(3.0)
    unused = Value(np.ones(4))
    gx, gy, gu = autonet.gradients((x * y).sum(), [x, y, unused])
    np.testing.assert_array_equal(gx, [3.0, 3.0])
    assert float(gy) == 3.0
    np.testing.assert_array_equal(gu, np.zeros(4))
    assert not x.grad.any() and not y.grad.any()
    (single,) = autonet.gradients(y * y, y)
    assert float(single) == 6.0


def test_gradients_with_create_graph_give_differentiable_values() -> None:
    x = Value(np.array([1.0, 2.0]))
    (slope,) = autonet.gradients((x**3).sum(), [x], create_graph=True)
    assert isinstance(slope, Value)
    np.testing.assert_array_equal(slope.data, [3.0, 12.0])
    (curvature,) = autonet.gradients(slope.sum(), [x])
    np.testing.assert_array_equal(curvature, [6.0, 12.0])


def _mlp_params(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        rng.normal(size=(3, 4)) * 0.7,
        rng.normal(size=4) * 0.1,
        rng.normal(size=(4, 2)) * 0.7,
        rng.normal(size=2) * 0.1,
    ]


def _mlp_loss(params: list[Value], inputs: np.ndarray, targets: np.ndarray) -> Value:
    w1, b1, w2, b2 = params
    hidden = (inputs @ w1 + b1).tanh()
    error = hidden @ w2 + b2 - targets
    return (error * error).mean()


def test_hessian_vector_product_of_a_small_mlp_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    point = _mlp_params(rng)
    direction = [rng.normal(size=p.shape) for p in point]

    params = [Value(p) for p in point]
    slopes = autonet.gradients(_mlp_loss(params, inputs, targets), params, create_graph=True)
    projected = sum((s * d).sum() for s, d in zip(slopes, direction, strict=True))
    hvp = autonet.gradients(projected, params, retain_graph=True)  # the slopes are used again below

    def plain_gradient(shift: float) -> list[np.ndarray]:
        shifted = [Value(p + shift * d) for p, d in zip(point, direction, strict=True)]
        _mlp_loss(shifted, inputs, targets).backward()
        return [v.grad for v in shifted]

    eps = 1e-5
    up, down = plain_gradient(eps), plain_gradient(-eps)
    for h, u, d in zip(hvp, up, down, strict=True):
        np.testing.assert_allclose(h, (u - d) / (2 * eps), rtol=1e-6, atol=1e-8)
    # And the Hessian is symmetric: <v, H w> == <w, H v> for a second direction w.
    other = [rng.normal(size=p.shape) for p in point]
    hvp_other = autonet.gradients(sum((s * o).sum() for s, o in zip(slopes, other, strict=True)), params)
    lhs = sum(np.sum(d * h) for d, h in zip(direction, hvp_other, strict=True))
    rhs = sum(np.sum(o * h) for o, h in zip(other, hvp, strict=True))
    assert lhs == pytest.approx(rhs, rel=1e-10)


# --------------------------------------------------------------------------- depth and memory


def test_a_100000_op_chain_backpropagates_without_recursion() -> None:
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001**100_000, rel=1e-9)
    z = Value(np.ones(2))
    w = z
    for _ in range(100_000):
        w = w + 1.0
    w.sum().backward()
    np.testing.assert_array_equal(z.grad, [1.0, 1.0])


def test_backward_keeps_the_graph_to_draw_and_frees_it_with_the_root() -> None:
    x = Value(np.ones(1000))
    hidden = x.exp()
    value_ref = weakref.ref(hidden)
    root = (hidden * 2).sum()
    del hidden
    root.backward()
    kept = value_ref()
    assert kept is not None, "backward() dropped an intermediate the graph still shows"
    np.testing.assert_allclose(kept.data, np.e * np.ones(1000))
    np.testing.assert_allclose(kept.grad, 2 * np.ones(1000))
    assert kept.record.datas is None and kept.record.out is None  # what its vjp needed is gone
    assert root.graph_released and root.item() == pytest.approx(2000 * np.e)
    np.testing.assert_allclose(x.grad, 2 * np.e * np.ones(1000))
    del kept, root
    assert value_ref() is None, "the graph outlived its root"


def test_retain_graph_keeps_intermediates_alive() -> None:
    x = Value(np.ones(3))
    hidden = x.exp()
    value_ref = weakref.ref(hidden)
    root = (hidden * 2).sum()
    del hidden
    root.backward(retain_graph=True)
    gc.collect()
    assert value_ref() is not None
    assert not root.graph_released


LEAF_PATTERNS: list[tuple[str, Callable[[Value, Value], Value]]] = [
    ("a + b", lambda a, b: (a + b).sum()),
    ("a - b", lambda a, b: (a - b).sum()),
    ("sums", lambda a, b: a.sum() + b.sum()),
    ("means", lambda a, b: a.mean() + b.mean()),
    ("reshapes", lambda a, b: (a.reshape(3, 2) + b.reshape(3, 2)).sum()),
    ("transposes", lambda a, b: (a.T + b.T).sum()),
    ("concatenate", lambda a, b: autonet.concatenate([a, b]).sum()),
    ("stack", lambda a, b: autonet.stack([a, b]).sum()),
    ("slices", lambda a, b: (a[:, :] + b[...]).sum()),
    ("where", lambda a, b: autonet.where(a.data > 0, a, b).sum()),
    ("broadcast", lambda a, b: (a.broadcast_to((2, 2, 3)) + b).sum()),
    ("same leaf twice", lambda a, b: (a + a + b).sum()),
]


@pytest.mark.parametrize(("label", "build"), LEAF_PATTERNS, ids=[p[0] for p in LEAF_PATTERNS])
def test_leaf_gradients_never_share_memory_and_are_writeable(label, build) -> None:
    a, b = Value(np.ones((2, 3))), Value(np.full((2, 3), 2.0))
    seed = np.array(1.0)
    root = build(a, b)
    root.backward(seed)
    assert not np.shares_memory(a.grad, b.grad)
    for leaf in (a, b):
        assert leaf.grad.flags.writeable
        assert not np.shares_memory(leaf.grad, seed)
        assert not np.shares_memory(leaf.grad, leaf.data)
    before = b.grad.copy()
    a.grad[...] = 99.0  # writing into one gradient leaves the other alone
    np.testing.assert_array_equal(b.grad, before)


def test_a_leaf_that_is_the_root_gets_its_own_copy_of_the_seed() -> None:
    x = Value(np.ones(3))
    seed = np.array([1.0, 2.0, 3.0])
    x.backward(seed)
    assert not np.shares_memory(x.grad, seed)
    seed[0] = 100.0
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


# --------------------------------------------------------------------------- every op: frozen inputs, dtypes


def _expressions(x: Value, y: Value) -> list[Value]:
    """At least one use of every primitive op (composites run through primitives)."""
    return [
        x + y, x - y, x * y, x / y, x**y, -x, 2.0 * x, 1 - y, x / 3, 2**y,
        x.exp(), x.log(), x.log1p(), x.expm1(), x.sqrt(), x.abs(), x.tanh(), x.sigmoid(), x.relu(),
        x.leaky_relu(0.2),
        x.softplus(), x.erf(), x.sin(), x.cos(), x.clip(0.7, 1.2), x.gelu(), x.gelu("tanh"),
        autonet.maximum(x, y), autonet.minimum(x, y), autonet.where(x.data > 1, x, y),
        autonet.where(x.data > 1, x, 0.0), x @ y,
        x.sum(0), x.mean(), x.max(1), x.min(), x.logsumexp(1), x.var(), x.std(1),
        x.softmax(), x.log_softmax(0),
        x.reshape(3, 2), x.flatten(), x.T, x.swapaxes(0, 1), x.expand_dims(0).squeeze(),
        x.broadcast_to((4, 2, 3)), x[[0, 0]], x[:, 1], x[x.data > 1], x.astype(x.dtype),
        autonet.concatenate([x, x]), autonet.stack([y, y]),
        x.prod(1), x.prod(), x.cumsum(), x.cumsum(0), x.norm(), x.norm(np.inf, 1),
        autonet.einsum("ij,j->i", x, y), autonet.outer(x, y), autonet.tensordot(x, y, 1),
    ]  # fmt: skip


def _ops_in(roots: list[Value]) -> set[str]:
    seen, names, stack = set(), set(), list(roots)
    while stack:
        v = stack.pop()
        if id(v) in seen or not isinstance(v, Value):
            continue
        seen.add(id(v))
        if v.op is not None:
            names.add(v.op.name)
            stack.extend(v.parents)
    return names


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_op_mutates_its_inputs_and_float32_stays_float32(dtype) -> None:
    rng = np.random.default_rng(0)
    x_data = rng.uniform(0.5, 1.5, (2, 3)).astype(dtype)
    y_data = rng.uniform(0.5, 1.5, 3).astype(dtype)
    for array in (x_data, y_data):
        array.flags.writeable = False
    x_copy, y_copy = x_data.copy(), y_data.copy()
    x, y = Value(x_data), Value(y_data)

    outputs = _expressions(x, y)
    for out in outputs:
        assert out.dtype == dtype, f"{out.op.name} gave {out.dtype}"
    # The engine's op families; the fused ops (linear, losses) take labels and are pinned in
    # tests/ops/test_known_derivatives.py, which also freezes every input it passes.
    families = (ops.arith, ops.elementwise, ops.reduce, ops.shape, ops.linalg)
    primitives = {op.name for family in families for op in vars(family).values() if isinstance(op, Op)}
    total = sum((out * out).sum() for out in outputs)
    total.backward(create_graph=True)
    second = (x.grad * x.grad).sum() + (y.grad * y.grad).sum()
    # scatter_add only appears as the adjoint of getitem, inside the differentiable gradient graph.
    missing = primitives - _ops_in(outputs) - _ops_in([second])
    assert not missing, f"primitive ops not exercised: {sorted(missing)}"
    x.grad = y.grad = None
    second.backward()

    for leaf in (x, y):
        assert leaf.grad.dtype == dtype
        assert np.isfinite(leaf.grad).all()
    np.testing.assert_array_equal(x_data, x_copy)
    np.testing.assert_array_equal(y_data, y_copy)
    assert not x_data.flags.writeable and not y_data.flags.writeable


@given(
    values=st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=6),
    scale=st.floats(-3, 3, allow_nan=False),
)
def test_linear_combination_gradients_for_any_data(values, scale) -> None:
    """For f(x) = sum(scale * x + x * x) the gradient is scale + 2x, whatever the data."""
    data = np.array(values)
    x = Value(data)
    (scale * x + x * x).sum().backward()
    np.testing.assert_allclose(x.grad, scale + 2 * data, rtol=1e-12, atol=1e-12)


def test_gradients_of_one_input_asked_for_twice_gives_it_twice() -> None:
    x = Value(2.0)
    assert [float(g) for g in autonet.gradients(x**3, [x, x])] == [12.0, 12.0]


def test_grad_takes_each_argument_position_as_its_own_input() -> None:
    x = Value(2.0)
    product = autonet.grad(lambda a, b: a * b, argnums=(0, 1))
    # The partial derivatives (b, a), for one Value passed twice as for two numbers.
    assert [float(g) for g in product(x, x)] == [2.0, 2.0] == [float(g) for g in product(2.0, 2.0)]
    twice = autonet.grad(lambda a: a**3, argnums=(0, 0))
    assert [float(g) for g in twice(x)] == [12.0, 12.0] == [float(g) for g in twice(2.0)]
    # Still differentiable: the second derivative through the positional inputs.
    (slope, _) = product(x, Value(3.0))
    slope.backward()
    assert float(x.grad) == 0.0  # d(b)/dx with b = 3 given separately


def test_call_op_with_an_unknown_name_lists_the_known_ops() -> None:
    with pytest.raises(ValueError, match=r"no op named 'nope' in the registry; known ops: .*matmul"):
        autonet.call_op("nope", Value(1.0))
    with pytest.raises(TypeError, match="op name or a registry Op"):
        autonet.call_op(3, Value(1.0))


def test_argmax_and_argmin_give_numpys_indices_without_a_gradient() -> None:
    data = np.array([[1.0, 3.0, 3.0], [4.0, 2.0, -1.0]])
    x = Value(data)
    np.testing.assert_array_equal(x.argmax(axis=1), np.argmax(data, axis=1))
    np.testing.assert_array_equal(x.argmin(axis=0, keepdims=True), np.argmin(data, axis=0, keepdims=True))
    assert x.argmax() == 3 and x.argmax(axis=1)[0] == 1 and Value(2.0).argmin() == 0  # ties: the first
    assert x.argmax(axis=-1).dtype.kind == "i"
