"""Products and contractions: matmul (numpy's ``@`` rules: 1-d operands, batches, broadcast batch
axes), einsum (any number of operands), outer, tensordot, and norm (``np.linalg.norm``).

The contractions' vjps are contractions again: each operand's gradient is an einsum of the output
gradient with the other operand (``contract``), numpy's on arrays and the einsum op on Values, so
they differentiate to any order. Being bilinear, each contraction's jvp for an operand is the
contraction itself with that operand replaced by its tangent. The norm follows PyTorch at its
kinks: gradient 0 at the zero vector (and where |x| = 0 for ord=1), tied extremes share the
gradient evenly (ord=inf, -inf).
"""

from __future__ import annotations

import functools
import math
import string
from typing import Any

import numpy as np

from . import numpy_api
from .cases import MATMUL, OUTER
from .registry import AWAY_FROM_ZERO, REAL, Cases, Edge, Op, apply, as_value, expand_reduced, register

Samples = list[tuple[tuple[np.ndarray, ...], dict[str, Any]]]


def _swap_last(x):
    return x.T if np.ndim(x) == 2 else x.swapaxes(-1, -2)


def _matmul_vjp_a(g, out, a, b):
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return g * b
        return g[..., None] * b
    if np.ndim(a) == 1:
        return (b @ g[..., None])[..., 0]
    return g @ _swap_last(b)


def _matmul_vjp_b(g, out, a, b):
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return g * a
        return a[:, None] * g[..., None, :]
    if np.ndim(b) == 1:
        return (_swap_last(a) @ g[..., None])[..., 0]
    return _swap_last(a) @ g


def _matmul_args(a, b):
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {sa} and {sb}")
    inner_a, inner_b = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {inner_a} != {inner_b}")
    if len(sa) > 2 or len(sb) > 2:  # only then are there batch axes to check
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: shapes {sa} and {sb} have batch axes {sa[:-2]} and {sb[:-2]} that do not broadcast"
            ) from None
    return (a, b), {}


matmul = register(
    Op(
        "matmul",
        np.matmul,
        (_matmul_vjp_a, _matmul_vjp_b),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: np.matmul(t, b), lambda t, out, a, b: np.matmul(a, t)),
        cases=MATMUL,
        doc="a @ b; batch axes broadcast and 1-d operands are vectors, as in numpy.",
        edges=(
            Edge("(0,) @ (0,)", (np.zeros(0), np.zeros(0)), grads=(np.zeros(0), np.zeros(0)), value=0.0),
            Edge(
                "(2, 0) @ (0, 3)",
                (np.zeros((2, 0)), np.zeros((0, 3))),
                grads=(np.zeros((2, 0)), np.zeros((0, 3))),
                value=np.zeros((2, 3)),
            ),
            Edge(
                "1e300 - 1e300 in a product",
                ([1e300, -1e300], [1.0, 1.0]),
                grads=([1.0, 1.0], [1e300, -1e300]),
                value=0.0,
            ),
            Edge("0-d operands", (2.0, 3.0), raises=ValueError, note="torch raises too"),
        ),
        prepare=_matmul_args,
        operator=("__matmul__", "__rmatmul__"),
        function="matmul",
        numpy={np.matmul: None, np.dot: numpy_api.dot, **numpy_api.newer(np.linalg, "matmul", None)},
        example=(
            ">>> from autonet import Value\n>>> (Value([[1.0, 2.0]]) @ Value([[3.0], [4.0]])).item()\n11.0"
        ),
    )
)


# --------------------------------------------------------------------------- einsum

_LETTERS = string.ascii_letters
# Below this many multiply-adds numpy's plain einsum loop beats the planning that optimize=True
# costs (about 10 us); above it, with an index summed over two operands, BLAS wins by 3 to 10 times.
_OPTIMIZE_ABOVE = 100_000


