"""Shape ops: numpy's values, gradients that move back to the input's layout, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_grads_match
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import autonet
from autonet import Value

DATA = np.arange(24.0).reshape(2, 3, 4) / 10.0

# (label, autonet function of a Value, the same with numpy on an array)
SHAPE_OPS = [
    ("reshape ints", lambda v: v.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("reshape tuple with -1", lambda v: v.reshape((3, -1)), lambda a: a.reshape((3, -1))),
    ("reshape to same shape", lambda v: v.reshape(2, 3, 4), lambda a: a.reshape(2, 3, 4)),
    ("flatten", lambda v: v.flatten(), lambda a: a.flatten()),
    ("transpose reversed", lambda v: v.transpose(), lambda a: a.transpose()),
    ("transpose axes", lambda v: v.transpose(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    ("transpose tuple negative", lambda v: v.transpose((-1, 0, 1)), lambda a: a.transpose((-1, 0, 1))),
    (".T", lambda v: v.T, lambda a: a.T),
    ("swapaxes", lambda v: v.swapaxes(0, 2), lambda a: a.swapaxes(0, 2)),
    ("swapaxes negative", lambda v: v.swapaxes(-1, 1), lambda a: a.swapaxes(-1, 1)),
    ("expand_dims", lambda v: v.expand_dims(1), lambda a: np.expand_dims(a, 1)),
    ("expand_dims tuple", lambda v: v.expand_dims((0, -1)), lambda a: np.expand_dims(a, (0, -1))),
    ("squeeze all", lambda v: v.reshape(1, 2, 1, 12).squeeze(), lambda a: a.reshape(1, 2, 1, 12).squeeze()),
    (
        "squeeze axis",
        lambda v: v.reshape(1, 2, 1, 12).squeeze(2),
        lambda a: a.reshape(1, 2, 1, 12).squeeze(2),
    ),
    (
        "squeeze tuple",
        lambda v: v.reshape(1, 24, 1).squeeze((0, -1)),
        lambda a: a.reshape(1, 24, 1).squeeze((0, -1)),
    ),
    ("broadcast_to", lambda v: v.broadcast_to((5, 2, 3, 4)), lambda a: np.broadcast_to(a, (5, 2, 3, 4))),
    (
        "broadcast_to stretch",
        lambda v: v[:, :1].broadcast_to((2, 3, 4)),
        lambda a: np.broadcast_to(a[:, :1], (2, 3, 4)),
    ),
    (
        "concatenate",
        lambda v: autonet.concatenate([v, v * 2, v[:1]]),
        lambda a: np.concatenate([a, a * 2, a[:1]]),
    ),
    (
        "concatenate axis -1",
        lambda v: autonet.concatenate([v[..., :1], v], axis=-1),
        lambda a: np.concatenate([a[..., :1], a], axis=-1),
    ),
    ("stack", lambda v: autonet.stack([v, -v]), lambda a: np.stack([a, -a])),
    (
        "stack axis -1",
        lambda v: autonet.stack([v, v * 3, v], axis=-1),
        lambda a: np.stack([a, a * 3, a], axis=-1),
    ),
    ("numpy reshape", lambda v: np.reshape(v, (6, 4)), lambda a: np.reshape(a, (6, 4))),
    ("numpy transpose", lambda v: np.transpose(v, (2, 0, 1)), lambda a: np.transpose(a, (2, 0, 1))),
    ("numpy concatenate", lambda v: np.concatenate([v, v], axis=1), lambda a: np.concatenate([a, a], axis=1)),
    ("numpy stack", lambda v: np.stack([v, v], axis=1), lambda a: np.stack([a, a], axis=1)),
]


@pytest.mark.parametrize(("label", "build", "reference"), SHAPE_OPS, ids=[op[0] for op in SHAPE_OPS])
def test_values_match_numpy_and_gradients_match_central_differences(label, build, reference) -> None:
    out = build(Value(DATA))
    assert isinstance(out, Value)
    np.testing.assert_array_equal(out.data, reference(DATA))
    assert_grads_match(build, [DATA])


@pytest.mark.parametrize(("label", "build", "reference"), SHAPE_OPS, ids=[op[0] for op in SHAPE_OPS])
def test_shape_ops_differentiate_twice(label, build, reference) -> None:
    """Their vjps run on Values under create_graph, so second derivatives come out right.

    Every op here is linear, f(x) = J x, so for L = sum(f(x)**2) the nested gradient
    d/dx sum(dL/dx) = 2 J^T J 1 = 2 J^T f(1): one plain backward of f with cotangent f(1).
    """
    x = Value(DATA)
    (slope,) = autonet.gradients((build(x) ** 2).sum(), [x], create_graph=True)
    (curvature,) = autonet.gradients(slope.sum(), [x])
    ones = Value(np.ones_like(DATA))
    image = build(ones)
    image.backward(image.data)
    np.testing.assert_allclose(curvature, 2 * ones.grad, rtol=1e-12)


def test_transpose_gradient_is_the_cotangent_transposed_back() -> None:
    x = Value(DATA)
    cotangent = np.random.default_rng(0).normal(size=(4, 2, 3))
    x.transpose(2, 0, 1).backward(cotangent)
    np.testing.assert_array_equal(x.grad, cotangent.transpose(1, 2, 0))


def test_broadcast_to_sums_the_gradient_over_copies() -> None:
    x = Value(np.array([[1.0], [2.0]]))
    x.broadcast_to((3, 2, 4)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[12.0], [12.0]])


def test_concatenate_and_stack_split_the_gradient() -> None:
    a, b = Value(np.ones((2, 1))), Value(np.ones((2, 2)))
    cotangent = np.arange(6.0).reshape(2, 3)
    autonet.concatenate([a, b], axis=1).backward(cotangent)
    np.testing.assert_array_equal(a.grad, cotangent[:, :1])
    np.testing.assert_array_equal(b.grad, cotangent[:, 1:])
    c, d = Value(np.ones(3)), Value(np.ones(3))
    autonet.stack([c, d], axis=1).backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(c.grad, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(d.grad, [1.0, 3.0, 5.0])


def test_the_same_value_twice_in_concatenate_gets_both_parts() -> None:
    x = Value(np.array([1.0, 2.0]))
    autonet.concatenate([x, x, x[:1]]).backward(np.array([1.0, 2.0, 10.0, 20.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [111.0, 22.0])


def test_scalars_reshape_and_flatten() -> None:
    x = Value(2.0)
    assert x.flatten().shape == (1,)
    assert x.reshape(1, 1).shape == (1, 1)
    assert x.T.shape == ()
    (x.reshape(1, 1) * 3).sum().backward()
    assert x.grad.item() == 3.0


def test_float32_is_kept_by_shape_ops() -> None:
    x = Value(DATA.astype(np.float32))
    for label, build, _ in SHAPE_OPS:
        x.grad = None
        out = build(x)
        assert out.dtype == np.float32, label
        out.sum().backward()
        assert x.grad.dtype == np.float32, label


@pytest.mark.parametrize(
    ("build", "error", "pieces"),
    [
        (lambda v: v.reshape(5, 5), ValueError, ["reshape", "(2, 3, 4)", "(5, 5)"]),
        (lambda v: v.reshape(-1, -1), ValueError, ["reshape", "(2, 3, 4)"]),
        (lambda v: v.transpose(0, 1), ValueError, ["transpose", "(0, 1)", "3 dimensions"]),
        (lambda v: v.transpose(0, 0, 1), ValueError, ["transpose", "permutation"]),
        (lambda v: v.transpose(0, 1, 3), np.exceptions.AxisError, ["transpose", "axis 3", "dimension 3"]),
        (lambda v: v.swapaxes(0, 3), np.exceptions.AxisError, ["swapaxes", "axis 3", "dimension 3"]),
        (lambda v: v.squeeze(1), ValueError, ["squeeze", "axis 1", "length 3", "(2, 3, 4)"]),
        (lambda v: v.squeeze(4), np.exceptions.AxisError, ["squeeze", "axis 4", "dimension 3"]),
        (lambda v: v.expand_dims(5), np.exceptions.AxisError, ["expand_dims", "axis 5"]),
        (lambda v: v.broadcast_to((3, 4)), ValueError, ["broadcast_to", "(2, 3, 4)", "(3, 4)"]),
        (lambda v: v.broadcast_to((2, 5, 4)), ValueError, ["broadcast_to", "(2, 3, 4)", "(2, 5, 4)"]),
        (
            lambda v: autonet.concatenate([v, v[:, :2, :2]], axis=0),
            ValueError,
            ["concatenate", "(2, 3, 4)", "(2, 2, 2)", "axis 0"],
        ),
        (lambda v: autonet.concatenate([v, v], axis=3), np.exceptions.AxisError, ["concatenate", "axis 3"]),
        (lambda v: autonet.concatenate([]), ValueError, ["concatenate", "at least one"]),
        (lambda v: autonet.concatenate([v.sum(), v.sum()]), ValueError, ["concatenate", "zero-dimensional"]),
        (lambda v: autonet.stack([v, v[0]]), ValueError, ["stack", "(2, 3, 4)", "(3, 4)"]),
        (lambda v: autonet.stack([v, v], axis=4), np.exceptions.AxisError, ["stack", "axis 4"]),
        (lambda v: autonet.stack([]), ValueError, ["stack", "at least one"]),
    ],
)
def test_shape_errors_name_the_op_and_shapes(build, error, pieces) -> None:
    with pytest.raises(error) as caught:
        build(Value(DATA))
    for piece in pieces:
        assert piece in str(caught.value)


@given(shape=array_shapes(min_dims=0, max_dims=4, max_side=3), data=st.data())
def test_any_permutation_and_reshape_round_trip(shape, data) -> None:
    values = np.arange(float(np.prod(shape))).reshape(shape)
    permutation = data.draw(st.permutations(range(len(shape))))
    x = Value(values)
    moved = x.transpose(tuple(permutation)) if shape else x.transpose()
    np.testing.assert_array_equal(moved.data, np.transpose(values, permutation))
    flat = moved.reshape(-1)
    np.testing.assert_array_equal(flat.data, np.transpose(values, permutation).ravel())
    cotangent = np.arange(1.0, values.size + 1)
    flat.backward(cotangent)
    expected = np.transpose(
        cotangent.reshape(np.transpose(values, permutation).shape), np.argsort(permutation)
    )
    np.testing.assert_array_equal(x.grad, expected)
