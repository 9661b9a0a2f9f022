"""Shape and indexing ops: reshape, transpose, broadcast_to, getitem (and its adjoint
scatter_add), concatenate.

squeeze, expand_dims, flatten, swapaxes and stack are built on these by the engine.
"""

from __future__ import annotations

import numpy as np

from .registry import REAL, Edge, Op, register, sum_to_shape

_EMPTY = np.zeros(0)
_NO_INDEX = np.zeros(0, dtype=np.intp)


def _is_basic_index(index) -> bool:
    # Basic indexing never repeats an element, so its adjoint can assign instead of np.add.at.
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def _scatter_add(g, index, shape):
    grad = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic_index(index):
        grad[index] = g
    else:
        # add.at accumulates repeated integer indices; plain assignment would keep only one.
        np.add.at(grad, index, g)
    return grad


reshape = register(
    Op(
        "reshape",
        lambda x, shape: np.reshape(x, shape),
        (lambda g, out, x, shape: np.reshape(g, np.shape(x)),),
        (REAL,),
        kind="reshape",
        doc="The same elements in a new shape.",
        edges=(
            Edge(
                "size-0 input",
                (np.zeros((0, 3)),),
                grads=(np.zeros((0, 3)),),
                params={"shape": (3, 0)},
                value=np.zeros((3, 0)),
            ),
            Edge("0-d input", (2.0,), grads=(1.0,), params={"shape": (1, 1)}, value=[[2.0]]),
        ),
    )
)

transpose = register(
    Op(
        "transpose",
        lambda x, axes: np.transpose(x, axes),
        (lambda g, out, x, axes: np.transpose(g, np.argsort(axes)),),
        (REAL,),
        kind="transpose",
        doc="Permute the axes.",
        edges=(
            Edge(
                "size-0 input",
                (np.zeros((0, 2)),),
                grads=(np.zeros((0, 2)),),
                params={"axes": (1, 0)},
                value=np.zeros((2, 0)),
            ),
            Edge("0-d input", (2.0,), grads=(1.0,), params={"axes": ()}, value=2.0),
        ),
    )
)

broadcast_to = register(
    Op(
        "broadcast_to",
        lambda x, shape: np.broadcast_to(x, shape),
        (lambda g, out, x, shape: sum_to_shape(g, np.shape(x)),),
        (REAL,),
        kind="broadcast_to",
        doc="Repeat along broadcast axes (a read-only view in forward).",
        edges=(
            Edge("0-d to size 0", (2.0,), grads=(0.0,), params={"shape": (0,)}, value=_EMPTY),
            Edge(
                "size-0 input",
                (np.zeros((1, 0)),),
                grads=(np.zeros((1, 0)),),
                params={"shape": (3, 0)},
                value=np.zeros((3, 0)),
            ),
            Edge("0-d to (3,)", (2.0,), grads=(3.0,), params={"shape": (3,)}, value=[2.0, 2.0, 2.0]),
        ),
    )
)

getitem = register(
    Op(
        "getitem",
        lambda x, index: x[index],
        (lambda g, out, x, index: scatter_add(g, index=index, shape=np.shape(x)),),
        (REAL,),
        kind="getitem",
        doc="x[index] with ints, slices, Ellipsis, None, boolean masks and integer arrays.",
        edges=(
            Edge(
                "an empty index",
                ([1.0, 2.0, 3.0],),
                grads=([0.0, 0.0, 0.0],),
                params={"index": _NO_INDEX},
                value=_EMPTY,
            ),
            Edge(
                "a repeated index",
                ([1.0, 2.0],),
                grads=([2.0, 0.0],),
                params={"index": np.array([0, 0])},
                value=[1.0, 1.0],
            ),
            Edge(
                "size-0 input",
                (np.zeros((0, 3)),),
                grads=(np.zeros((0, 3)),),
                params={"index": (slice(None), 1)},
                value=_EMPTY,
            ),
            Edge("0-d input", (2.0,), grads=(1.0,), params={"index": ()}, value=2.0),
        ),
    )
)


def scatter_add(g, *, index, shape):
    """Adjoint of ``x[index]``: zeros of ``shape`` with ``g`` added at ``index`` (repeats add up).

    Works on arrays, and on Values through the ``scatter_add`` op so that it can be
    differentiated again.
    """
    if isinstance(g, np.ndarray) or np.isscalar(g):
        return _scatter_add(g, index, shape)
    return g._apply_op(scatter_add_op, index=index, shape=shape)


scatter_add_op = register(
    Op(
        "scatter_add",
        lambda g, index, shape: _scatter_add(g, index, shape),
        # g2 is a Python float when shape is (): index a 0-d array then.
        (lambda g2, out, g, index, shape: np.asarray(g2)[index] if type(g2) is float else g2[index],),
        (REAL,),
        kind="scatter_add",
        doc="Zeros of a shape with values added at an index: the adjoint of getitem.",
        edges=(
            Edge(
                "size-0 g, an empty index",
                (_EMPTY,),
                grads=(_EMPTY,),
                params={"index": _NO_INDEX, "shape": (2,)},
                value=[0.0, 0.0],
            ),
            Edge(
                "size-0 g into a size-0 shape",
                (np.zeros((1, 0)),),
                grads=(np.zeros((1, 0)),),
                params={"index": np.array([0]), "shape": (1, 0)},
                value=np.zeros((1, 0)),
            ),
            Edge("0-d g", (2.0,), grads=(1.0,), params={"index": 1, "shape": (3,)}, value=[0.0, 2.0, 0.0]),
        ),
    )
)


def _split_vjp(i, g, out, *xs, axis):
    start = 0
    for x in xs[:i]:
        start += np.shape(x)[axis]
    stop = start + np.shape(xs[i])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


concatenate = register(
    Op(
        "concatenate",
        lambda *xs, axis: np.concatenate(xs, axis=axis),
        (_split_vjp,),
        (REAL,),
        kind="concatenate",
        variadic=True,
        doc="Join along an existing axis.",
        edges=(
            Edge(
                "a size-0 part",
                (_EMPTY, [1.0, 2.0]),
                grads=(_EMPTY, [1.0, 1.0]),
                params={"axis": 0},
                value=[1.0, 2.0],
            ),
            Edge("0-d inputs", (1.0, 2.0), params={"axis": 0}, raises=ValueError, note="torch raises too"),
        ),
    )
)