def _einsum_letters(term: str, subscripts: str, where: str) -> str:
    """The letters of one term, with its '...' (at most one) written as '.'."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise ValueError(
            f"subscripts {subscripts!r}: {where} ({term!r}) has more than one '...' or a stray '.'"
        )
    body = term.replace("...", ".")
    for c in body:
        if c != "." and c not in _LETTERS:
            raise ValueError(
                f"subscripts {subscripts!r}: {c!r} in {where} is not an index; use letters a-z, A-Z "
                "and at most one '...' per term"
            )
    repeated = sorted({c for c in body if c != "." and body.count(c) > 1})
    if repeated:
        raise ValueError(
            f"subscripts {subscripts!r} repeat index {repeated[0]!r} in {where} (a trace or a diagonal), "
            "which autonet's einsum does not take: for the diagonal of an (n, n) x use "
            "x[np.arange(n), np.arange(n)], and .sum() of it for the trace"
        )
    return body


def einsum_plan(subscripts: str, ndims: tuple[int, ...]) -> tuple[tuple[str, ...], str]:
    """Explicit einsum subscripts for operands of ``ndims`` dimensions: one string of distinct
    letters per operand and the output's letters, each '...' replaced by letters of its own.

    The implicit form (no '->') sums the indices that appear twice and orders the others
    alphabetically after the '...' dimensions, as numpy does. An index repeated within one
    operand (a trace or a diagonal) raises ValueError, as does anything numpy would refuse.

    >>> einsum_plan("ij,jk", (2, 2))
    (('ij', 'jk'), 'ik')
    >>> einsum_plan("...i->i...", (3,))
    (('abi',), 'iab')
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__}")
    return _einsum_plan(subscripts, tuple(ndims))


@functools.lru_cache(maxsize=512)  # a forward and its vjps plan the same subscripts again
def _einsum_plan(subscripts: str, ndims: tuple[int, ...]) -> tuple[tuple[str, ...], str]:
    lhs, arrow, output = subscripts.replace(" ", "").partition("->")
    if any(c in "->" for c in lhs + output):
        raise ValueError(f"subscripts {subscripts!r}: '->' may appear once, between inputs and output")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(
            f"subscripts {subscripts!r} name {len(terms)} operand(s), but {len(ndims)} were given"
        )
    bodies, covers = [], []
    for k, (term, ndim) in enumerate(zip(terms, ndims, strict=True)):
        body = _einsum_letters(term, subscripts, f"operand {k}")
        covered = ndim - len(body.replace(".", ""))
        if covered < 0 or (covered and "." not in body):
            raise ValueError(
                f"subscripts {subscripts!r}: operand {k} has {ndim} dimension(s), but {term!r} names "
                f"{len(body.replace('.', ''))}"
            )
        bodies.append(body)
        covers.append(covered)
    out_body = _einsum_letters(output, subscripts, "the output") if arrow else None
    used = {c for body in bodies for c in body} | set(out_body or "")
    spare = [c for c in _LETTERS if c not in used]
    broadcast = max(covers, default=0)
    if broadcast > len(spare):
        raise ValueError(f"subscripts {subscripts!r}: more dimensions than 52 letters can name")
    ellipsis = "".join(spare[:broadcast])
    # Each '...' stands for the trailing dimensions of the broadcast ones (right-aligned, as in numpy).
    explicit = tuple(
        body.replace(".", ellipsis[broadcast - c :]) for body, c in zip(bodies, covers, strict=True)
    )
    named = "".join(explicit)
    if out_body is None:
        letters = "".join(body.replace(".", "") for body in bodies)
        return explicit, ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if broadcast and "." not in out_body:
        raise ValueError(f"subscripts {subscripts!r}: the output must keep the operands' '...' dimensions")
    out = out_body.replace(".", ellipsis)
    for c in out:
        if c not in named:
            raise ValueError(f"subscripts {subscripts!r}: output index {c!r} appears in no operand")
    return explicit, out


def _check_lengths(subscripts: str, terms: tuple[str, ...], shapes: list[tuple[int, ...]]) -> None:
    """Each index must have one length in every operand that has it."""
    sizes: dict[str, int] = {}
    first: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(terms, shapes, strict=True)):
        for c, n in zip(term, shape, strict=True):
            if c in sizes and sizes[c] != n:
                raise ValueError(
                    f"subscripts {subscripts!r} give index {c!r} length {sizes[c]} in operand {first[c]} "
                    f"but {n} in operand {k} (shapes {', '.join(map(str, shapes))}; autonet's einsum "
                    "does not broadcast an index of length 1)"
                )
            sizes.setdefault(c, n)
            first.setdefault(c, k)


