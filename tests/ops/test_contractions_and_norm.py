"""einsum, outer, tensordot and norm against numpy, their gradients against independent
references (a contraction is linear in each operand, so its gradient is the contraction of the
seed with each basis array), and norm at its edges: the zero vector, ties, huge and tiny values."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import check_declared_edge

from autonet import Value, call_op, einsum, gradients, outer, tensordot
from autonet.ops import REGISTRY

RNG = np.random.default_rng(3)


def _linear_gradients(
    fn: Callable[..., np.ndarray], arrays: list[np.ndarray], seed: np.ndarray
) -> list[np.ndarray]:
    """The gradients of sum(seed * fn(*arrays)) for fn linear in each argument: entry k of input i
    is sum(seed * fn(..., e_k, ...)), with the basis array e_k in place of input i."""
    grads = []
    for i, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for k in itertools.product(*map(range, array.shape)):
            basis = np.zeros_like(array)
            basis[k] = 1.0
            grad[k] = np.sum(seed * fn(*arrays[:i], basis, *arrays[i + 1 :]))
        grads.append(grad)
    return grads


def _check_against_numpy(
    ours: Callable[..., Value],
    theirs: Callable[..., np.ndarray],
    shapes: list[tuple[int, ...]],
    create_graph: bool,
) -> None:
    arrays = [RNG.uniform(-2.0, 2.0, shape) for shape in shapes]
    values = [Value(a) for a in arrays]
    out = ours(*values)
    expected = theirs(*arrays)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-14)
    seed = RNG.uniform(-1.0, 1.0, out.shape)
    out.backward(seed, create_graph=create_graph)
    for i, (v, reference) in enumerate(zip(values, _linear_gradients(theirs, arrays, seed), strict=True)):
        grad = v.grad.data if create_graph else v.grad
        np.testing.assert_allclose(grad, reference, rtol=1e-12, atol=1e-13, err_msg=f"operand {i}")


EINSUM_FORMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("i,i->", [(4,)] * 2),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij,jk", [(3, 2), (2, 4)]),
    ("ba,ac", [(3, 2), (2, 4)]),  # implicit output in alphabetical order: 'bc'
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),  # implicit: alphabetical, so a transpose
    ("ij,j->", [(2, 3), (3,)]),
    ("ijk->kj", [(2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("...i,...i", [(2, 3), (2, 3)]),  # implicit with '...': the broadcast axes first
    ("i...->...", [(3, 2, 2)]),
    ("i,ij,j->", [(3,), (3, 2), (2,)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUM_FORMS, ids=[f for f, _ in EINSUM_FORMS])
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_einsum_matches_numpy_and_its_gradient_contracts_the_seed(subscripts, shapes, create_graph) -> None:
    _check_against_numpy(
        lambda *xs: np.einsum(subscripts, *xs),  # through numpy's dispatch to the einsum op
        lambda *xs: np.einsum(subscripts, *xs),
        shapes,
        create_graph,
    )


def test_einsum_function_and_numpy_dispatch_agree_and_keep_float32() -> None:
    a = Value(np.ones((2, 3), dtype=np.float32))
    b = Value(np.ones((3,), dtype=np.float32))
    out = einsum("ij,j->i", a, b)
    assert isinstance(np.einsum("ij,j->i", a, b), Value) and out.dtype == np.float32
    assert out.tolist() == [3.0, 3.0]
    mixed = np.einsum("ij,j->i", a.data, b)  # one Value among the operands is enough
    assert isinstance(mixed, Value) and mixed.requires_grad


def test_einsum_differentiates_twice() -> None:
    # f(x) = x^T M x: slope (M + M^T) x, Hessian M + M^T.
    m = np.array([[1.0, 2.0], [0.0, 3.0]])
    x = Value(np.array([0.5, -1.0]))
    (slope,) = gradients(einsum("i,ij,j->", x, m, x), [x], create_graph=True)
    np.testing.assert_allclose(slope.data, (m + m.T) @ x.data)
    hessian = np.stack([gradients(slope[i], [x], retain_graph=True)[0] for i in range(2)])
    np.testing.assert_allclose(hessian, m + m.T)


@pytest.mark.parametrize(
    ("subscripts", "shapes", "error", "clues"),
    [
        (
            "ij,jk->ik",
            [(2, 3), (4, 5)],
            ValueError,
            ["'ij,jk->ik'", "'j'", "length 3", "but 4", "(2, 3)", "(4, 5)"],
        ),
        ("ii->", [(2, 2)], ValueError, ["repeat index 'i'", "trace", "np.arange(n)"]),
        ("ii->i", [(2, 2)], ValueError, ["diagonal"]),
        ("ij,jk->ik", [(2, 3)], ValueError, ["2 operand(s)", "1 were given"]),
        ("ijk->", [(2, 3)], ValueError, ["operand 0 has 2 dimension(s)", "'ijk' names 3"]),
        ("ij->ik", [(2, 3)], ValueError, ["output index 'k'"]),
        ("ij->ii", [(2, 3)], ValueError, ["the output"]),
        ("i1->", [(2, 3)], ValueError, ["'1'", "not an index"]),
        ("...ij->ij", [(4, 2, 3)], ValueError, ["keep the operands' '...'"]),
        ("i->->i", [(2,)], ValueError, ["'->' may appear once"]),
        (["i", "j"], [(2,)], TypeError, ["subscripts must be a string"]),
        ("ij,jk->ik", [(2, 1), (3, 4)], ValueError, ["length 1", "does not broadcast"]),
    ],
)
def test_bad_einsum_subscripts_name_the_op_the_subscripts_and_the_shapes(
    subscripts, shapes, error, clues
) -> None:
    arrays = [np.ones(shape) for shape in shapes]
    values = [Value(a) for a in arrays]
    with pytest.raises(error) as caught:
        einsum(subscripts, *values)
    message = str(caught.value)
    assert message.startswith("einsum: ") and all(clue in message for clue in clues), message
    assert all(np.array_equal(v.data, a) for v, a in zip(values, arrays, strict=True))


def test_numpy_einsum_without_string_subscripts_is_refused() -> None:
    with pytest.raises(TypeError, match="subscripts first, as a string"):
        np.einsum(Value(np.ones(2)), [0], np.ones(2), [0])


# --------------------------------------------------------------------------- outer, tensordot


@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 2), (3,)], [(), (2,)], [(0,), (2,)]])
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_outer_flattens_like_numpy_and_differentiates(shapes, create_graph) -> None:
    _check_against_numpy(lambda a, b: np.outer(a, b), np.outer, shapes, create_graph)
    assert outer(Value(np.ones((2, 2))), Value(np.ones(3))).shape == (4, 3)


TENSORDOT_FORMS = [
    ((2, 3), (3, 4), 1),
    ((2, 3), (2, 3), 2),
    ((3,), (2,), 0),
    ((2, 3, 2), (3, 2, 2), 2),
    ((2, 3, 2), (2, 2, 3), ([1, 0], [2, 0])),
    ((3, 2), (2, 3), ((-1,), (0,))),
    ((2, 2), (2, 3), (1, 0)),
    ((2, 0), (0, 3), 1),
]


@pytest.mark.parametrize(("shape_a", "shape_b", "axes"), TENSORDOT_FORMS)
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_tensordot_matches_numpy_and_differentiates(shape_a, shape_b, axes, create_graph) -> None:
    _check_against_numpy(
        lambda a, b: np.tensordot(a, b, axes),
        lambda a, b: np.tensordot(a, b, axes),
        [shape_a, shape_b],
        create_graph,
    )


@pytest.mark.parametrize(
    ("axes", "error", "clues"),
    [
        (([0], [0]), ValueError, ["axis 0 of a (length 2)", "axis 0 of b (length 3)", "(2, 3)", "(3, 4)"]),
        (3, ValueError, ["axes=3", "0 <= axes <= 2"]),
        (-1, ValueError, ["axes=-1"]),
        (([0, 0], [0, 1]), ValueError, ["repeat an axis"]),
        (([1], [0, 1]), ValueError, ["pair 1 axes of a with 2 of b"]),
        (([5], [0]), np.exceptions.AxisError, ["axis 5 of a"]),
        ("x", TypeError, ["axes must be an int or a pair"]),
        (([0.5], [0]), TypeError, ["must be ints"]),
    ],
)
def test_bad_tensordot_axes_name_the_op_the_axes_and_the_shapes(axes, error, clues) -> None:
    with pytest.raises(error) as caught:
        tensordot(Value(np.ones((2, 3))), Value(np.ones((3, 4))), axes)
    message = str(caught.value)
    assert message.startswith("tensordot: ") and all(clue in message for clue in clues), message


# --------------------------------------------------------------------------- norm

NORM_FORMS: list[tuple[tuple[int, ...], dict[str, Any]]] = [
    ((4,), {}),
    ((2, 3), {}),
    ((2, 3, 2), {}),
    ((2, 3, 2), {"keepdims": True}),
    ((), {}),
    ((4,), {"ord": 2}),
    ((4,), {"ord": 1}),
    ((4,), {"ord": math.inf}),
    ((4,), {"ord": -math.inf}),
    ((2, 3), {"ord": "fro"}),
    ((2, 3), {"axis": 1}),
    ((2, 3), {"axis": 0, "ord": 1, "keepdims": True}),
    ((3, 2), {"axis": -1, "ord": math.inf}),
    ((2, 3, 2), {"axis": (0, 2)}),
    ((2, 3, 2), {"axis": (2, 0), "ord": "fro", "keepdims": True}),
    ((2, 3), {"axis": (1,)}),
]


@pytest.mark.parametrize(("shape", "params"), NORM_FORMS, ids=[f"{s}-{p}" for s, p in NORM_FORMS])
def test_norm_matches_numpy_linalg_norm(shape, params) -> None:
    data = RNG.uniform(-2.0, 2.0, shape)
    for dtype in (np.float64, np.float32):
        out = np.linalg.norm(Value(data.astype(dtype)), **params)
        expected = np.linalg.norm(data.astype(dtype), **params)
        assert isinstance(out, Value) and out.shape == np.shape(expected) and out.dtype == expected.dtype
        np.testing.assert_allclose(out.data, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_norm_gradients_are_the_known_closed_forms() -> None:
    x = np.array([[3.0, -4.0, 0.0], [1.0, -2.0, 2.0]])

    def slope(**params: Any) -> np.ndarray:
        v = Value(x)
        v.norm(**params).sum().backward()
        return v.grad

    rows = np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(slope(axis=1), x / rows)  # x / |x| per row
    np.testing.assert_allclose(slope(), x / np.linalg.norm(x))  # Frobenius: x / |x|_F
    np.testing.assert_array_equal(slope(axis=1, ord=1), np.sign(x))  # 0 where x is 0
    # ord=inf: the sign at the largest |x| of each row, ties sharing it (|-2| = |2| in row 1)
    np.testing.assert_array_equal(slope(axis=1, ord=math.inf), [[0.0, -1.0, 0.0], [0.0, -0.5, 0.5]])
    np.testing.assert_array_equal(slope(axis=1, ord=-math.inf), [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_norm_of_the_zero_vector_has_gradient_zero(create_graph: bool) -> None:
    for params in ({}, {"ord": 1}, {"ord": math.inf}, {"axis": 0}):
        x = Value(np.zeros(3))
        x.norm(**params).backward(create_graph=create_graph)
        grad = x.grad.data if create_graph else x.grad
        np.testing.assert_array_equal(grad, np.zeros(3), err_msg=str(params))


@pytest.mark.parametrize(
    ("scale", "dtype"), [(1e200, np.float64), (1e-200, np.float64), (1e30, np.float32), (1e-30, np.float32)]
)
def test_norm_of_huge_and_tiny_elements_neither_overflows_nor_underflows(scale: float, dtype: Any) -> None:
    # numpy squares first: inf for 1e200, 0 for 1e-200 (and its gradient would be 0 or nan).
    x = Value(np.array([[3.0, 4.0], [0.0, 1.0]], dtype=dtype) * dtype(scale))
    out = x.norm(axis=1)
    np.testing.assert_allclose(out.data, np.array([5.0, 1.0]) * scale, rtol=1e-6)
    out.sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad, [[0.6, 0.8], [0.0, 1.0]], rtol=1e-6)


def test_norm_propagates_inf_and_nan() -> None:
    assert Value([np.inf, 1.0]).norm().item() == np.inf
    assert math.isnan(Value([np.nan, 1e300]).norm().item())


def test_norm_second_derivative_is_the_projection_over_the_norm() -> None:
    # d2|x| / dx2 = (I - x x^T / |x|^2) / |x|
    data = np.array([1.0, 2.0, -2.0])
    x = Value(data)
    (slope,) = gradients(x.norm(), [x], create_graph=True)
    hessian = np.stack([gradients(slope[i], [x], retain_graph=True)[0] for i in range(3)])
    np.testing.assert_allclose(
        hessian, (np.eye(3) - np.outer(data, data) / 9.0) / 3.0, rtol=1e-14, atol=1e-16
    )


@pytest.mark.parametrize(
    ("shape", "params", "error", "clues"),
    [
        ((2, 3), {"ord": 2}, ValueError, ["ord=2", "singular values"]),
        ((2, 3), {"ord": "nuc"}, ValueError, ["singular values"]),
        ((2, 3), {"ord": 1}, ValueError, ["ord=1 of a matrix", "x.abs().sum(axis=rows).max()"]),
        ((4,), {"ord": 3}, ValueError, ["ord=3", "None, 2, 1, inf and -inf", "** (1 / p)"]),
        ((4,), {"ord": 0}, ValueError, ["np.count_nonzero"]),
        ((4,), {"ord": "fro"}, ValueError, ["ord='fro'"]),
        ((2, 2, 2), {"ord": 2}, ValueError, ["1-d or 2-d", "3 dimensions"]),
        ((2, 2, 2), {"axis": (0, 1, 2)}, ValueError, ["one axis (vectors) or two (matrices)"]),
        ((2, 2), {"axis": (0, 0)}, ValueError, ["repeat an axis"]),
        ((2, 2), {"axis": 2}, np.exceptions.AxisError, ["axis 2", "2 dimension(s)"]),
        ((2, 2), {"ord": [1]}, TypeError, ["ord must be None, a number"]),
        ((2, 2), {"keepdims": "yes"}, TypeError, ["keepdims must be a bool"]),
    ],
)
def test_norms_autonet_has_no_op_for_are_refused_with_the_alternative(shape, params, error, clues) -> None:
    with pytest.raises(error) as caught:
        Value(np.ones(shape)).norm(**params)
    message = str(caught.value)
    assert message.startswith("norm: ") and all(clue in message for clue in clues), message


def test_the_issue_example_on_a_matrix_gets_the_whole_gradient() -> None:
    # loss = |w|^2 + 10 |w|_F: the true gradient is 2 w + 10 w / |w|_F, not 2 w (the numpy
    # function used to return a plain float, so the norm's share was lost).
    data = RNG.normal(size=(3, 4))
    w = Value(data)
    loss = (w * w).sum() + 10 * np.linalg.norm(w)
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * data + 10 * data / np.linalg.norm(data), rtol=1e-13)


# --------------------------------------------------------------------------- declared edges

EDGE_OPS = ("einsum", "outer", "tensordot", "norm")


@pytest.mark.parametrize(
    ("name", "index"),
    [(name, i) for name in EDGE_OPS for i in range(len(REGISTRY[name].edges))],
)
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_the_declared_edges_hold(name: str, index: int, create_graph: bool) -> None:
    check_declared_edge(name, REGISTRY[name].edges[index], create_graph)


def test_every_new_op_declares_its_edges() -> None:
    for name in (*EDGE_OPS, "prod", "cumsum"):
        assert REGISTRY[name].edges, f"{name} declares no edges"
        for edge in REGISTRY[name].edges:
            assert len(edge.grads) == len(edge.inputs) and edge.point
            call_op(name, *edge.inputs, **edge.params)  # the declared point is a valid call
