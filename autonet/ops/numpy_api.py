"""How numpy meets a Value: every numpy entry point is an op or a refusal.

A ufunc or numpy function that an op declares in its ``numpy`` mapping returns a Value in the
graph (gradient-checked like any op). One that can only give metadata (shape, dtype), booleans,
integer indices, text or files runs on the data, as its result carries no gradient; every other
one raises a TypeError that names it and what to use instead. The rule does not depend on
``requires_grad`` or ``no_grad``: whether ``numpy.median`` works on a Value is a property of
``numpy.median``, so code that runs in evaluation also runs in training. ``np.asarray(value)`` and
``value.data`` still convert, on purpose.

The adapters below take numpy's arguments (its names, its positional order) and call the op
through ``apply``; an op's entry says which numpy callables reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .registry import REGISTRY, apply, as_value, is_value

# Piecewise-constant ufuncs have zero gradient almost everywhere: they return plain arrays.
PIECEWISE_CONSTANT_UFUNCS = frozenset(
    "sign floor ceil rint trunc isfinite isnan isinf signbit greater greater_equal less "
    "less_equal equal not_equal logical_and logical_or logical_not logical_xor".split()
)

# Functions whose result cannot carry a gradient: metadata, booleans, integer indices, text and
# files, and arrays that depend on the shape alone (zeros_like ...). They run on the data.
PLAIN_RESULT_FUNCTIONS = frozenset(
    function
    for module, names in [
        (
            np,
            "ndim shape size result_type can_cast min_scalar_type iscomplexobj isrealobj may_share_memory "
            "shares_memory einsum_path zeros_like ones_like empty_like "
            "all any allclose isclose array_equal array_equiv iscomplex isreal isneginf isposinf isin in1d "
            "argmax argmin nanargmax nanargmin argsort argpartition argwhere nonzero flatnonzero "
            "count_nonzero searchsorted digitize lexsort unravel_index ravel_multi_index "
            "array_repr array_str array2string save savez savez_compressed savetxt",
        ),
        (np.linalg, "matrix_rank"),
    ]
    for name in names.split()
    if (function := getattr(module, name, None)) is not None
)

# What comes closest in autonet, for the functions users reach for most; the others get the default.
ALTERNATIVES = {
    "trace": "x[np.arange(n), np.arange(n)].sum() for an (n, n) Value x",
    "diagonal": "x[np.arange(n), np.arange(n)] for an (n, n) Value x",
    "diag": "x[np.arange(n), np.arange(n)] for an (n, n) Value x",
    "take": "value[index], or value[:, index] along another axis",
    "take_along_axis": "value[index arrays]",
    "nansum": "value.sum() (autonet has no reductions that skip nan)",
    "nanmean": "value.mean() (autonet has no reductions that skip nan)",
    "ptp": "value.max() - value.min()",
    "diff": "value[1:] - value[:-1]",
    "copy": "value.detach() for a constant Value, value.data.copy() for an array",
    "atleast_1d": "value.reshape(...)",
    "atleast_2d": "value.reshape(...) or value.expand_dims(0)",
    "atleast_3d": "value.reshape(...)",
    "vstack": "autonet.concatenate or autonet.stack",
    "hstack": "autonet.concatenate or autonet.stack",
    "column_stack": "autonet.stack(values, axis=1)",
    "flip": "value[::-1] (slicing along the axis)",
    "fliplr": "value[:, ::-1]",
    "flipud": "value[::-1]",
    "roll": "autonet.concatenate([value[-k:], value[:-k]])",
    "repeat": "value.expand_dims(axis + 1).broadcast_to(...).reshape(...)",
    "round": "value.data: rounding is constant almost everywhere, so its result has no gradient",
    "around": "value.data: rounding is constant almost everywhere, so its result has no gradient",
    "fabs": "value.abs()",
    "log2": "value.log() / np.log(2)",
    "log10": "value.log() / np.log(10)",
    "exp2": "2 ** value",
    "reciprocal": "1 / value",
    "fmax": "autonet.maximum",
    "fmin": "autonet.minimum",
    "float_power": "value ** p",
    "hypot": "(a * a + b * b).sqrt()",
    "logaddexp": "autonet.stack([a, b]).logsumexp(axis=0)",
    "cumulative_prod": "value.prod() over the slices you need",
    "cumprod": "value.prod() over the slices you need",
    "full_like": "np.full(value.shape, fill) (a constant) or fill * np.ones_like(value)",
}


def public_name(func: Any) -> str:
    """The name users know a numpy callable by (``numpy.linalg.norm``, not its private module).

    >>> public_name(np.linalg.norm)
    'numpy.linalg.norm'
    """
    module = getattr(func, "__module__", None) or "numpy"
    if not module.startswith("numpy") or "._" in module:
        module = "numpy"  # a private implementation module: the public name is numpy.<name>
    return f"{module}.{getattr(func, '__name__', func)}"


def refusal(name: str) -> TypeError:
    """The TypeError for a numpy entry point that has no op: it names the function and the
    closest autonet spelling.

    >>> "numpy.median has no autonet op" in str(refusal("numpy.median"))
    True
    """
    short = name.rsplit(".", 1)[-1]
    plain = "call it on value.data for a plain array (no gradient flows through that)"
    hint = f"use {ALTERNATIVES[short]}, or {plain}" if short in ALTERNATIVES else plain
    return TypeError(f"{name} has no autonet op, so its result could not be differentiated; {hint}")


def refuse_options(name: str, **options: Any) -> None:
    """numpy options autonet has no op for are refused, never silently ignored.

    >>> refuse_options("sum", out=None)  # not given: nothing to refuse
    """
    given = [key for key, value in options.items() if value is not None]
    if given:
        listed = ", ".join(f"{key}=" for key in given)
        why = "out= would write outside the graph" if "out" in given else "autonet has no op for it"
        raise TypeError(
            f"numpy.{name} on a Value does not take {listed} ({why}); call it without, or on value.data "
            "for a plain array"
        )


# --------------------------------------------------------------------------- adapters


def reduction(op: str, numpy_name: str | None = None, with_dtype: bool = True) -> Callable[..., Any]:
    """``np.sum(a, axis, dtype, out, keepdims)`` and kin, as the reduction op ``op``. numpy's
    positional order: sum, mean and prod take dtype before out; max and min do not."""
    name = numpy_name or op

    def reduce(a: Any, axis: Any, keepdims: Any, **options: Any) -> Any:
        refuse_options(name, **options)
        return apply(op, a, axis=axis, keepdims=bool(keepdims))

    if with_dtype:
        return lambda a, axis=None, dtype=None, out=None, keepdims=False, **options: reduce(
            a, axis, keepdims, dtype=dtype, out=out, **options
        )
    return lambda a, axis=None, out=None, keepdims=False, **options: reduce(
        a, axis, keepdims, out=out, **options
    )


def ufunc_reduce(op: str, ufunc_name: str) -> Callable[..., Any]:
    """``np.add.reduce`` and kin: like ``np.sum``, but along axis 0 unless told otherwise."""

    def impl(
        a: Any, axis: Any = 0, dtype: Any = None, out: Any = None, keepdims: Any = False, **options: Any
    ) -> Any:
        refuse_options(f"{ufunc_name}.reduce", dtype=dtype, out=out, **options)
        return apply(op, a, axis=axis, keepdims=bool(keepdims))

    return impl


def spread(op: str) -> Callable[..., Any]:
    """``np.var`` and ``np.std``, whose ``correction`` is another name for ``ddof``."""

    def impl(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        ddof: Any = 0,
        keepdims: Any = False,
        *,
        correction: Any = None,
        **options: Any,
    ) -> Any:
        refuse_options(op, dtype=dtype, out=out, **options)
        if correction is not None:
            if ddof != 0:
                raise ValueError(f"numpy.{op}: give ddof or correction, not both")
            ddof = correction
        return apply(op, a, axis=axis, keepdims=bool(keepdims), ddof=ddof)

    return impl


def without(name: str, op: str, *refused: str) -> Callable[..., Any]:
    """numpy's call with the options ``refused`` (out=, dtype= ...) refused when given, the other
    arguments passed on to ``op`` as they are."""

    def impl(*args: Any, **kwargs: Any) -> Any:
        refuse_options(name, **{key: kwargs.pop(key, None) for key in refused})
        return apply(op, *args, **kwargs)

    return impl


def joined(name: str, op: str) -> Callable[..., Any]:
    """``np.concatenate(arrays, axis, out, dtype=, casting=)`` and ``np.stack`` (casting only
    governs out= and dtype=, which are refused)."""

    def impl(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: Any = None) -> Any:
        refuse_options(name, out=out, dtype=dtype)
        return apply(op, *arrays, axis=axis)

    return impl


def c_order(name: str, op: str) -> Callable[..., Any]:
    """``np.ravel(a, order)``-style calls: only C order exists for a Value."""

    def impl(a: Any, *args: Any, order: str = "C", **kwargs: Any) -> Any:
        if order != "C":
            raise TypeError(f"numpy.{name} on a Value takes order='C' only, got order={order!r}")
        return apply(op, a, *args, **kwargs)

    return impl


def average(
    a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: Any = False
) -> Any:
    """``np.average``: the mean, or the weighted mean ``sum(x * w) / sum(w)`` along ``axis``."""
    x = as_value(a)
    keepdims = bool(keepdims)
    if weights is None:
        mean = apply("mean", x, axis=axis, keepdims=keepdims)
        count = x.size / max(mean.size, 1)
        return (mean, as_value(np.full(mean.shape, count, dtype=mean.dtype))) if returned else mean
    w = as_value(weights)
    if w.shape != x.shape:
        if axis is None:
            raise TypeError(
                f"numpy.average: weights of shape {w.shape} differ from the Value's shape {x.shape}; "
                "give axis"
            )
        if w.ndim != 1 or not isinstance(axis, (int, np.integer)):
            raise TypeError(
                f"numpy.average: weights of shape {w.shape} must be 1-d, with one axis, "
                "when the shapes differ"
            )
        ax = int(axis) % max(x.ndim, 1)
        if w.shape[0] != x.shape[ax]:
            raise ValueError(
                f"numpy.average: {w.shape[0]} weights for axis {ax} of length {x.shape[ax]} (shape {x.shape})"
            )
        w = w.reshape(w.shape + (1,) * (x.ndim - ax - 1)).broadcast_to(x.shape)
    total = w.sum(axis=axis, keepdims=keepdims)
    if np.any(total.data == 0):
        raise ZeroDivisionError("numpy.average: the weights sum to zero, so they cannot be normalised")
    mean = (x * w).sum(axis=axis, keepdims=keepdims) / total
    return (mean, total) if returned else mean


def dot(a: Any, b: Any, out: Any = None) -> Any:
    """``np.dot``: a product for 0-d operands, matmul up to 2-d, else a tensordot pairing the
    last axis of a with the second-last of b."""
    refuse_options("dot", out=out)
    a, b = as_value(a), as_value(b)
    if not a.ndim or not b.ndim:
        return a * b
    if b.ndim > 2:
        return apply("tensordot", a, b, axes=([-1], [-2]))
    return apply("matmul", a, b)


def inner(a: Any, b: Any) -> Any:
    """``np.inner``: the sum of products over the last axes."""
    a, b = as_value(a), as_value(b)
    if not a.ndim or not b.ndim:
        return a * b
    return apply("tensordot", a, b, axes=([-1], [-1]))


def ufunc_outer(ufunc: np.ufunc, a: Any, b: Any) -> Any:
    """``ufunc.outer(a, b)`` of a binary ufunc that is an op: shape ``a.shape + b.shape``."""
    a, b = as_value(a), as_value(b)
    return dispatch_ufunc(ufunc, "__call__", (a.reshape(a.shape + (1,) * b.ndim), b), {})


# --------------------------------------------------------------------------- dispatch


def _index() -> dict[Any, tuple[str, Callable[..., Any] | None]]:
    # Built from the registry on each call that misses the cache below, so ops registered later
    # (a user's own module) are found too.
    found: dict[Any, tuple[str, Callable[..., Any] | None]] = {}
    for op in REGISTRY.values():
        for key, adapter in op.numpy.items():
            found[key] = (op.name, adapter)
    return found


_CACHE: dict[str, Any] = {"size": -1, "index": {}}


def numpy_index() -> dict[Any, tuple[str, Callable[..., Any] | None]]:
    """Every numpy callable (and ``(ufunc, method)`` pair) that reaches an op: ``{key: (op name,
    adapter or None)}``, from the ops' ``numpy`` mappings.

    >>> numpy_index()[np.exp][0]
    'exp'
    """
    if _CACHE["size"] != len(REGISTRY):
        _CACHE.update(size=len(REGISTRY), index=_index())
    return _CACHE["index"]


def raw_tree(x: Any) -> Any:
    """Values replaced by read-only views of their data (for numpy functions that return plain
    results): a numpy function that writes into an argument fails loudly instead of changing a
    Value behind the graph's back."""
    if is_value(x):
        view = x.data.view()
        view.flags.writeable = False
        return view
    if isinstance(x, (list, tuple)):
        return type(x)(raw_tree(i) for i in x)
    if isinstance(x, dict):
        return {k: raw_tree(v) for k, v in x.items()}
    return x


