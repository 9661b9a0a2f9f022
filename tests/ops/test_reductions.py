"""Reductions over int, negative, tuple and None axes, with and without keepdims.

Values are compared with numpy, gradients with central differences. Inputs have distinct
entries, so max and min are differentiable there; ties have their own test.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_grads_match
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from autonet import Value


def _logsumexp(x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


REFERENCE = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "var": np.var,
    "std": np.std,
    "logsumexp": _logsumexp,
}
AXES = [None, 0, 1, 2, -1, -3, (0, 2), (2, 0), (-1, 1), (0, 1, 2), ()]
DATA = np.random.default_rng(7).permutation(24).reshape(2, 3, 4) / 5.0 - 2.0  # distinct entries


# std over no axes is sqrt(0) everywhere, whose slope is 0/0: that one pair is left out.
NAME_AXIS = [(name, axis) for name in sorted(REFERENCE) for axis in AXES if (name, axis) != ("std", ())]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(("name", "axis"), NAME_AXIS, ids=repr)
def test_values_match_numpy_and_gradients_match_central_differences(name, axis, keepdims) -> None:
    out = getattr(Value(DATA), name)(axis=axis, keepdims=keepdims)
    expected = REFERENCE[name](DATA, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    assert_grads_match(lambda v: getattr(v, name)(axis=axis, keepdims=keepdims), [DATA])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reductions_of_scalars_and_vectors(name) -> None:
    for data in (np.array(1.5), np.array([0.5, -1.0, 2.0])):
        out = getattr(Value(data), name)()
        np.testing.assert_allclose(out.data, REFERENCE[name](data), rtol=1e-12)
        if not (name == "std" and data.ndim == 0):  # std of one number: slope 0/0
            assert_grads_match(lambda v: getattr(v, name)(), [data])


@pytest.mark.parametrize("name", ["max", "min"])
def test_ties_share_the_gradient_per_reduced_slice(name) -> None:
    data = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]]) * (1 if name == "max" else -1)
    x = Value(data)
    getattr(x, name)(axis=1).backward(np.array([3.0, 4.0]))
    np.testing.assert_allclose(x.grad, [[1.0, 1.0, 1.0], [0.0, 4.0, 0.0]])
    x.grad = None
    getattr(x, name)(axis=0, keepdims=True).sum().backward()
    np.testing.assert_allclose(x.grad, [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_and_std_take_numpy_ddof(ddof) -> None:
    x = Value(DATA)
    np.testing.assert_allclose(x.var(axis=1, ddof=ddof).data, np.var(DATA, axis=1, ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(
        x.std(axis=(0, 2), ddof=ddof).data, np.std(DATA, axis=(0, 2), ddof=ddof), rtol=1e-12
    )
    assert_grads_match(lambda v: v.std(axis=-1, ddof=ddof), [DATA])


def test_logsumexp_is_stable_for_large_inputs() -> None:
    data = np.array([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]])
    x = Value(data)
    out = x.logsumexp(axis=1)
    shifted = data - data.max(axis=1, keepdims=True)
    expected = np.log(np.exp(shifted).sum(axis=1)) + data.max(axis=1)
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    out.sum().backward()
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(
        x.grad, np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reductions_keep_the_float_dtype(name, dtype) -> None:
    x = Value(DATA.astype(dtype))
    out = getattr(x, name)(axis=1)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("axis", [3, -4, (0, 5)], ids=repr)
def test_out_of_range_axis_names_the_axis_and_ndim(name, axis) -> None:
    bad = axis if isinstance(axis, int) else axis[1]
    with pytest.raises(np.exceptions.AxisError) as caught:
        getattr(Value(DATA), name)(axis=axis)
    message = str(caught.value)
    assert name in message
    assert f"axis {bad}" in message
    assert "dimension 3" in message


@pytest.mark.parametrize("axis", [1.0, "0", (0, 0), (1, -2)], ids=repr)
def test_bad_axis_type_or_repeated_axis_is_refused(axis) -> None:
    with pytest.raises((TypeError, ValueError), match="sum"):
        Value(DATA).sum(axis=axis)


@given(
    shape=array_shapes(min_dims=1, max_dims=3, max_side=3),
    name=st.sampled_from(sorted(REFERENCE)),
    keepdims=st.booleans(),
    data=st.data(),
)
def test_any_axis_subset_matches_numpy_and_central_differences(shape, name, keepdims, data) -> None:
    ndim = len(shape)
    axes = data.draw(
        st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda a: a % ndim, min_size=1, max_size=ndim)
    )
    axis = tuple(axes) if data.draw(st.booleans()) or len(axes) > 1 else axes[0]
    values = np.random.default_rng(len(axes)).permutation(int(np.prod(shape))).reshape(shape) / 3.0
    expected = REFERENCE[name](values, axis=axis, keepdims=keepdims)
    out = getattr(Value(values), name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    reduced = int(np.prod([shape[a] for a in axes]))
    if not (name == "std" and reduced == 1):  # std over one element: slope 0/0
        assert_grads_match(lambda v: getattr(v, name)(axis=axis, keepdims=keepdims), [values])