def _einsum_arrays(spec: str, *arrays: np.ndarray) -> np.ndarray:
    terms, out = spec.split("->")[0].split(","), spec.split("->")[1]
    # Three or more operands: numpy's plain loop runs over every index at once; a path pairs them.
    optimize = len(arrays) > 2
    if len(arrays) == 2:
        sizes = {
            c: n
            for term, x in zip(terms, arrays, strict=True)
            for c, n in zip(term, np.shape(x), strict=True)
        }
        summed_over_both = set(terms[0]) & set(terms[1]) - set(out)
        optimize = bool(summed_over_both) and math.prod(sizes.values()) > _OPTIMIZE_ABOVE
    return np.einsum(spec, *arrays, optimize=optimize)


def _einsum(*xs, subscripts):
    terms, out = einsum_plan(subscripts, tuple(np.ndim(x) for x in xs))
    _check_lengths(subscripts, terms, [np.shape(x) for x in xs])
    return _einsum_arrays(f"{','.join(terms)}->{out}", *xs)


def contract(spec: str, *operands):
    """``np.einsum(spec, *operands)`` for explicit ``spec``: numpy's (with BLAS for big
    contractions) on arrays, the einsum op on Values, so a vjp built from it differentiates again.

    >>> float(contract("i,i->", np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    if all(isinstance(x, (np.ndarray, float, np.floating)) for x in operands):
        return _einsum_arrays(spec, *operands)
    return np.einsum(spec, *operands)


def _einsum_vjp(index, g, out, *xs, subscripts):
    terms, output = einsum_plan(subscripts, tuple(np.ndim(x) for x in xs))
    target = terms[index]
    others = [j for j in range(len(xs)) if j != index]
    present = set(output).union(*(terms[j] for j in others))
    # An index only this operand has, and summed out, is constant along it: the gradient is
    # computed without it and broadcast back along that axis.
    kept = "".join(c for c in target if c in present)
    spec = f"{','.join([output, *(terms[j] for j in others)])}->{kept}"
    grad = contract(spec, g, *(xs[j] for j in others))
    if kept == target:
        return grad
    shape = np.shape(xs[index])
    grad = np.reshape(grad, tuple(n if c in present else 1 for c, n in zip(target, shape, strict=True)))
    return np.broadcast_to(grad, shape)


def _einsum_jvp(index, t, out, *xs, subscripts):
    terms, output = einsum_plan(subscripts, tuple(np.ndim(x) for x in xs))
    operands = list(xs)
    operands[index] = t
    return contract(f"{','.join(terms)}->{output}", *operands)


def _einsum_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    forms = [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("i,i->", [(4,), (4,)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
        ("ij->ji", [(2, 3)]),
        ("ij->", [(2, 3)]),
        ("i,j->ij", [(3,), (2,)]),
        ("ij,jk", [(3, 2), (2, 2)]),  # implicit: the summed j is dropped, i and k stay in order
        ("ij,kj->", [(2, 3), (1, 3)]),
        ("ijk->kj", [(2, 1, 3)]),  # i only in the input: summed out and broadcast back
        ("i,ij->j", [(3,), (3, 2)]),
        ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
        ("ij,", [(2, 2), ()]),  # a 0-d operand scales
        ("i,ij,j->", [(3,), (3, 2), (2,)]),  # three operands: a bilinear form
    ]
    return [
        (tuple(rng.uniform(-2, 2, shape).astype(dtype) for shape in shapes), {"subscripts": subscripts})
        for subscripts, shapes in forms
    ]


def einsum(subscripts: str, *operands: Any) -> Any:
    """Einstein summation as ``np.einsum``: explicit (``'ij,jk->ik'``) or implicit (``'ij,jk'``)
    subscripts, ``'...'`` allowed, each index at most once per operand (no traces or diagonals).

    Raises ValueError when the subscripts do not fit the operands' shapes.

    >>> from autonet import Value, einsum
    >>> einsum("ij,jk->ik", Value([[1.0, 2.0]]), Value([[3.0], [4.0]])).tolist()
    [[11.0]]
    """
    if not operands:
        raise TypeError("einsum: give the subscripts and at least one operand")
    return apply("einsum", *operands, subscripts=subscripts)


def _numpy_einsum(*operands, out=None, optimize=False, **options):
    # optimize is only a hint on the order of contractions (autonet picks its own); the result is the same.
    numpy_api.refuse_options("einsum", out=out, **options)
    if not operands or not isinstance(operands[0], str):
        raise TypeError("numpy.einsum on a Value takes the subscripts first, as a string ('ij,jk->ik')")
    return einsum(operands[0], *operands[1:])


einsum_op = register(
    Op(
        "einsum",
        _einsum,
        (_einsum_vjp,),
        (REAL,),
        jvps=(_einsum_jvp,),
        cases=Cases("einsum", samples=_einsum_samples),
        variadic=True,
        doc="Einstein summation (explicit '->' or implicit, '...' allowed); each index at most once "
        "per operand.",
        edges=(
            Edge(
                "0-d operands: a product",
                (2.0, 3.0),
                params={"subscripts": ",->"},
                grads=(3.0, 2.0),
                value=6.0,
            ),
            Edge(
                "size-0 contraction: an empty sum",
                (np.zeros(0), np.zeros(0)),
                params={"subscripts": "i,i->"},
                grads=(np.zeros(0), np.zeros(0)),
                value=0.0,
            ),
            Edge(
                "size-0 inner axis of a matrix product",
                (np.zeros((2, 0)), np.zeros((0, 3))),
                params={"subscripts": "ij,jk->ik"},
                grads=(np.zeros((2, 0)), np.zeros((0, 3))),
                value=np.zeros((2, 3)),
            ),
            Edge(
                "an index only one operand has is summed out",
                (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])),
                params={"subscripts": "ij,j->"},
                grads=(np.array([[5.0, 6.0], [5.0, 6.0]]), np.array([4.0, 6.0])),
                value=5.0 * 4.0 + 6.0 * 6.0,
            ),
        ),
        function=einsum,
        numpy={np.einsum: _numpy_einsum},
    )
)


# --------------------------------------------------------------------------- outer, tensordot


def _flat(x):
    return np.reshape(x, (-1,))


def _numpy_linalg_outer(x1, x2, /):
    a, b = as_value(x1), as_value(x2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"numpy.linalg.outer: takes two vectors, got shapes {a.shape} and {b.shape}")
    return apply("outer", a, b)


outer = register(
    Op(
        "outer",
        lambda a, b: np.outer(a, b),
        (
            lambda g, out, a, b: np.reshape(g @ _flat(b), np.shape(a)),
            lambda g, out, a, b: np.reshape(_flat(a) @ g, np.shape(b)),
        ),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: np.outer(t, b), lambda t, out, a, b: np.outer(a, t)),
        cases=OUTER,
        doc="a.ravel()[:, None] * b.ravel()[None, :], as np.outer (inputs of any shape are flattened).",
        edges=(
            Edge(
                "an empty operand: the other's gradient is an empty sum",
                (np.zeros(0), np.array([1.0, 2.0])),
                grads=(np.zeros(0), np.zeros(2)),
                value=np.zeros((0, 2)),
            ),
            Edge(
                "0-d operands are vectors of one",
                (np.array(2.0), np.array([[1.0, 3.0]])),
                grads=(np.array(4.0), np.array([[2.0, 2.0]])),
                value=np.array([[2.0, 6.0]]),
            ),
        ),
        function="outer",
        numpy={
            np.outer: numpy_api.without("outer", "outer", "out"),
            **numpy_api.newer(np.linalg, "outer", _numpy_linalg_outer),
        },
        example=(
            ">>> from autonet import Value, outer\n"
            ">>> outer(Value([1.0, 2.0]), Value([3.0, 4.0, 5.0])).shape\n"
            "(2, 3)"
        ),
    )
)


def _axis_list(part: Any, ndim: int, which: str) -> list[int]:
    items = list(part) if isinstance(part, (list, tuple)) or np.ndim(part) else [part]
    axes = []
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axes for {which} must be ints, got {a!r}")
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"axis {a} of {which} is out of bounds for its {ndim} dimension(s)")
        axes.append(int(a) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axes {items} of {which} repeat an axis")
    return axes


def tensordot_axes(
    axes: Any, shape_a: tuple[int, ...], shape_b: tuple[int, ...]
) -> tuple[list[int], list[int]]:
    """numpy's ``axes`` for tensordot (an int k: the last k axes of a with the first k of b; or
    two sequences of axes) as two lists of non-negative axes, checked against both shapes.

    >>> tensordot_axes(1, (2, 3), (3, 4))
    ([1], [0])
    >>> tensordot_axes(([0, -1], [1, 0]), (2, 3), (3, 2))
    ([0, 1], [1, 0])
    """
    nda, ndb = len(shape_a), len(shape_b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        if not 0 <= axes <= min(nda, ndb):
            raise ValueError(
                f"axes={axes} needs 0 <= axes <= {min(nda, ndb)} for shapes {shape_a} and {shape_b}"
            )
        axes_a, axes_b = list(range(nda - int(axes), nda)), list(range(int(axes)))
    elif isinstance(axes, (list, tuple, np.ndarray)) and len(axes) == 2:
        axes_a, axes_b = _axis_list(axes[0], nda, "a"), _axis_list(axes[1], ndb, "b")
        if len(axes_a) != len(axes_b):
            raise ValueError(f"axes {axes!r} pair {len(axes_a)} axes of a with {len(axes_b)} of b")
    else:
        raise TypeError(f"axes must be an int or a pair of axis sequences, got {axes!r}")
    for i, j in zip(axes_a, axes_b, strict=True):
        if shape_a[i] != shape_b[j]:
            raise ValueError(
                f"axis {i} of a (length {shape_a[i]}) does not match axis {j} of b (length {shape_b[j]}); "
                f"shapes {shape_a} and {shape_b}"
            )
    if nda + ndb - len(axes_b) > len(_LETTERS):
        raise ValueError(f"shapes {shape_a} and {shape_b}: more axes than 52 letters can name")
    return axes_a, axes_b


@functools.lru_cache(maxsize=256)
def _tensordot_letters(
    axes_a: tuple[int, ...], axes_b: tuple[int, ...], nda: int, ndb: int
) -> tuple[str, str, str]:
    a = _LETTERS[:nda]
    free_b = iter(_LETTERS[nda:])
    b = "".join(a[axes_a[axes_b.index(j)]] if j in axes_b else next(free_b) for j in range(ndb))
    out = "".join(c for i, c in enumerate(a) if i not in axes_a) + "".join(
        c for j, c in enumerate(b) if j not in axes_b
    )
    return a, b, out


def _tensordot_spec(axes, a, b) -> tuple[str, str, str]:
    """Letters for a's axes, b's axes and the output's: a tensordot as an einsum."""
    axes_a, axes_b = tensordot_axes(axes, np.shape(a), np.shape(b))
    return _tensordot_letters(tuple(axes_a), tuple(axes_b), np.ndim(a), np.ndim(b))


