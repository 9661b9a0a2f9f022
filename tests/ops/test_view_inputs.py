"""Every registered op gives the same value and gradient when its inputs are views (the data of
``x.swapaxes(-1, -2)`` or ``x[::2]``), not arrays of their own: ops meet views from transposes
and slices, and a vjp that writes into ``reshape(-1)`` of an array laid out like a transposed
view writes into a copy (cross_entropy of transposed logits lost its one-hot that way). The
output's gradient arrives as such a view too.

Parametrised over the registry, on cases drawn as ``python -m autonet check`` draws them, so a
new op is covered.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from autonet import Value, apply, gradients
from autonet.ops import REGISTRY
from autonet.testing.cases import RandomSource, op_case

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _viewed(array: np.ndarray) -> tuple[Value, Value, Callable[[np.ndarray], np.ndarray]]:
    """A leaf, the view of it that holds ``array``'s numbers, and how to read ``array``'s
    gradient off the leaf's: a transposed view (laid out in Fortran order) of a matrix, a view of
    every other element of a vector."""
    if array.ndim >= 2:
        leaf = Value(np.ascontiguousarray(np.swapaxes(array, -1, -2)), requires_grad=True)
        return leaf, leaf.swapaxes(-1, -2), lambda grad: np.swapaxes(grad, -1, -2)
    wide = np.zeros(2 * array.size, array.dtype)
    wide[::2] = array
    leaf = Value(wide, requires_grad=True)

    def every_other(grad: np.ndarray) -> np.ndarray:
        assert np.all(grad[1::2] == 0), "the gradient leaked into the elements the view leaves out"
        return grad[::2]

    return leaf, leaf[::2], every_other


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_views_give_the_value_and_gradient_of_arrays_of_their_own(name: str) -> None:
    op = REGISTRY[name]
    rng = np.random.default_rng(0)
    if op.cases.shapes is None:  # the op lists its cases itself: every one of them
        cases = op.cases.samples(rng, np.float64)
    else:
        source = RandomSource(rng)
        cases = [op_case(op, source) for _ in range(30)]
    checked = 0
    for inputs, params in cases:
        inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
        if any(x.ndim == 0 or x.size == 0 for x in inputs):
            continue
        leaves = [Value(x.copy(), requires_grad=True) for x in inputs]
        plain = apply(op, *leaves, **params)
        views = [_viewed(x) for x in inputs]
        viewed = apply(op, *[view for _, view, _ in views], **params)
        # Equal up to rounding: BLAS may sum a product of views in another order.
        np.testing.assert_allclose(viewed.data, plain.data, rtol=1e-13, atol=1e-14, err_msg=f"{name}: value")
        upstream = rng.uniform(0.5, 2.0, plain.shape)
        expected = gradients((plain * upstream).sum(), leaves)
        got = gradients((viewed * upstream).sum(), [leaf for leaf, _, _ in views])
        for index, (e, g, (_, _, read)) in enumerate(zip(expected, got, views, strict=True)):
            np.testing.assert_allclose(read(g), e, rtol=1e-12, atol=1e-14, err_msg=f"{name}: input {index}")
        if plain.ndim >= 2:
            # The output's gradient arriving as a view too: the vjp of a swapaxes hands one on.
            turned = np.ascontiguousarray(np.swapaxes(upstream, -1, -2))
            through = gradients((apply(op, *leaves, **params).swapaxes(-1, -2) * turned).sum(), leaves)
            for index, (e, g) in enumerate(zip(expected, through, strict=True)):
                np.testing.assert_allclose(
                    g, e, rtol=1e-12, atol=1e-14, err_msg=f"{name}: input {index}, g a view"
                )
        checked += 1
    assert checked, f"{name}: no case with n-d inputs"
