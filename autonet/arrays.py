"""What a Value holds, and what an op's graph record keeps: conversions and freezing of arrays.

A Value holds a Python float for a float64 scalar (the lean path micrograd-style graphs take) or
a numpy array of its own. These helpers know nothing of Values; the engine builds on them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ops.registry import float_dtype

__all__ = ["F64", "frozen", "frozen_params", "normalize", "retitled", "shape_of", "to_data"]

F64 = np.dtype(np.float64)


def to_data(
    data: Any, dtype: Any = None, what: str = "Value", *, copy: bool = True, like: np.dtype | None = None
) -> float | np.ndarray:
    """Convert user data to what a Value stores: a float for float64 scalars, else an array.

    With ``copy`` (the default) an array is always the Value's own, never the caller's: a Value
    owns its data as ``np.array`` does. ``like`` is the float dtype of the other operand of an op:
    integer and bool data then take it (an int64 array times a float32 Value stays float32, as
    in PyTorch), where on their own they become float64.

    >>> to_data(2), to_data([1, 2]).dtype
    (2.0, dtype('float64'))
    """
    kind = type(data)
    if dtype is None:
        if kind is float:
            return data
        if kind is int or kind is bool:
            try:
                return float(data)
            except OverflowError:
                raise ValueError(f"{what} data: the int {data} is too large for a float64") from None
    if isinstance(data, (str, bytes, complex)) or data is None:
        raise TypeError(
            f"{what} data must be a real number, a nested list of numbers or a numpy array of "
            f"real numbers; got {kind.__name__}"
        )
    try:
        # Convert first and cast after the check: casting first would parse strings, drop the
        # imaginary part of complex numbers and turn None into nan.
        array = np.asarray(data)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{what} data must be a real number, a nested list of numbers or a numpy array of "
            f"real numbers; could not convert {kind.__name__}: {error}"
        ) from None
    letter = array.dtype.kind
    if letter not in "biuf":
        raise TypeError(f"{what} data must be real numbers (bool, int or float); got dtype {array.dtype}")
    if dtype is not None:
        array = array.astype(float_dtype(dtype, what), copy=False)
    elif letter != "f":
        # Integers and bools meeting floats take the floats' dtype, as in PyTorch and JAX (numpy
        # would widen float32 to float64 for int32 and int64 arrays).
        array = array.astype(like if like is not None and like.kind == "f" else F64)
    if array.ndim == 0 and array.dtype == F64:
        return float(array)
    if copy and array is data:
        array = array.copy()
    return array


def normalize(out: Any) -> float | np.ndarray:
    """An op's output as a Value stores it: a float for a float64 scalar, else an array.

    >>> normalize(np.float64(2.0)), normalize(np.ones(2, dtype=np.float32)).dtype
    (2.0, dtype('float32'))
    """
    kind = type(out)
    if kind is np.ndarray:
        if out.ndim == 0 and out.dtype == F64:
            return float(out)
        return out
    if kind is float:
        return out
    if kind is np.float64:
        return float(out)
    return np.asarray(out)


def shape_of(data: float | np.ndarray) -> tuple[int, ...]:
    """The shape of what a Value holds: ``()`` for a float.

    >>> shape_of(2.0), shape_of(np.ones((2, 3)))
    ((), (2, 3))
    """
    return () if type(data) is float else data.shape


def frozen(part: Any) -> Any:
    """An array argument as the graph keeps it: a read-only array of its own, so that a caller
    who changes their mask, labels or index array afterwards cannot change what backward uses.

    >>> frozen(np.arange(3)).flags.writeable
    False
    """
    if type(part) is np.ndarray:
        if part.flags.writeable or part.base is not None:
            part = part.copy()
            part.flags.writeable = False
        return part
    if type(part) is tuple and any(type(p) is np.ndarray for p in part):
        return tuple(map(frozen, part))
    return part


def frozen_params(params: dict) -> dict:
    """``params`` with every array argument frozen (see ``frozen``).

    >>> frozen_params({"index": np.arange(2)})["index"].flags.writeable
    False
    """
    kept = params
    for key, value in params.items():
        kind = type(value)
        if kind is np.ndarray or kind is tuple:
            held = frozen(value)
            if held is not value:
                if kept is params:
                    kept = dict(params)
                kept[key] = held
    return kept


def retitled(error: Exception, message: str) -> Exception:
    """``error``'s type with a new message; numpy's own subclasses that take more than a message
    (such as its ufunc loop errors) fall back to the builtin type they derive from.

    >>> retitled(ValueError("bad"), "exp: bad")
    ValueError('exp: bad')
    """
    try:
        retitled = type(error)(message)
        if str(retitled) == message:
            return retitled
    except Exception:
        pass
    kind = next(k for k in (TypeError, IndexError, ValueError) if isinstance(error, k))
    return kind(message)
