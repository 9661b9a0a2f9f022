"""Shape and indexing ops: reshape, transpose, broadcast_to, getitem (and its adjoint
scatter_add), concatenate.

squeeze, expand_dims, flatten, swapaxes and stack are built on these by the engine.
"""

from __future__ import annotations

import numpy as np

from .registry import REAL, Op, register, sum_to_shape


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
    )
)