def _tensordot_vjp_a(g, out, a, b, axes=2):
    letters_a, letters_b, letters_out = _tensordot_spec(axes, a, b)
    return contract(f"{letters_out},{letters_b}->{letters_a}", g, b)


def _tensordot_vjp_b(g, out, a, b, axes=2):
    letters_a, letters_b, letters_out = _tensordot_spec(axes, a, b)
    return contract(f"{letters_a},{letters_out}->{letters_b}", a, g)


def _tensordot(a, b, axes=2):
    return np.tensordot(a, b, tensordot_axes(axes, np.shape(a), np.shape(b)))


def _tensordot_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    forms = [
        ((2, 3), (3, 4), 1),
        ((2, 3), (2, 3), 2),
        ((3,), (2,), 0),
        ((2, 3, 2), (3, 2, 2), 2),
        ((2, 3, 2), (2, 2, 3), ([1, 0], [2, 0])),
        ((3, 2), (2, 3), ((-1,), (0,))),
        ((2, 2), (2, 3), (1, 0)),
    ]
    return [
        ((rng.uniform(-2, 2, sa).astype(dtype), rng.uniform(-2, 2, sb).astype(dtype)), {"axes": axes})
        for sa, sb, axes in forms
    ]


def _tensordot_args(a, b, axes=2):
    return (a, b), {"axes": axes}


