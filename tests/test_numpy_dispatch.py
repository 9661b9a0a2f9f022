"""Every numpy entry point a Value reaches is an op or a refusal.

numpy's public callables (the ``numpy`` namespace and ``numpy.linalg``, ufuncs and their methods
included) are enumerated from numpy itself, so a new numpy release brings its new functions here by
itself. Each is called with a Value that requires grad in the usual positions (alone, twice, with a
float array on either side, with an int; each ufunc method too; once as a vector, once as a matrix).
The property: no call gives back plain floating-point data computed from the Value, and none
changes the Value's data. Each call either

- returns Values, at least one of them in the graph,
- raises (a refusal names the numpy function; other errors are complaints about the arguments),
- returns metadata, booleans, integers, text or None,
- or returns floats that stay the same when the Value's data moves a little (sign, floor,
  zeros_like): their gradient is exactly zero, so no graph is lost.

numpy's conversions (np.asarray, np.array, ...) never ask the Value: they read its data through
``__array__``, the documented way to get a plain array, like ``value.data``. They are named in
``CONVERSIONS``, so a new entry point that converts silently fails here until someone looks at it.
"""

from __future__ import annotations

import math
import re
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from autonet import Value, no_grad

# Entry points not to call: they change numpy's global state, print, or run numpy's own tests.
NOT_CALLED = {
    "test",
    "info",
    "show_config",
    "show_runtime",
    "seterr",
    "seterrcall",
    "setbufsize",
    "set_printoptions",
    "printoptions",
    "get_include",
}

# numpy functions that never consult a Value's overrides and read its data through __array__ (or
# iterate it): explicit conversions to a plain array, which nothing but numpy itself controls.
CONVERSIONS = {
    "array",
    "asarray",
    "asanyarray",
    "ascontiguousarray",
    "asfortranarray",
    "asarray_chkfinite",
    "asmatrix",
    "require",
    "fromiter",
}

# Uninitialised memory: its values come from nowhere, so they change from call to call.
UNINITIALISED = {"empty_like"}

VECTOR = np.array([0.3, -1.2, 0.7, 1.9])
MATRIX = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [-0.9, 1.6, 0.2]])
NUDGE = 1e-7  # small enough for floor and sign to stay put at these points, large enough to show


