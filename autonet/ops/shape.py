"""Shape, indexing and dtype ops: reshape, transpose, broadcast_to, getitem (and its adjoint
scatter_add), concatenate, astype.

Each of them is linear in its input, so its jvp is the op itself applied to the tangent.

squeeze, expand_dims, flatten, swapaxes, stack and tile are composites of these (ops/composite.py).
An op's ``prepare`` may return its input itself where there is nothing to do (a reshape to the
same shape, the identity permutation), so no node is recorded.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import numpy_api
from .cases import ASTYPE, BROADCAST_TO, CONCATENATE, GETITEM, RESHAPE, SCATTER_ADD, TRANSPOSE
from .registry import (
    REAL,
    Edge,
    Op,
    apply,
    float_dtype,
    int_tuple,
    is_value,
    normalize_axis,
    one_axis,
    register,
    sum_to_shape,
)

_EMPTY = np.zeros(0)
_F64 = np.dtype(np.float64)
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


def _spelled(op, key, positional, named):
    # x.reshape(2, 3), x.reshape((2, 3)) and call_op("reshape", x, shape=(2, 3)) all mean one
    # thing (and so for transpose's axes): the values given by position, or the one by name.
    if key in named:
        if positional:
            raise TypeError(f"{op}: give the {key} once, by position or as {key}=")
        positional = (named.pop(key),)
    if named:
        raise TypeError(f"{op}: unexpected arguments {sorted(named)}")
    return positional


def _reshape_args(x, *shape, **named):
    shape = _spelled("reshape", "shape", shape, named)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
        shape = tuple(shape[0])
    shape = int_tuple(shape, "reshape")
    try:
        target = np.empty(x.shape, dtype=bool).reshape(shape).shape
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a Value of shape {x.shape} ({x.size} elements) into shape {shape}"
        ) from None
    return x if target == x.shape else ((x,), {"shape": target})


def _numpy_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    # copy only says whether numpy may return a view; a Value's reshape is a new node either way.
    if order != "C":
        raise TypeError(f"numpy.reshape on a Value takes order='C' only, got order={order!r}")
    return apply("reshape", a, newshape if shape is None else shape)


def _numpy_ravel(a, order="C"):
    if order != "C":
        raise TypeError(f"numpy.ravel on a Value takes order='C' only, got order={order!r}")
    return apply("reshape", a, np.size(a))


reshape = register(
    Op(
        "reshape",
        lambda x, shape: np.reshape(x, shape),
        (lambda g, out, x, shape: np.reshape(g, np.shape(x)),),
        (REAL,),
        jvps=(lambda t, out, x, shape: np.reshape(t, shape),),
        cases=RESHAPE,
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
        prepare=_reshape_args,
        method="reshape",
        numpy={np.reshape: _numpy_reshape, np.ravel: _numpy_ravel},
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0]).reshape(2, 1).shape\n(2, 1)",
    )
)


def _transpose_args(x, *axes, **named):
    axes = _spelled("transpose", "axes", axes, named)
    # An array of axes arrives from the transpose vjp (np.argsort) under create_graph=True.
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list, np.ndarray))):
        axes = None if axes[0] is None else tuple(axes[0])
    elif not axes:
        axes = None  # no axes given: reverse them (an explicit () must match the dimensions)
    ndim = x.ndim
    if axes is None:
        perm = tuple(range(ndim - 1, -1, -1))
    else:
        if len(axes) != ndim:
            raise ValueError(f"transpose: axes {axes} do not match a Value with {ndim} dimensions")
        perm = tuple(normalize_axis(a, ndim, "transpose")[0] for a in axes)
        if sorted(perm) != list(range(ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {ndim} dimensions")
    return x if perm == tuple(range(ndim)) else ((x,), {"axes": perm})


transpose = register(
    Op(
        "transpose",
        lambda x, axes: np.transpose(x, axes),
        (lambda g, out, x, axes: np.transpose(g, np.argsort(axes)),),
        (REAL,),
        jvps=(lambda t, out, x, axes: np.transpose(t, axes),),
        cases=TRANSPOSE,
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
        prepare=_transpose_args,
        method="transpose",
        numpy={np.transpose: None, **numpy_api.newer(np, "permute_dims", None)},
        example=">>> from autonet import Value\n>>> Value([[1.0, 2.0]]).transpose().shape\n(2, 1)",
    )
)


def _broadcast_to_args(x, shape):
    shape = int_tuple(shape if isinstance(shape, (tuple, list, np.ndarray)) else (shape,), "broadcast_to")
    try:
        if len(shape) < x.ndim:
            raise ValueError
        np.broadcast_to(np.empty(x.shape, dtype=bool), shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return x if shape == x.shape else ((x,), {"shape": shape})


broadcast_to = register(
    Op(
        "broadcast_to",
        lambda x, shape: np.broadcast_to(x, shape),
        (lambda g, out, x, shape: sum_to_shape(g, np.shape(x)),),
        (REAL,),
        jvps=(lambda t, out, x, shape: np.broadcast_to(t, shape),),
        cases=BROADCAST_TO,
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
        prepare=_broadcast_to_args,
        method="broadcast_to",
        numpy={np.broadcast_to: lambda array, shape, subok=False: apply("broadcast_to", array, shape)},
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0]).broadcast_to((3, 2)).shape\n(3, 2)",
    )
)


def _index_part(part):
    if is_value(part):
        part = part.data
    if isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray) and part.dtype.kind == "f":
        raise IndexError(f"getitem: index arrays must hold integers or booleans, got dtype {part.dtype}")
    if isinstance(part, (float, np.floating)):
        raise IndexError(
            f"getitem: an index must be an int, a slice, None, Ellipsis or an array, got float {part}"
        )
    return part


def _getitem_args(x, index):
    index = tuple(map(_index_part, index)) if isinstance(index, tuple) else _index_part(index)
    return (x,), {"index": index}


def _numpy_refuses_out_of_bounds_in_empty_results() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            np.empty((1, 0))[np.array([1])]  # out of bounds, and the result (1, 0) is empty
        except IndexError:
            return True
        except DeprecationWarning:
            return False
    return True  # an older numpy that returns quietly: nothing to turn into an error


def _index_checked(x, index):
    # numpy before 2.3 only warns (a DeprecationWarning) about an integer index out of bounds
    # where the result is empty, and returns it; later numpy raises IndexError, as getitem
    # does with every numpy.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            return x[index]
        except DeprecationWarning:
            raise IndexError(f"an index is out of bounds for an input of shape {x.shape}") from None


getitem = register(
    Op(
        "getitem",
        (lambda x, index: x[index]) if _numpy_refuses_out_of_bounds_in_empty_results() else _index_checked,
        (lambda g, out, x, index: scatter_add(g, index=index, shape=np.shape(x)),),
        (REAL,),
        jvps=(lambda t, out, x, index: t[index],),
        cases=GETITEM,
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
        prepare=_getitem_args,
        method="__getitem__",
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0, 3.0])[1:].tolist()\n[2.0, 3.0]",
    )
)


def scatter_add(g, *, index, shape):
    """Adjoint of ``x[index]``: zeros of ``shape`` with ``g`` added at ``index`` (repeats add up).

    Works on arrays, and on Values through the ``scatter_add`` op so that it can be
    differentiated again.
    """
    if isinstance(g, np.ndarray) or np.isscalar(g):
        return _scatter_add(g, index, shape)
    return apply(scatter_add_op, g, index=index, shape=shape)


def _scatter_add_vjp(g2, out, g, index, shape):
    # g2 is a Python float when shape is (): index a 0-d array then.
    picked = np.asarray(g2)[index] if type(g2) is float else g2[index]
    lead = np.ndim(g) - np.ndim(picked)
    if lead > 0:
        # numpy's assignment drops leading axes of length 1 from g (a (1, 0) g fills a (0,) slot):
        # give them back, so that the engine's one broadcasting helper sums the rest.
        picked = np.reshape(picked, (1,) * lead + np.shape(picked))
    return picked


scatter_add_op = register(
    Op(
        "scatter_add",
        lambda g, index, shape: _scatter_add(g, index, shape),
        (_scatter_add_vjp,),
        (REAL,),
        jvps=(lambda t, out, g, index, shape: scatter_add(t, index=index, shape=shape),),
        cases=SCATTER_ADD,
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


def _concatenate_jvp(i, t, out, *xs, axis):
    # Input i's tangent in its own stretch of the output, zeros in the others' (the engine adds up
    # the inputs' shares).
    start = 0
    for x in xs[:i]:
        start += np.shape(x)[axis]
    stop = start + np.shape(xs[i])[axis]
    if not is_value(t):
        share = np.zeros(np.shape(out), dtype=np.result_type(t))
        share[(slice(None),) * axis + (slice(start, stop),)] = t
        return share
    parts = [np.zeros(np.shape(x), dtype=t.dtype) for x in xs]
    parts[i] = t
    return apply("concatenate", *parts, axis=axis)


def _concatenate_args(*xs, axis=0):
    if not xs:
        raise ValueError("concatenate: needs at least one Value")
    ndim = np.ndim(xs[0])
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional Values cannot be concatenated")
    (axis,) = normalize_axis(one_axis(axis, "concatenate"), ndim, "concatenate")
    first = np.shape(xs[0])
    for x in xs:
        shape = x.shape
        if len(shape) != ndim or any(
            n != m for i, (n, m) in enumerate(zip(shape, first, strict=True)) if i != axis
        ):
            shapes = ", ".join(str(v.shape) for v in xs)
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return xs, {"axis": axis}


def concatenate(values: Sequence[Any], axis: int = 0) -> Any:
    """Join Values along an existing axis.

    >>> from autonet import Value, concatenate
    >>> concatenate([Value([1.0]), Value([2.0, 3.0])]).shape
    (3,)
    """
    return apply("concatenate", *values, axis=axis)


concatenate_op = register(
    Op(
        "concatenate",
        lambda *xs, axis: np.concatenate(xs, axis=axis),
        (_split_vjp,),
        (REAL,),
        jvps=(_concatenate_jvp,),
        cases=CONCATENATE,
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
        prepare=_concatenate_args,
        function=concatenate,
        numpy={
            np.concatenate: numpy_api.joined("concatenate", "concatenate"),
            **numpy_api.newer(np, "concat", numpy_api.joined("concat", "concatenate")),
        },
    )
)


def _astype_args(x, dtype, copy=True):
    target = float_dtype(dtype, "astype")
    if not copy and target == x.dtype:
        return x  # numpy's copy=False: the input itself when its dtype is already that
    return (x,), {"dtype": target}


def _numpy_astype(x, dtype, /, *, copy=True, device=None):
    if device not in (None, "cpu"):
        raise TypeError(f"numpy.astype on a Value: device must be None or 'cpu', got {device!r}")
    return apply("astype", x, dtype, copy=copy)


def _cast_back(g, out, x, dtype):
    # The gradient in the input's dtype (a float64 scalar's data is a Python float, dtype-less);
    # under create_graph g is a Value, and its cast is this op again.
    back = getattr(x, "dtype", _F64)
    if is_value(g):
        return g.astype(back)
    return g if type(g) is float and back == _F64 else np.asarray(g, dtype=back)


astype = register(
    Op(
        "astype",
        lambda x, dtype: x.astype(dtype),
        (_cast_back,),
        (REAL,),
        jvps=(lambda t, out, x, dtype: t.astype(dtype) if is_value(t) else np.asarray(t, dtype=dtype),),
        cases=ASTYPE,
        doc=(
            "The same numbers in another float dtype, as numpy's astype (a new Value; with copy=False "
            "the Value itself where its dtype is that already); the gradient comes back in the "
            "input's dtype."
        ),
        edges=(
            Edge(
                "float64 to float32 rounds",
                (np.array([0.1, 1 / 3]),),
                grads=([1.0, 1.0],),
                params={"dtype": np.float32},
                value=np.array([0.1, 1 / 3], dtype=np.float32),
            ),
            Edge(
                "past float32's range",
                (np.array([1e300, -1e300]),),
                grads=([1.0, 1.0],),
                params={"dtype": np.float32},
                value=np.array([np.inf, -np.inf], dtype=np.float32),
                note="the cast overflows to inf, as in numpy and torch; the gradient of a cast is 1 still",
            ),
            Edge(
                "size-0 input",
                (np.zeros((0, 2)),),
                grads=(np.zeros((0, 2)),),
                params={"dtype": np.float32},
                value=np.zeros((0, 2), dtype=np.float32),
            ),
            Edge("0-d input", (2.5,), grads=(1.0,), params={"dtype": np.float32}, value=np.float32(2.5)),
        ),
        prepare=_astype_args,
        method="astype",
        numpy=numpy_api.newer(np, "astype", _numpy_astype),
        example=(
            ">>> import numpy as np\n>>> from autonet import Value\n"
            ">>> Value([1.0, 2.0]).astype(np.float32).dtype\ndtype('float32')"
        ),
    )
)