def _call(key: Any, name: str, args: tuple, kwargs: dict) -> Any:
    entry = numpy_index().get(key)
    if entry is None:
        raise refusal(name)
    op, adapter = entry
    if adapter is None:
        return apply(op, *args, **kwargs)
    return adapter(*args, **kwargs)


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """What ``Value.__array_ufunc__`` does: the op the ufunc (or its method) is, a plain result for
    piecewise-constant ufuncs, or a refusal; ``out=`` and ``ufunc.at`` always refuse."""
    name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in (out if isinstance(out, tuple) else (out,))):
        raise TypeError(
            f"{name} with out= on a Value: writing into an array in place would not be recorded "
            "in the graph, so its gradient would be lost; use the returned result instead"
        )
    if method == "at":
        raise TypeError(
            f"{name} changes its operand in place, which the graph cannot record; build the "
            "result from ops instead (indexing, concatenate, where)"
        )
    if ufunc.__name__ in PIECEWISE_CONSTANT_UFUNCS:
        return getattr(ufunc, method)(*raw_tree(inputs), **raw_tree(kwargs))
    if method == "__call__":
        if ufunc not in numpy_index():
            raise refusal(name)
        refuse_options(ufunc.__name__, **kwargs)
        return _call(ufunc, name, inputs, {})
    if method == "outer" and ufunc in numpy_index() and ufunc.nin == 2 and ufunc.signature is None:
        refuse_options(f"{ufunc.__name__}.outer", **kwargs)
        return ufunc_outer(ufunc, *inputs)
    return _call((ufunc, method), name, inputs, kwargs)


def dispatch_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    """What ``Value.__array_function__`` does: the op the function reaches, a plain result for
    functions whose result carries no gradient, or a refusal naming the function."""
    if func in PLAIN_RESULT_FUNCTIONS:
        return func(*raw_tree(args), **raw_tree(kwargs))
    return _call(func, public_name(func), args, kwargs)


def newer(module: Any, name: str, adapter: Callable[..., Any] | None) -> dict[Any, Callable[..., Any] | None]:
    """``{module.name: adapter}`` where this numpy has ``name`` (the array API names numpy 2
    added, such as ``cumulative_sum``), else nothing.

    >>> list(newer(np, "no_such_function", None))
    []
    """
    function = getattr(module, name, None)
    return {} if function is None else {function: adapter}