tensordot = register(
    Op(
        "tensordot",
        _tensordot,
        (_tensordot_vjp_a, _tensordot_vjp_b),
        (REAL, REAL),
        jvps=(
            lambda t, out, a, b, axes=2: _tensordot(t, b, axes),
            lambda t, out, a, b, axes=2: _tensordot(a, t, axes),
        ),
        cases=Cases("tensordot", samples=_tensordot_samples),
        doc="Sum of products over the given axes of a and b (numpy's axes: an int or two sequences).",
        edges=(
            Edge(
                "0-d operands, axes=0: a product", (2.0, 3.0), params={"axes": 0}, grads=(3.0, 2.0), value=6.0
            ),
            Edge(
                "size-0 contracted axis",
                (np.zeros((2, 0)), np.zeros((0, 3))),
                params={"axes": 1},
                grads=(np.zeros((2, 0)), np.zeros((0, 3))),
                value=np.zeros((2, 3)),
            ),
        ),
        prepare=_tensordot_args,
        function="tensordot",
        numpy={
            np.tensordot: None,
            np.inner: numpy_api.inner,
            **numpy_api.newer(np.linalg, "tensordot", None),
        },
        example=(
            ">>> from autonet import Value, tensordot\n"
            ">>> tensordot(Value([[1.0, 2.0], [3.0, 4.0]]), Value([[1.0, 0.0], [0.0, 1.0]])).item()\n"
            "5.0"
        ),
    )
)