ASKED: list[str] = []  # the numpy functions and ufuncs that consulted a Value, in order


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Note in ASKED each numpy function or ufunc that consults a Value's overrides (any Value,
    including those numpy makes by iterating one)."""
    function, ufunc = Value.__array_function__, Value.__array_ufunc__

    def array_function(self: Value, func: Any, *args: Any, **kwargs: Any) -> Any:
        ASKED.append(func.__name__)
        return function(self, func, *args, **kwargs)

    def array_ufunc(self: Value, u: Any, *args: Any, **kwargs: Any) -> Any:
        ASKED.append(u.__name__)
        return ufunc(self, u, *args, **kwargs)

    monkeypatch.setattr(Value, "__array_function__", array_function)
    monkeypatch.setattr(Value, "__array_ufunc__", array_ufunc)


def _entry_points() -> Iterator[tuple[str, Callable[..., Any]]]:
    seen: set[int] = set()
    for module in (np, np.linalg):
        for name in sorted(dir(module)):
            if name.startswith("_") or name in NOT_CALLED:
                continue
            try:
                obj = getattr(module, name)
            except Exception:  # a deprecated alias that raises on access is no entry point
                continue
            # Classes (scalar types, ndarray, dtype constructors) construct or convert.
            if isinstance(obj, (types.ModuleType, type)) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{module.__name__}.{name}", obj


ENTRY_POINTS = dict(_entry_points())


def _calls(func: Callable[..., Any], v: Value, x: np.ndarray) -> Iterator[tuple[str, Callable[[], Any]]]:
    yield "f(v)", lambda: func(v)
    yield "f(v, v)", lambda: func(v, v)
    yield "f(v, x)", lambda: func(v, x)
    yield "f(x, v)", lambda: func(x, v)
    yield "f(v, 1)", lambda: func(v, 1)
    if isinstance(func, np.ufunc):
        for method in ("reduce", "accumulate", "outer", "reduceat", "at"):
            bound = getattr(func, method)
            yield f".{method}(v)", lambda bound=bound: bound(v)
            yield f".{method}(v, v)", lambda bound=bound: bound(v, v)
            yield f".{method}(v, [0], x)", lambda bound=bound: bound(v, [0], x)
        yield "f(v, out=x)", lambda: func(v, out=np.empty_like(x))
        yield "f(v, v, out=x)", lambda: func(v, v, out=np.empty_like(x))


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "returned", call()
        except Exception as error:  # every refusal type counts: what matters is that nothing leaked
            return "raised", error


def _values_in(result: Any) -> list[Value]:
    if isinstance(result, Value):
        return [result]
    if isinstance(result, (list, tuple)):
        return [v for item in result for v in _values_in(item)]
    return []


def _floats_in(result: Any) -> list[np.ndarray]:
    """The floating-point data in a plain result (arrays, scalars, and lists or tuples of them)."""
    if isinstance(result, (list, tuple)):
        return [f for item in result for f in _floats_in(item)]
    if isinstance(result, np.ndarray) and result.dtype == object:
        return [f for item in result.ravel() for f in _floats_in(item)]
    if isinstance(result, (np.ndarray, np.generic, float, complex)) and np.asarray(result).dtype.kind in "fc":
        return [np.asarray(result)]
    return []


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(
        p.shape == q.shape and np.array_equal(p, q, equal_nan=True) for p, q in zip(a, b, strict=True)
    )


def _problems(name: str, func: Callable[..., Any]) -> list[str]:
    short = name.rsplit(".", 1)[-1]
    found = []
    for data in (VECTOR, MATRIX):
        other = data * 0.5 + 0.1
        for form, _ in _calls(func, Value(data), other):
            v = Value(data.copy())
            ASKED.clear()
            kind, result = _outcome(dict(_calls(func, v, other))[form])
            asked = list(ASKED)
            where = f"{name} {form} on shape {data.shape}"
            if not np.array_equal(v.data, data):
                found.append(f"{where} changed the Value's data")
            if kind == "raised":
                message = str(result)
                refusal = re.search(r"numpy\.(?:linalg\.)?(\w+)[\w.]* has no autonet op", message)
                # The refusal names the function that asked the Value: the one called, or the one a
                # plain wrapper calls (row_stack calls vstack, full_like(x, v) copyto).
                if refusal and refusal.group(1) not in asked:
                    found.append(f"{where}: the refusal names numpy.{refusal.group(1)}, asked by {asked}")
                continue
            values = _values_in(result)
            if values:
                if not any(value.requires_grad for value in values):
                    found.append(f"{where} returned Values outside the graph")
                continue
            floats = _floats_in(result)
            if not floats or short in UNINITIALISED:
                continue
            if not asked and short in CONVERSIONS:
                continue
            nudged = Value(data + NUDGE)
            again = dict(_calls(func, nudged, other))[form]
            kind_again, result_again = _outcome(again)
            if kind_again == "returned" and _same(floats, _floats_in(result_again)):
                continue  # locally constant in the Value: a zero gradient is exact
            how = "" if asked else " without asking the Value (add it to CONVERSIONS if it converts)"
            found.append(f"{where} returned plain float data {type(result).__name__} computed from it{how}")
    return found


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@pytest.mark.usefixtures("spy")
def test_no_numpy_entry_point_returns_plain_floats_from_a_value_that_requires_grad(name: str) -> None:
    problems = _problems(name, ENTRY_POINTS[name])
    assert not problems, "\n".join(problems)


def test_the_enumeration_reaches_numpy_functions_ufuncs_and_linalg() -> None:
    # A guard on the enumeration itself: an empty or truncated list would prove nothing.
    ufuncs = [f for f in ENTRY_POINTS.values() if isinstance(f, np.ufunc)]
    linalg = [n for n in ENTRY_POINTS if n.startswith("numpy.linalg.")]
    assert len(ENTRY_POINTS) > 300 and len(ufuncs) > 60 and len(linalg) > 20
    for wanted in ("numpy.median", "numpy.linalg.norm", "numpy.einsum", "numpy.add", "numpy.tile"):
        assert wanted in ENTRY_POINTS


def _kind(call: Callable[[], Any]) -> str:
    kind, result = _outcome(call)
    if kind == "raised":
        return f"raised {type(result).__name__}"
    return "Value" if _values_in(result) else "plain"


@pytest.mark.parametrize(
    "name", ["median", "percentile", "sort", "cumprod", "sum", "linalg.norm", "argmax", "round", "exp"]
)
def test_the_outcome_does_not_depend_on_requires_grad_or_no_grad(name: str) -> None:
    func = np
    for part in name.split("."):
        func = getattr(func, part)
    args = {"percentile": (50,)}.get(name, ())
    outcomes = {
        _kind(lambda: func(Value(VECTOR), *args)),
        _kind(lambda: func(Value(VECTOR, requires_grad=False), *args)),
    }
    with no_grad():
        outcomes.add(_kind(lambda: func(Value(VECTOR), *args)))
    assert len(outcomes) == 1, f"numpy.{name}: {outcomes}"


# --------------------------------------------------------------------------- refusals say what and why


def test_a_numpy_function_without_an_op_names_itself_and_the_plain_alternative() -> None:
    w = Value([3.0, 1.0, 2.0])
    with pytest.raises(TypeError) as caught:
        np.median(w)
    message = str(caught.value)
    assert "numpy.median has no autonet op" in message and "could not be differentiated" in message
    assert "value.data" in message


def test_a_refusal_points_to_the_closest_autonet_spelling() -> None:
    x = Value(np.eye(3))
    with pytest.raises(TypeError, match=r"numpy\.trace .*x\[np\.arange\(n\), np\.arange\(n\)\]\.sum\(\)"):
        np.trace(x)
    with pytest.raises(TypeError, match=r"numpy\.linalg\.det has no autonet op"):
        np.linalg.det(x)
    with pytest.raises(TypeError, match=r"numpy\.log2 has no autonet op.*value\.log\(\) / np\.log\(2\)"):
        np.log2(x)


def test_ufunc_out_is_refused_because_the_result_would_not_be_recorded() -> None:
    x, target = Value([1.0, 2.0]), np.zeros(2)
    with pytest.raises(TypeError, match=r"numpy\.add with out=.*not be recorded"):
        np.add(x, 1.0, out=target)
    with pytest.raises(TypeError, match=r"numpy\.exp with out="):
        np.exp(x, out=target)
    assert target.tolist() == [0.0, 0.0]


def test_ufunc_at_is_refused_before_it_changes_anything() -> None:
    x = Value([1.0, 2.0])
    with pytest.raises(TypeError, match=r"numpy\.add\.at changes its operand in place"):
        np.add.at(x, [0, 0], 1.0)
    assert x.data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("call", "option"),
    [
        (lambda x: np.sum(x, where=x.data > 0), "where="),
        (lambda x: np.sum(x, dtype=np.float32), "dtype="),
        (lambda x: np.mean(x, out=np.zeros(())), "out="),
        (lambda x: np.max(x, initial=5.0), "initial="),
        (lambda x: np.exp(x, where=x.data > 0), "where="),
        (lambda x: np.add.reduce(x, initial=1.0), "initial="),
        (lambda x: np.cumsum(x, dtype=np.float32), "dtype="),
        (lambda x: np.clip(x, 0, 1, out=np.zeros(2)), "out="),
    ],
)
def test_numpy_options_without_an_op_are_refused_not_ignored(
    call: Callable[[Value], Any], option: str
) -> None:
    # Before, np.sum(x, where=mask) summed everything and kept quiet about the mask.
    with pytest.raises(TypeError, match=re.escape(option)):
        call(Value([1.0, -2.0]))


def test_reshape_and_ravel_refuse_fortran_order() -> None:
    x = Value([[1.0, 2.0], [3.0, 4.0]])
    for call in (lambda: np.reshape(x, 4, order="F"), lambda: np.ravel(x, order="F")):
        with pytest.raises(TypeError, match="order='C' only"):
            call()


def test_functions_without_a_gradient_run_on_the_data() -> None:
    x = Value([0.5, -2.0, 3.0])
    assert np.argmax(x) == 2 and np.argsort(x).tolist() == [1, 0, 2]
    assert np.shape(x) == (3,) and np.count_nonzero(x) == 3 and np.allclose(x, x.data)
    assert np.isclose(x, [0.5, 0.0, 3.0]).tolist() == [True, False, True]
    assert np.zeros_like(x).tolist() == [0.0, 0.0, 0.0]
    assert np.sign(x).tolist() == [1.0, -1.0, 1.0]  # piecewise constant: a plain array, as before


def test_a_function_that_would_write_into_a_value_fails_and_leaves_it_alone() -> None:
    x = Value([0.5, -np.inf])
    with pytest.raises(ValueError, match="read-only"):
        np.isneginf(x, x)  # the second argument is out=
    assert x.data.tolist() == [0.5, -np.inf]


# --------------------------------------------------------------------------- dispatch to ops


def _gradient(fn: Callable[[Value], Value], data: Any) -> np.ndarray:
    x = Value(np.array(data, dtype=np.float64))
    fn(x).sum().backward()
    return x.grad


def test_the_issue_example_gets_the_true_gradient() -> None:
    data = np.array([3.0, -4.0, 12.0])
    w = Value(data)
    loss = (w * w).sum() + 10 * np.linalg.norm(w)
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * data + 10 * data / 13.0, rtol=1e-14)


def test_var_std_and_average_follow_numpy_with_ddof_and_weights() -> None:
    data = np.array([[1.0, 2.0, 4.0], [3.0, -1.0, 0.5]])
    for ddof in (0, 1):
        np.testing.assert_allclose(
            np.var(Value(data), axis=1, ddof=ddof).data, np.var(data, axis=1, ddof=ddof)
        )
        np.testing.assert_allclose(np.std(Value(data), ddof=ddof).data, np.std(data, ddof=ddof))
        # d var / dx_i = 2 (x_i - mean) / (n - ddof)
        expected = 2 * (data - data.mean(axis=1, keepdims=True)) / (3 - ddof)
        np.testing.assert_allclose(_gradient(lambda x, d=ddof: np.var(x, axis=1, ddof=d), data), expected)
    np.testing.assert_allclose(np.var(Value(data), correction=1).data, np.var(data, ddof=1))
    np.testing.assert_allclose(np.average(Value(data), axis=0).data, data.mean(axis=0))
    weights = np.array([1.0, 2.0, 5.0])
    x, w = Value(data), Value(weights)
    average = np.average(x, axis=1, weights=w)
    np.testing.assert_allclose(average.data, np.average(data, axis=1, weights=weights))
    average.sum().backward()
    # d/dx_i = w_i / sum(w); d/dw_i = sum over rows of (x_i - average) / sum(w)
    np.testing.assert_allclose(x.grad, np.broadcast_to(weights / 8.0, data.shape))
    np.testing.assert_allclose(w.grad, ((data - average.data[:, None]) / 8.0).sum(axis=0))
    result, total = np.average(Value(data), weights=np.ones((2, 3)), returned=True)
    assert result.item() == pytest.approx(data.mean()) and total.item() == 6.0
    with pytest.raises(ZeroDivisionError, match=r"numpy\.average"):
        np.average(Value(data), axis=1, weights=[1.0, -1.0, 0.0])


def test_tile_matches_numpy_and_each_copy_passes_its_gradient() -> None:
    data = np.array([[1.0, 2.0, 3.0]])
    for reps in (2, (2, 1), (3, 1, 2), 0):
        np.testing.assert_array_equal(np.tile(Value(data), reps).data, np.tile(data, reps))
    # Each element appears prod(reps) times, so each gets that many ones.
    np.testing.assert_array_equal(_gradient(lambda x: np.tile(x, (3, 2)), data), np.full((1, 3), 6.0))


def test_ufunc_methods_with_an_op_record_the_graph() -> None:
    data = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_array_equal(np.add.reduce(Value(data)).data, [4.0, 7.0])  # axis 0 by default
    np.testing.assert_array_equal(np.multiply.reduce(Value(data), axis=None).data, 30.0)
    np.testing.assert_array_equal(np.maximum.reduce(Value(data), axis=1).data, [2.0, 5.0])
    np.testing.assert_array_equal(np.add.accumulate(Value(data)).data, [[1.0, 2.0], [4.0, 7.0]])
    np.testing.assert_array_equal(_gradient(lambda x: np.add.accumulate(x, axis=1), data), [[2.0, 1.0]] * 2)
    a, b = Value([1.0, 2.0]), Value(data)
    product = np.multiply.outer(a, b)
    assert product.shape == (2, 2, 2)  # a.shape + b.shape, unlike np.outer
    np.testing.assert_array_equal(product.data, np.multiply.outer(a.data, data))
    product.sum().backward()
    np.testing.assert_array_equal(a.grad, [11.0, 11.0])
    np.testing.assert_array_equal(b.grad, np.full((2, 2), 3.0))
    np.testing.assert_array_equal(np.subtract.outer(Value([1.0, 2.0]), Value([3.0])).data, [[-2.0], [-1.0]])


def test_dot_and_inner_follow_numpy_beyond_two_dimensions() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4, 2))
    # np.dot pairs a's last axis with b's second-last; np.matmul would broadcast batches instead.
    np.testing.assert_allclose(np.dot(Value(a), Value(b)).data, np.dot(a, b))
    np.testing.assert_allclose(np.inner(Value(a), Value(b[..., 0])).data, np.inner(a, b[..., 0]))
    np.testing.assert_allclose(
        np.vdot(a.ravel()[:3], a.ravel()[:3]), np.inner(Value(a.ravel()[:3]), a.ravel()[:3]).data
    )


@pytest.mark.parametrize("how", ["np.clip", "method"])
def test_clip_with_value_bounds_passes_gradient_to_the_bounds_as_torch_clamp(how: str) -> None:
    # x at a bound keeps the gradient (as it does with constant bounds); a bound gets it where it wins.
    x, low, high = Value([-2.0, -1.0, 0.5, 1.0, 3.0]), Value([-1.0] * 5), Value(1.0)
    clipped = np.clip(x, low, high) if how == "np.clip" else x.clip(low, high)
    np.testing.assert_array_equal(clipped.data, [-1.0, -1.0, 0.5, 1.0, 1.0])
    clipped.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert low.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0] and high.grad == 1.0
    inverted = Value([0.5, 2.0]).clip(Value(1.0), high)  # low > high: high everywhere, as numpy
    assert inverted.tolist() == [1.0, 1.0]


def test_the_array_api_names_reach_the_same_ops() -> None:
    data = np.array([[3.0, 4.0], [0.0, 1.0]])
    if hasattr(np.linalg, "vector_norm"):
        np.testing.assert_allclose(np.linalg.vector_norm(Value(data), axis=1).data, [5.0, 1.0])
        np.testing.assert_allclose(np.linalg.vector_norm(Value(data), ord=1).data, 8.0)
        np.testing.assert_allclose(np.linalg.matrix_norm(Value(data)).data, math.sqrt(26.0))
        np.testing.assert_array_equal(np.linalg.matrix_transpose(Value(data)).data, data.T)
    if hasattr(np, "cumulative_sum"):
        np.testing.assert_array_equal(np.cumulative_sum(Value(data), axis=0).data, np.cumsum(data, axis=0))
        with pytest.raises(TypeError, match="include_initial"):
            np.cumulative_sum(Value(data[0]), include_initial=True)


def test_tile_too_large_names_tile_reps_and_shape() -> None:
    x = Value([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"tile: reps \(10000000000, 10000000000\) on shape \(2,\)"):
        np.tile(x, (10**10, 10**10))


def test_clip_bounds_broadcast_the_result_and_an_empty_bound_gives_an_empty_gradient_pass() -> None:
    x = Value(2.0)
    out = x.clip(np.zeros(0), None)
    assert out.shape == (0,)
    out.sum().backward()
    assert x.grad == 0.0
    y = Value([0.5, 2.0])
    y.clip(np.array([[0.0], [1.0]]), 1.5).sum().backward()
    np.testing.assert_array_equal(y.grad, [1.0, 0.0])  # inside in the first row only
