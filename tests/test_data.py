"""Generated data sets and the minibatch iterator: shapes, labels, geometry, seeding, coverage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet.data import make_moons, make_spirals, minibatches, xor


def test_xor_is_the_truth_table():
    inputs, targets = xor()
    assert inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert targets.tolist() == [0, 1, 1, 0]
    assert targets.tolist() == [int(a) ^ int(b) for a, b in inputs]
    assert xor(np.float32)[0].dtype == np.float32


@given(st.integers(2, 300), st.integers(0, 2**31))
def test_moons_are_two_balanced_shuffled_classes(n, seed):
    inputs, labels = make_moons(n, noise=0.1, seed=seed)
    assert inputs.shape == (n, 2) and labels.shape == (n,) and labels.dtype.kind == "i"
    assert abs(int((labels == 0).sum()) - int((labels == 1).sum())) <= 1
    again = make_moons(n, noise=0.1, seed=seed)
    np.testing.assert_array_equal(inputs, again[0])
    np.testing.assert_array_equal(labels, again[1])


def test_noiseless_moons_lie_on_their_half_circles():
    inputs, labels = make_moons(50, noise=0.0, seed=0)
    top, bottom = inputs[labels == 0], inputs[labels == 1]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)
    assert np.all(top[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)
    assert np.all(bottom[:, 1] <= 0.5 + 1e-12)


def test_moons_seeds_differ_and_noise_spreads_points():
    a, _ = make_moons(100, noise=0.1, seed=0)
    b, _ = make_moons(100, noise=0.1, seed=1)
    assert not np.array_equal(a, b)
    assert make_moons(10, seed=np.random.default_rng(0))[0].shape == (10, 2)


def test_spirals_have_equal_classes_within_the_unit_disc():
    inputs, labels = make_spirals(50, classes=4, noise=0.2, seed=0)
    assert inputs.shape == (200, 2)
    assert np.bincount(labels).tolist() == [50, 50, 50, 50]
    assert np.hypot(inputs[:, 0], inputs[:, 1]).max() <= 1.0 + 1e-12
    np.testing.assert_array_equal(inputs, make_spirals(50, classes=4, noise=0.2, seed=0)[0])


def test_spiral_arms_are_rotated_copies_without_noise():
    inputs, labels = make_spirals(30, classes=3, noise=0.0, seed=0)
    angle = np.arctan2(inputs[:, 0], inputs[:, 1])
    step = np.mod(angle[labels == 1][1:] - angle[labels == 0][1:], 2 * np.pi)
    np.testing.assert_allclose(step, 4.0 % (2 * np.pi))


@given(st.integers(1, 60), st.integers(1, 20), st.booleans(), st.booleans(), st.integers(0, 1000))
def test_minibatches_cover_every_row_once(n, batch_size, shuffle, drop_last, seed):
    inputs = np.arange(n * 2).reshape(n, 2)
    labels = np.arange(n)
    batches = list(
        minibatches(inputs, labels, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    )
    seen = np.concatenate([b[1] for b in batches]) if batches else np.array([], dtype=int)
    expected_count = n - n % batch_size if drop_last else n
    assert len(seen) == expected_count and len(set(seen.tolist())) == expected_count
    assert all(len(b[1]) == batch_size for b in batches[:-1])
    for x, y in batches:
        np.testing.assert_array_equal(x[:, 0], 2 * y)  # rows stay paired across arrays
    if not shuffle:
        assert seen.tolist() == list(range(expected_count))


def test_minibatches_shuffle_reproducibly():
    labels = np.arange(20)
    first = [b[0].tolist() for b in minibatches(labels, batch_size=5, seed=3)]
    assert first == [b[0].tolist() for b in minibatches(labels, batch_size=5, seed=3)]
    assert first != [b[0].tolist() for b in minibatches(labels, batch_size=5, seed=4)]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: list(minibatches(np.ones(3), np.ones(4))), ValueError, "different lengths"),
        (lambda: list(minibatches()), ValueError, "at least one array"),
        (
            lambda: list(minibatches(np.ones(3), batch_size=0)),
            ValueError,
            "batch_size must be a positive int",
        ),
        (lambda: make_moons(0), ValueError, "n must be a positive int"),
        (lambda: make_moons(10, noise=-1), ValueError, "noise"),
        (lambda: make_spirals(10, seed="x"), TypeError, "seed must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