# --------------------------------------------------------------------------- norm

_MATRIX_ALTERNATIVES = {
    1: "x.abs().sum(axis=rows).max() (the largest column sum)",
    -1: "x.abs().sum(axis=rows).min() (the smallest column sum)",
    math.inf: "x.abs().sum(axis=columns).max() (the largest row sum)",
    -math.inf: "x.abs().sum(axis=columns).min() (the smallest row sum)",
}
_VECTOR_KINDS = {2: "two", 1: "one", math.inf: "max", -math.inf: "min"}


def _ord_number(ord: Any) -> float | str | None:  # noqa: A002 - numpy's name for a norm's order
    if ord is None or isinstance(ord, str):
        return ord
    if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"ord must be None, a number, 'fro' or 'nuc', got {ord!r}")
    return float(ord)


def norm_plan(
    shape: tuple[int, ...],
    ord: Any = None,  # noqa: A002 - numpy's name
    axis: Any = None,
    keepdims: Any = False,
) -> tuple[str, tuple[int, ...] | None]:
    """What ``np.linalg.norm(x, ord, axis, keepdims)`` computes for an input of ``shape``:
    ``"two"`` (the 2-norm, Frobenius for two axes), ``"one"`` (sum of |x|), ``"max"`` or ``"min"``
    (of |x|), and over which axes (None: all of them). What autonet has no op for, and what numpy
    refuses, raises.

    >>> norm_plan((2, 3), None, 1)
    ('two', (1,))
    >>> norm_plan((4,), float("inf"))
    ('max', None)
    """
    ndim = len(shape)
    if not isinstance(keepdims, (bool, np.bool_)) and not (isinstance(keepdims, int) and keepdims in (0, 1)):
        raise TypeError(f"keepdims must be a bool, got {keepdims!r}")
    p = _ord_number(ord)
    if axis is None:
        if p is None:
            return "two", None  # every element, whatever the number of dimensions
        if ndim not in (1, 2):
            raise ValueError(f"ord={ord!r} with axis=None needs a 1-d or 2-d input, got {ndim} dimensions")
        axes: tuple[int, ...] = tuple(range(ndim))
    else:
        parts = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(_axis_list(parts, ndim, "x"))
        if len(axes) not in (1, 2):
            raise ValueError(f"axis={axis!r}: a norm runs over one axis (vectors) or two (matrices)")
    if len(axes) == 1:
        if p not in _VECTOR_KINDS and p is not None:
            hint = "np.count_nonzero(x.data) counts nonzeros, " if p == 0 else ""
            raise ValueError(
                f"ord={ord!r} is not a vector norm autonet has; it takes None, 2, 1, inf and -inf "
                f"({hint}(x.abs() ** p).sum() ** (1 / p) gives other p)"
            )
        return _VECTOR_KINDS[2 if p is None else p], axes if axis is not None else None
    if p in (None, "fro"):
        return "two", axes if axis is not None else None
    if p in _MATRIX_ALTERNATIVES:
        raise ValueError(f"ord={ord!r} of a matrix has no autonet op; use {_MATRIX_ALTERNATIVES[p]}")
    if p in ("nuc", 2, -2):
        raise ValueError(f"ord={ord!r} of a matrix needs singular values, which autonet has no op for")
    raise ValueError(f"ord={ord!r} is not a matrix norm (None, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")


