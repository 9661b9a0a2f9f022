"""Broadcasting at the edges that the deep (randomized) Hypothesis profile found: a gradient put
back through numpy's assignment rules, and a bias of more dimensions than its layer's product."""

from __future__ import annotations

import numpy as np

from autonet import Value, call_op, gradcheck, gradgradcheck


def test_scatter_add_gives_back_the_leading_axes_numpy_assignment_dropped() -> None:
    # A (1, 0) g fills the (0,) slot out[0]: its gradient has g's shape again, not the slot's.
    g = Value(np.zeros((1, 0)))
    call_op("scatter_add", g, index=0, shape=(1, 0)).backward(np.ones((1, 0)))
    assert g.grad.shape == (1, 0)
    g = Value(np.ones((1, 3)))
    call_op("scatter_add", g, index=0, shape=(2, 3)).backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(g.grad, [[0.0, 1.0, 2.0]])


def test_linear_with_a_bias_that_broadcasts_the_product_sums_its_gradient_back() -> None:
    x, w = np.full(4, 0.3), np.arange(20.0).reshape(4, 5) / 10

    def layer(x: Value, w: Value, b: Value) -> Value:
        return call_op("linear", x, w, b)

    for bias in (np.zeros((3, 1)), np.zeros((0, 1))):
        out = layer(Value(x), Value(w), Value(bias))
        np.testing.assert_allclose(out.data, x @ w + bias)
        assert gradcheck(layer, x, w, bias) and gradgradcheck(layer, x, w, bias)


def test_linear_with_a_0d_bias_sums_every_gradient_element_into_it() -> None:
    b = Value(0.5)
    out = call_op("linear", Value(np.ones((3, 4))), Value(np.ones((4, 5))), b)
    out.backward(np.ones(out.shape))
    assert b.grad == 15.0
