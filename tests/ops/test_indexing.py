"""Indexing ``v[idx]``: numpy's values, and gradients that land where the elements came from.

Repeated integer indices pick an element more than once, so its gradient must add up.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_grads_match
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import basic_indices

import autonet
from autonet import Value

DATA = np.arange(24.0).reshape(2, 3, 4) / 7.0

INDICES = [
    1,
    -1,
    (1, 2),
    (-1, -2, -3),
    slice(None),
    slice(1, None),
    (slice(None), slice(None, None, -1)),
    (slice(None, None, 2), 1),
    Ellipsis,
    (Ellipsis, 0),
    (0, Ellipsis, -1),
    None,
    (None, 1),
    (slice(None), None, 2),
    np.array([0, 1, 0]),
    (slice(None), [2, 0]),
    ([1, 0], [2, 2], [3, 0]),
    DATA > 1.5,
    np.array([True, False]),
    (1, DATA[0, :, 0] > 0.1),
    (1, Ellipsis, np.array([[0], [3]])),
    (np.array([0, 0, 1]), slice(1, 3), None),
    (0, 1, 2),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_values_match_numpy_and_gradients_match_central_differences(index) -> None:
    x = Value(DATA)
    out = x[index]
    np.testing.assert_array_equal(out.data, DATA[index])
    assert_grads_match(lambda v: v[index], [DATA])


def test_repeated_integer_indices_accumulate() -> None:
    x = Value(np.array([1.0, 2.0, 3.0, 4.0]))
    out = x[np.array([0, 2, 0, 0, 3])]
    out.backward(np.array([1.0, 10.0, 100.0, 1000.0, 5.0]))
    np.testing.assert_array_equal(x.grad, [1101.0, 0.0, 10.0, 5.0])


def test_repeated_pairs_in_a_mixed_tuple_accumulate() -> None:
    x = Value(np.zeros((2, 3)))
    x[[1, 1, 0], [2, 2, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])


def test_boolean_mask_routes_gradient_only_to_selected_elements() -> None:
    data = np.array([[-1.0, 2.0], [3.0, -4.0]])
    x = Value(data)
    picked = x[x > 0]  # a comparison gives a plain bool array, usable as a mask
    np.testing.assert_array_equal(picked.data, [2.0, 3.0])
    (picked * np.array([5.0, 7.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 5.0], [7.0, 0.0]])


def test_each_element_through_iteration_adds_up_to_ones() -> None:
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    total = Value(0.0)
    for row in x:
        for element in row:
            total = total + element
    total.backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))


def test_scalar_values_allow_empty_tuple_none_and_ellipsis() -> None:
    x = Value(2.0)
    assert x[()].item() == 2.0
    assert x[None].shape == (1,)
    assert x[...].shape == ()
    (x[()] + x[None].sum() * 3).backward()
    assert x.grad.item() == 4.0


def test_index_can_be_differentiated_twice() -> None:
    """Under create_graph the adjoint of getitem (scatter_add) records a graph too."""
    x = Value(np.array([1.0, 2.0, 3.0]))
    index = np.array([2, 2, 0])
    (slope,) = autonet.gradients((x[index] ** 2).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(slope.data, [2.0, 0.0, 12.0])  # 2x at each pick, repeats add
    (curvature,) = autonet.gradients(slope.sum(), [x])
    np.testing.assert_array_equal(curvature, [2.0, 0.0, 4.0])


def test_float32_indexing_keeps_float32() -> None:
    x = Value(np.ones((3, 2), dtype=np.float32))
    out = x[np.array([0, 0])]
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0], [0.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize(
    ("index", "names"),
    [
        (3, ["index 3", "size 2"]),
        (-3, ["index -3", "size 2"]),
        ((0, 5), ["index 5", "size 3"]),
        (np.array([0, 7]), ["index 7", "size 2"]),
        ((0, 0, 0, 0), ["too many indices", "3-dimensional"]),
        (np.array([True, False, True]), ["boolean index", "size of axis is 2"]),
    ],
    ids=repr,
)
def test_out_of_range_index_raises_index_error_naming_index_and_shape(index, names) -> None:
    x = Value(DATA)
    with pytest.raises(IndexError) as caught:
        x[index]
    message = str(caught.value)
    assert "getitem" in message
    assert "(2, 3, 4)" in message
    for name in names:
        assert name in message


@pytest.mark.parametrize("index", [1.0, np.float64(0.0), (0, 1.5), np.array([0.0, 1.0]), [0.5]], ids=repr)
def test_float_index_raises_index_error(index) -> None:
    with pytest.raises(IndexError, match="getitem"):
        Value(DATA)[index]


def test_failed_index_records_nothing() -> None:
    x = Value(np.ones(3))
    with pytest.raises(IndexError):
        x[5]
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@given(data=st.data())
def test_any_basic_index_matches_numpy_and_scatters_back(data) -> None:
    shape = data.draw(st.sampled_from([(5,), (3, 4), (2, 3, 2)]))
    index = data.draw(basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    x = Value(values)
    out = x[index]
    np.testing.assert_array_equal(out.data, values[index])
    cotangent = np.arange(1.0, out.size + 1).reshape(out.shape)
    out.backward(cotangent)
    expected = np.zeros(shape)
    expected[index] += cotangent  # basic indices never repeat an element
    np.testing.assert_array_equal(x.grad, expected)


@given(
    picks=st.lists(st.integers(-4, 3), min_size=1, max_size=8),
    weights_seed=st.integers(0, 2**16),
)
def test_any_integer_array_index_accumulates_like_add_at(picks, weights_seed) -> None:
    values = np.array([1.0, -2.0, 3.0, 0.5])
    x = Value(values)
    out = x[np.array(picks)]
    np.testing.assert_array_equal(out.data, values[picks])
    cotangent = np.random.default_rng(weights_seed).normal(size=len(picks))
    out.backward(cotangent)
    expected = np.zeros(4)
    np.add.at(expected, picks, cotangent)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-14)