def _two_norm(x: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
    squares = np.add.reduce(x * x, axis=axes, keepdims=True)
    info = np.finfo(x.dtype)
    if np.all((squares >= info.tiny) & (squares <= info.max)):
        return np.sqrt(squares)
    # Some x * x overflowed, or the sum fell below the normal range where it loses digits (numpy's
    # norm gives inf for [1e200, 1e200] and 0 for [1e-200, 1e-200]): scale by the largest |x|.
    peak = np.max(np.abs(x), axis=axes, keepdims=True, initial=0)
    scale = np.where(np.isfinite(peak) & (peak > 0), peak, 1)
    scaled = scale * np.sqrt(np.add.reduce(np.square(x / scale), axis=axes, keepdims=True))
    return np.where(np.isfinite(peak), scaled, peak)  # an inf (or nan) element gives inf (or nan)


def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    kind, axes = norm_plan(np.shape(x), ord, axis, keepdims)
    if kind == "two":
        out = _two_norm(x, axes)
    else:
        reduce = {"one": np.add, "max": np.maximum, "min": np.minimum}[kind].reduce
        out = reduce(np.abs(x), axis=axes, keepdims=True)
    return out if keepdims else np.squeeze(out, axis=axes)


def _norm_vjp(g, out, x, ord=None, axis=None, keepdims=False):  # noqa: A002
    shape = np.shape(x)
    kind, axes = norm_plan(shape, ord, axis, keepdims)
    g = expand_reduced(g, shape, axes, keepdims)
    if kind == "one":
        return g * np.sign(x)  # 0 at x = 0, as PyTorch
    out = expand_reduced(out, shape, axes, keepdims)
    if kind == "two":
        # The zero vector has no direction: its gradient is 0, PyTorch's choice among the subgradients.
        zero = np.asarray(out == 0)
        return np.where(zero, 0.0, g * x / np.where(zero, 1.0, out))
    # The elements at the extreme share the gradient evenly, as in max and min (and PyTorch).
    hit = np.asarray(np.abs(x) == out)
    return g * np.sign(x) * (hit / hit.sum(axis=axes, keepdims=True))


def _norm_jvp(t, out, x, ord=None, axis=None, keepdims=False):  # noqa: A002
    # The vjp of a norm is g (spread over the reduced axes) times one weight per element; the jvp
    # sums the tangent with the same weights, the conventions at the zero vector and at ties included.
    _, axes = norm_plan(np.shape(x), ord, axis, keepdims)
    ones = np.ones(np.shape(out), dtype=np.result_type(x, np.float16))
    weights = _norm_vjp(ones, out, x, ord, axis, keepdims)
    return np.sum(t * weights, axis=axes, keepdims=keepdims)


def _norm_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    def spaced(shape: tuple[int, ...]) -> np.ndarray:
        # |x| at least 0.3 from 0 and from each other: away from the kinks of |x|, max and min.
        n = math.prod(shape)
        magnitudes = 0.3 + 0.2 * rng.permutation(n) + rng.uniform(0.0, 0.05, n)
        return (magnitudes * rng.choice([-1.0, 1.0], n)).reshape(shape).astype(dtype)

    forms: list[tuple[tuple[int, ...], dict[str, Any]]] = [
        ((4,), {}),
        ((2, 3), {}),
        ((2, 3, 2), {"keepdims": True}),
        ((), {}),
        ((4,), {"ord": 2}),
        ((4,), {"ord": 1}),
        ((4,), {"ord": math.inf}),
        ((4,), {"ord": -math.inf}),
        ((2, 3), {"axis": 1}),
        ((2, 3), {"axis": 0, "ord": 1, "keepdims": True}),
        ((3, 2), {"axis": -1, "ord": math.inf}),
        ((2, 3, 2), {"axis": (0, 2)}),
        ((2, 3), {"ord": "fro"}),
    ]
    return [((spaced(shape),), params) for shape, params in forms]


def _norm_args(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - numpy's name
    return (x,), {"ord": ord, "axis": axis, "keepdims": keepdims}


def _vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    x = as_value(x)
    if ord == 2 or isinstance(axis, int):
        return apply("norm", x, None if ord == 2 else ord, axis, keepdims)
    if axis is None:
        result = apply("norm", x.reshape(x.size), ord)
        return result.reshape((1,) * x.ndim) if keepdims else result
    raise TypeError(
        f"numpy.linalg.vector_norm: ord={ord!r} over axes {axis!r} has no autonet op; give one axis"
    )


norm = register(
    Op(
        "norm",
        _norm,
        (_norm_vjp,),
        (AWAY_FROM_ZERO,),
        jvps=(_norm_jvp,),
        cases=Cases("norm", samples=_norm_samples),
        smooth=False,
        doc="np.linalg.norm: the 2-norm (Frobenius for matrices, the default), 1, inf and -inf for "
        "vectors; gradient 0 at the zero vector.",
        edges=(
            Edge("the zero vector", (np.zeros(3),), grads=(np.zeros(3),), value=0.0),
            Edge(
                "the zero vector, ord=1", (np.zeros(2),), params={"ord": 1}, grads=(np.zeros(2),), value=0.0
            ),
            Edge(
                "the zero vector, ord=inf: every element ties",
                (np.zeros(2),),
                params={"ord": math.inf},
                grads=(np.zeros(2),),
                value=0.0,
            ),
            Edge(
                "tied largest magnitudes share the gradient",
                (np.array([3.0, -3.0, 1.0]),),
                params={"ord": math.inf},
                grads=(np.array([0.5, -0.5, 0.0]),),
                value=3.0,
            ),
            Edge(
                "squares that overflow",
                (np.array([3.0, 4.0]) * 2.0**600,),
                grads=(np.array([0.6, 0.8]),),
                value=5.0 * 2.0**600,
                torch=False,
                note="PyTorch (and numpy) square first: inf, with gradient 0.",
            ),
            Edge(
                "squares that underflow",
                (np.array([3.0, 4.0]) * 2.0**-600,),
                grads=(np.array([0.6, 0.8]),),
                value=5.0 * 2.0**-600,
                torch=False,
                note="PyTorch (and numpy) square first: 0, with gradient 0.",
            ),
            Edge("size 0: the empty sum", (np.zeros(0),), grads=(np.zeros(0),), value=0.0),
            Edge("0-d input: its magnitude", (-2.0,), grads=(-1.0,), value=2.0),
        ),
        prepare=_norm_args,
        method="norm",
        numpy={
            np.linalg.norm: None,
            **numpy_api.newer(np.linalg, "vector_norm", _vector_norm),
            **numpy_api.newer(
                np.linalg,
                "matrix_norm",
                lambda x, /, *, keepdims=False, ord="fro": apply("norm", x, ord, (-2, -1), keepdims),  # noqa: A006,
            ),
        },
        example=">>> from autonet import Value\n>>> Value([3.0, 4.0]).norm().item()\n5.0",
    )
)
