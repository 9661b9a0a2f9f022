"""Initializers: the variances of their formulas, seeding through a Generator, dtypes, and layer defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet.nn import MLP, Layer, Neuron, init

FAN_IN, FAN_OUT = 400, 300


@pytest.mark.parametrize(
    ("initializer", "variance"),
    [
        (init.xavier_uniform, 2.0 / (FAN_IN + FAN_OUT)),
        (init.xavier_normal, 2.0 / (FAN_IN + FAN_OUT)),
        (init.he_uniform, 2.0 / FAN_IN),
        (init.he_normal, 2.0 / FAN_IN),
        (init.normal, 1.0),
        (init.uniform, 1.0 / 3.0),
    ],
)
def test_each_initializer_has_the_variance_of_its_formula(initializer, variance):
    weights = initializer((FAN_IN, FAN_OUT), rng=0)
    assert weights.shape == (FAN_IN, FAN_OUT) and weights.dtype == np.float64
    assert abs(weights.mean()) < 0.01 * math.sqrt(variance) * 10
    assert weights.var() == pytest.approx(variance, rel=0.02)


@pytest.mark.parametrize(
    ("initializer", "bound"),
    [
        (init.xavier_uniform, math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
        (init.he_uniform, math.sqrt(6.0 / FAN_IN)),
        (init.uniform, 1.0),
    ],
)
def test_uniform_initializers_stay_within_and_reach_their_bound(initializer, bound):
    weights = initializer((FAN_IN, FAN_OUT), rng=1)
    assert np.abs(weights).max() <= bound
    assert np.abs(weights).max() > 0.99 * bound


def test_gain_scales_the_spread():
    plain = init.xavier_normal((50, 50), rng=2)
    scaled = init.xavier_normal((50, 50), gain=3.0, rng=2)
    np.testing.assert_allclose(scaled, 3.0 * plain)


@given(st.sampled_from(sorted(init.INITIALIZERS)), st.integers(0, 2**32 - 1))
def test_the_same_seed_gives_the_same_weights_and_another_seed_others(name, seed):
    draw = init.INITIALIZERS[name]
    np.testing.assert_array_equal(draw((3, 4), rng=seed), draw((3, 4), rng=seed))
    assert not np.array_equal(draw((3, 4), rng=seed), draw((3, 4), rng=seed + 1))


def test_a_shared_generator_advances_between_draws():
    rng = np.random.default_rng(3)
    first, second = init.he_normal((4, 4), rng=rng), init.he_normal((4, 4), rng=rng)
    assert not np.array_equal(first, second)
    replay = np.random.default_rng(3)
    np.testing.assert_array_equal(init.he_normal((4, 4), rng=replay), first)


def test_float32_is_drawn_as_float32():
    assert init.kaiming_uniform((3, 2), rng=0, dtype=np.float32).dtype == np.float32
    assert Layer(3, 2, rng=0, dtype=np.float32).w.dtype == np.float32


def test_a_vector_shape_is_one_neuron_with_one_output():
    np.testing.assert_array_equal(init.xavier_uniform(5, rng=0), init.xavier_uniform((5,), rng=0))
    assert np.abs(init.xavier_uniform(5, rng=0)).max() <= math.sqrt(6 / 6)


def test_layers_pick_he_for_relu_and_xavier_otherwise():
    relu = Layer(50, 40, activation="relu", rng=0).w.data
    tanh = Layer(50, 40, activation="tanh", rng=0).w.data
    assert np.abs(relu).max() <= math.sqrt(6 / 50) and np.abs(relu).max() > math.sqrt(6 / 90)
    assert np.abs(tanh).max() <= math.sqrt(6 / 90)
    assert init.default_for("leaky_relu") == "he_uniform" and init.default_for(None) == "xavier_uniform"


def test_layers_accept_an_initializer_by_name_or_as_a_function():
    named = Layer(3, 2, init="xavier_normal", rng=4).w.data
    np.testing.assert_array_equal(named, init.xavier_normal((3, 2), rng=4))
    constant = Layer(3, 2, init=lambda shape, rng, dtype: np.full(shape, 0.5, dtype=dtype)).w.data
    assert np.all(constant == 0.5)
    assert Neuron(3, init="normal", rng=4).w.shape == (3,)


def test_mlp_seeded_by_a_generator_is_reproducible():
    a = MLP(2, [4, 1], rng=np.random.default_rng(11))
    b = MLP(2, [4, 1], rng=np.random.default_rng(11))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: init.he_normal((2, 2), rng="seed"), TypeError, "rng must be a numpy.random.Generator"),
        (lambda: init.he_normal((2, 2, 2)), ValueError, r"shape must be \(fan_in,\) or \(fan_in, fan_out\)"),
        (lambda: init.xavier_uniform((0, 3)), ValueError, "at least 1"),
        (lambda: Layer(2, 2, init="orthogonal"), ValueError, "unknown initializer 'orthogonal'"),
        (lambda: Layer(2, 2, init=lambda shape, rng, dtype: np.zeros(3)), ValueError, r"init returned shape"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
