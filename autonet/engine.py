"""The engine: ``Value``, the graph it records, and the reverse-mode walk over that graph.

A ``Value`` holds a Python float (the lean path for float64 scalars) or a numpy array. Every op
goes through ``_apply``, which runs the registered forward and, when grad mode is on and an
input requires grad, remembers ``(op, inputs, params)`` on the result. ``backward()`` orders the
graph with an explicit stack (no recursion, so depth is bounded by memory only), calls each
op's vjps, undoes broadcasting in one place, and releases the graph as it goes unless
``retain_graph`` asks to keep it.
"""

from __future__ import annotations

import gc
import inspect
import linecache
import operator
import os
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Union

import numpy as np

from . import ops as _ops
from ._state import STATE, detect_anomaly, set_grad_enabled
from .ops.registry import Op, normalize_axis, register, sum_to_shape

__all__ = [
    "AnomalyError",
    "Value",
    "concatenate",
    "grad",
    "gradients",
    "maximum",
    "minimum",
    "stack",
    "where",
]

ArrayLike = Union["Value", np.ndarray, float, int, Sequence[Any]]

_F64 = np.dtype(np.float64)
_new = object.__new__
_DATA = operator.attrgetter("_data")  # map(_DATA, values) skips a comprehension's frame on the hot path
_PAUSE_COLLECTOR_ABOVE = 10_000  # graph size (Values) above which backward pauses the cyclic collector


class AnomalyError(FloatingPointError):
    """Raised under ``detect_anomaly()`` when an op's output or gradient holds NaN or inf.

    The message names the op, its input shapes, the phase (forward, or backward and for which
    input), how many elements went bad and where the first is, and the line that created the op.

    >>> from autonet import AnomalyError, Value, detect_anomaly
    >>> try:
    ...     with detect_anomaly():
    ...         Value([1.0, -1.0]).sqrt()
    ... except AnomalyError as error:
    ...     print(str(error).splitlines()[0])
    sqrt produced nan in forward (input shapes (2,); 1 of 2 elements, the first at index (1,))
    """


class _Released(tuple):
    """The inputs of a node whose graph a backward() released: weak references only, so the
    intermediates nobody else holds are freed, while those still held can still be drawn."""


# --------------------------------------------------------------------------- conversion


def _to_data(data: Any, dtype: Any = None, what: str = "Value") -> float | np.ndarray:
    """Convert user data to what a Value stores: a float for float64 scalars, else an array."""
    kind = type(data)
    if dtype is None:
        if kind is float:
            return data
        if kind is int or kind is bool:
            try:
                return float(data)
            except OverflowError:
                raise ValueError(f"{what} data: the int {data} is too large for a float64") from None
    if kind is Value:
        data = data._data
    elif isinstance(data, (str, bytes, complex)) or data is None:
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
        try:
            target = np.dtype(dtype)
        except TypeError as error:
            message = f"{what}: dtype must be a float dtype such as float32 or float64; {error}"
            raise TypeError(message) from None
        if target.kind != "f":
            raise TypeError(f"{what}: dtype must be a float dtype such as float32 or float64, got {target}")
        array = array.astype(target, copy=False)
    elif letter != "f":
        array = array.astype(np.float64)
    if array.ndim == 0 and array.dtype == _F64:
        return float(array)
    return array


def _normalize(out: Any) -> float | np.ndarray:
    kind = type(out)
    if kind is np.ndarray:
        if out.ndim == 0 and out.dtype == _F64:
            return float(out)
        return out
    if kind is float:
        return out
    if kind is np.float64:
        return float(out)
    return np.asarray(out)


def _make(data: Any, requires_grad: bool, node: tuple | None) -> Value:
    value = _new(Value)
    value._data = data
    value._grad = None
    value.requires_grad = requires_grad
    value._node = node
    return value


def _lift(x: Any) -> Value:
    """Treat a plain number or array as a constant Value (it needs no gradient)."""
    if type(x) is Value:
        return x
    if isinstance(x, Value):
        return x
    return _make(_to_data(x), False, None)


def _shape_of(data: Any) -> tuple[int, ...]:
    return () if type(data) is float else data.shape


# --------------------------------------------------------------------------- applying ops


def _forward(op: Op, datas: list, params: dict | None) -> Any:
    scalar = op.scalar
    if scalar is not None:
        for d in datas:
            if type(d) is not float:
                break
        else:
            try:
                return scalar(*datas, **params) if params else scalar(*datas)
            except (ArithmeticError, ValueError, TypeError):
                # Python raises where numpy returns inf or nan (or where a param is an array);
                # follow numpy, which also names the op if the params are really wrong.
                datas = [np.float64(d) for d in datas]
    elif float in map(type, datas):
        # A float64 scalar is held as a Python float and promotes like one (float32 arrays stay
        # float32), as it does in the ops with a scalar path; this op needs arrays, so give it one.
        arrays = [d for d in datas if type(d) is not float]
        dtype = np.result_type(*arrays, 0.0) if arrays else _F64
        datas = [np.asarray(d, dtype) if type(d) is float else d for d in datas]
    try:
        out = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, TypeError, IndexError) as error:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise _retitled(error, f"{op.name}: {error} (input shapes {shapes})") from None
    if op.saves:
        out, saved = out
        return _normalize(out), saved
    return _normalize(out)


def _retitled(error: Exception, message: str) -> Exception:
    """``error``'s type with a new message; numpy's own subclasses that take more than a message
    (such as its ufunc loop errors) fall back to the builtin type they derive from."""
    try:
        retitled = type(error)(message)
        if str(retitled) == message:
            return retitled
    except Exception:
        pass
    kind = next(k for k in (TypeError, IndexError, ValueError) if isinstance(error, k))
    return kind(message)


def _apply(op: Op, inputs: tuple[Value, ...], params: dict | None = None) -> Value:
    if STATE.anomaly_enabled:
        # The AnomalyError below says what numpy's overflow warning would, and better.
        with np.errstate(all="ignore"):
            out = _forward(op, list(map(_DATA, inputs)), params)
    else:
        out = _forward(op, list(map(_DATA, inputs)), params)
    if op.saves:
        # What the forward saved for the vjps rides in the params; release drops it again.
        out, saved = out
        params = {**params, "saved": saved} if params else {"saved": saved}
    state = STATE
    if state.anomaly_enabled:
        _check_finite(op, out, inputs, "forward", None)
    result = _new(Value)  # _make spelled out: this runs once per op
    result._data = out
    result._grad = None
    if state.grad_enabled:
        for v in inputs:
            if v.requires_grad:
                result.requires_grad = True
                result._node = (op, inputs, params)
                if state.anomaly_enabled:
                    result._site = _user_site()
                return result
    result.requires_grad = False
    result._node = None
    return result


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_site() -> str:
    """The line of user code that created an op: the innermost frame outside the autonet package.

    Walks frames directly (no traceback objects) and keeps only a string, so no frame and none of
    its locals outlive the call.
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    line = linecache.getline(filename, lineno).strip()
    site = f'File "{filename}", line {lineno}, in {frame.f_code.co_name}'
    return f"{site}\n      {line}" if line else site


def _check_finite(op: Op, data: Any, inputs: Sequence[Value], phase: str, node: Value | None) -> None:
    """Raise ``AnomalyError`` if ``data`` (an op's output or gradient) holds NaN or inf."""
    if isinstance(data, Value):
        data = data._data
    finite = np.isfinite(data)
    if finite if type(finite) is np.bool_ else finite.all():
        return
    bad = np.asarray(data)[~np.asarray(finite)]
    what = "nan" if np.isnan(bad).any() else ("inf" if (bad > 0).any() else "-inf")
    shapes = ", ".join(str(_shape_of(v._data)) for v in inputs)
    where = ""
    if np.ndim(finite):
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f"; {bad.size} of {finite.size} elements, the first at index {first}"
    site = getattr(node, "_site", None) if node is not None else _user_site()
    site = site or "an unknown place (the graph was built outside detect_anomaly(); build it inside to see)"
    raise AnomalyError(
        f"{op.name} produced {what} in {phase} (input shapes {shapes}{where})\n  the op was created at {site}"
    )


# --------------------------------------------------------------------------- the Value type


class Value:
    """A number or an n-d array that records the operations applied to it.

    ``Value(data, label="")`` takes a Python number, a nested list or a numpy array. Integers
    and bools become float64, float32 stays float32. Leaves made by the user require grad by
    default, as in micrograd; pass ``requires_grad=False`` for data such as a batch of inputs.

    >>> from autonet import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> float(x.grad)
    8.0
    """

    __slots__ = ("__weakref__", "_data", "_grad", "_label", "_node", "_scope", "_site", "requires_grad")

    def __init__(
        self,
        data: ArrayLike,
        label: str = "",
        *,
        requires_grad: bool = True,
        dtype: Any = None,
    ) -> None:
        self._data = _to_data(data, dtype)
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        if label:
            self._label = str(label)

    # ----------------------------------------------------------------- data and grad

    @property
    def data(self) -> np.ndarray:
        """The values as a numpy array (0-d for a scalar); assigning replaces them."""
        data = self._data
        return np.array(data) if type(data) is float else data

    @data.setter
    def data(self, new: ArrayLike) -> None:
        if new is self._data:
            return  # ``v.data -= step`` updated the array in place: it is already valid data
        self._data = _to_data(new)

    @property
    def grad(self) -> Any:
        """The gradient, same shape and dtype as ``data``; zeros until a backward reaches this Value.

        Under ``backward(create_graph=True)`` it is itself a ``Value`` that can be differentiated.
        Assign ``None`` (or call ``zero_grad()``) to reset it.
        """
        g = self._grad
        if g is None:
            data = self._data
            return np.array(0.0) if type(data) is float else np.zeros_like(data)
        return np.array(g) if type(g) is float else g

    @grad.setter
    def grad(self, new: Any) -> None:
        if new is None or isinstance(new, Value):
            self._grad = new
            return
        new = _to_data(new, None, "grad")
        if _shape_of(new) != self.shape:
            raise ValueError(f"grad: shape {_shape_of(new)} does not match the Value's shape {self.shape}")
        self._grad = new

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (same as ``v.grad = None``)."""
        self._grad = None

    @property
    def label(self) -> str:
        """A name shown in drawings and reprs (modules set dotted parameter names)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, name: str) -> None:
        self._label = str(name)

    @property
    def op(self) -> Op | None:
        """The registry op that produced this Value, or None for a leaf."""
        node = self._node
        return None if node is None else node[0]

    @property
    def params(self) -> dict:
        """The op's non-differentiable arguments (axis, shape, index ...), empty for a leaf."""
        node = self._node
        if node is None or node[2] is None:
            return {}
        return {key: value for key, value in node[2].items() if key != "saved" or not node[0].saves}

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that produced this Value; after a backward() that released the
        graph, only those still alive elsewhere (use ``graph_released`` to tell)."""
        node = self._node
        if node is None:
            return ()
        parents = node[1]
        if type(parents) is _Released:
            return tuple(p for p in (ref() for ref in parents) if p is not None)
        return parents

    @property
    def graph_released(self) -> bool:
        """True once a backward() without ``retain_graph`` has freed the graph behind this Value."""
        node = self._node
        return node is not None and type(node[1]) is _Released

    @property
    def shape(self) -> tuple[int, ...]:
        """The array shape; ``()`` for a scalar."""
        return _shape_of(self._data)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return 1 if type(self._data) is float else self._data.size

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype (float64 unless float32 or another float was given)."""
        return _F64 if type(self._data) is float else self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for Values made by the user (not by an op)."""
        return self._node is None

    def item(self) -> float:
        """The single element as a Python float."""
        data = self._data
        if type(data) is float:
            return data
        if data.size != 1:
            raise ValueError(
                f"item: only a Value with one element converts to a number, this one has shape {data.shape}"
            )
        return float(data.item())

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied; 0-d for a scalar)."""
        return self.data

    def tolist(self) -> Any:
        """The data as nested Python lists (a float for a scalar)."""
        return self.data.tolist()

    def detach(self) -> Value:
        """A new leaf with the same data (shared) that needs no gradient."""
        return _make(self._data, False, None)

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if self._node is not None and not requires_grad:
            raise RuntimeError("requires_grad_: only leaves can stop requiring grad; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    # ----------------------------------------------------------------- python protocols

    def __repr__(self) -> str:
        data = self._data
        if type(data) is float:
            text = repr(data)
        else:
            text = np.array2string(data, separator=", ", threshold=20, precision=4, prefix="Value(")
        parts = [text, f"shape={self.shape}"]
        if type(data) is not float and data.dtype != _F64:
            parts.append(f"dtype={data.dtype}")
        parts.append(f"requires_grad={self.requires_grad}")
        if self._node is not None:
            parts.append(f"op={self._node[0].name!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    def __format__(self, spec: str) -> str:
        if spec and self.size == 1:
            return format(self.item(), spec)
        return format(repr(self), spec)

    # Identity hashing: backward keys its bookkeeping dicts by Value, which is safe only because
    # distinct live Values never share a hash (so the array-returning __eq__ is never asked).
    __hash__ = object.__hash__

    def __len__(self) -> int:
        if type(self._data) is float or self._data.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return len(self._data)

    def __iter__(self) -> Iterator[Value]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return self.item()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = np.asarray(self._data, dtype=dtype)
        return data.copy() if copy else data

    # ----------------------------------------------------------------- arithmetic

    def __add__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.add, self, other)

    def __radd__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.add, other, self)

    def __sub__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.sub, self, other)

    def __rsub__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.sub, other, self)

    def __mul__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.mul, self, other)

    def __rmul__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.mul, other, self)

    def __truediv__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.div, self, other)

    def __rtruediv__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.div, other, self)

    def __pow__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.power, self, other)

    def __rpow__(self, other: ArrayLike) -> Value:
        return _binary(_ops.arith.power, other, self)

    def __matmul__(self, other: ArrayLike) -> Value:
        return matmul(self, other)

    def __rmatmul__(self, other: ArrayLike) -> Value:
        return matmul(other, self)

    def __neg__(self) -> Value:
        return _apply(_ops.arith.neg, (self,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.abs()

    # Comparisons give plain boolean arrays: they have no gradient and record nothing.
    def __lt__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data < _raw(other))

    def __le__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data <= _raw(other))

    def __gt__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data > _raw(other))

    def __ge__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data >= _raw(other))

    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return np.asarray(self._data == _raw(other))

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return np.asarray(self._data != _raw(other))

    # ----------------------------------------------------------------- element-wise

    def exp(self) -> Value:
        """e ** x.  ``Value(0.0).exp().item() == 1.0``"""
        return _apply(_ops.elementwise.exp, (self,))

    def log(self) -> Value:
        """Natural logarithm.  ``Value(1.0).log().item() == 0.0``"""
        return _apply(_ops.elementwise.log, (self,))

    def sqrt(self) -> Value:
        """Square root.  ``Value(4.0).sqrt().item() == 2.0``"""
        return _apply(_ops.elementwise.sqrt, (self,))

    def abs(self) -> Value:
        """|x|, with gradient 0 at 0.  ``Value(-2.0).abs().item() == 2.0``"""
        return _apply(_ops.elementwise.abs, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent.  ``Value(0.0).tanh().item() == 0.0``"""
        return _apply(_ops.elementwise.tanh, (self,))

    def sigmoid(self) -> Value:
        """Logistic sigmoid, stable for large inputs.  ``Value(0.0).sigmoid().item() == 0.5``"""
        return _apply(_ops.elementwise.sigmoid, (self,))

    def relu(self) -> Value:
        """max(x, 0), with gradient 0 at 0.  ``Value(-1.0).relu().item() == 0.0``"""
        return _apply(_ops.elementwise.relu, (self,))

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        """x for x > 0, else negative_slope * x.  ``Value(-1.0).leaky_relu(0.1).item() == -0.1``"""
        if not isinstance(negative_slope, (int, float, np.integer, np.floating)):
            kind = type(negative_slope).__name__
            raise TypeError(f"leaky_relu: negative_slope must be a number, got {kind}")
        return _apply(_ops.elementwise.leaky_relu, (self,), {"negative_slope": float(negative_slope)})

    def softplus(self) -> Value:
        """log(1 + e ** x), stable.  ``round(Value(0.0).softplus().item(), 4) == 0.6931``"""
        return _apply(_ops.elementwise.softplus, (self,))

    def erf(self) -> Value:
        """The error function.  ``Value(0.0).erf().item() == 0.0``"""
        return _apply(_ops.elementwise.erf, (self,))

    def gelu(self, approximate: str = "none") -> Value:
        """Gaussian error linear unit: x * Phi(x) (``approximate="tanh"`` for the tanh form, as in PyTorch).

        ``Value(0.0).gelu().item() == 0.0``
        """
        if approximate == "none":
            return 0.5 * self * (1.0 + (self * _INV_SQRT2).erf())
        if approximate == "tanh":
            # Past |x| = 100 tanh's argument is far beyond where tanh rounds to +-1, so clipping x
            # inside it changes no value and no gradient; it keeps x**3 from overflowing to inf,
            # whose gradient would meet tanh's exact 0 slope as inf * 0 = nan (PyTorch's at 1e300).
            inner = self.clip(-100.0, 100.0)
            return 0.5 * self * (1.0 + ((inner + 0.044715 * inner**3) * _SQRT_2_OVER_PI).tanh())
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def sin(self) -> Value:
        """Sine.  ``Value(0.0).sin().item() == 0.0``"""
        return _apply(_ops.elementwise.sin, (self,))

    def cos(self) -> Value:
        """Cosine.  ``Value(0.0).cos().item() == 1.0``"""
        return _apply(_ops.elementwise.cos, (self,))

    def clip(self, low: float | None = None, high: float | None = None) -> Value:
        """Limit to [low, high]; the gradient passes inside and at the bounds.

        ``Value(5.0).clip(0, 1).item() == 1.0``
        """
        if low is None and high is None:
            raise ValueError("clip: give low, high or both")
        low, high = (None if b is None else _to_data(b, None, "clip: a bound") for b in (low, high))
        return _apply(_ops.elementwise.clip, (self,), {"low": low, "high": high})

    def maximum(self, other: ArrayLike) -> Value:
        """Element-wise max with broadcasting; ties split the gradient evenly."""
        return _binary(_ops.elementwise.maximum, self, other)

    def minimum(self, other: ArrayLike) -> Value:
        """Element-wise min with broadcasting; ties split the gradient evenly."""
        return _binary(_ops.elementwise.minimum, self, other)

    # ----------------------------------------------------------------- reductions

    def _reduce(self, op: Op, axis: Any, keepdims: bool) -> Value:
        axes = normalize_axis(axis, self.ndim, op.name)
        return _apply(op, (self,), {"axis": axes, "keepdims": bool(keepdims)})

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Sum over ``axis`` (int, tuple or None for all).  ``Value([1.0, 2.0]).sum().item() == 3.0``"""
        return self._reduce(_ops.reduce.sum, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Mean over ``axis``.  ``Value([1.0, 2.0]).mean().item() == 1.5``"""
        return self._reduce(_ops.reduce.mean, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Maximum over ``axis``; tied maxima share the gradient.

        ``Value([1.0, 2.0]).max().item() == 2.0``
        """
        return self._reduce(_ops.reduce.max, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Minimum over ``axis``; tied minima share the gradient.

        ``Value([1.0, 2.0]).min().item() == 1.0``
        """
        return self._reduce(_ops.reduce.min, axis, keepdims)

    def logsumexp(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """log(sum(exp(x))) over ``axis``, stable for inputs like 1000."""
        return self._reduce(_ops.reduce.logsumexp, axis, keepdims)

    def var(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Variance over ``axis`` with numpy's ``ddof`` (0 by default, unlike PyTorch's 1).

        ``Value([1.0, 3.0]).var().item() == 1.0``
        """
        axes = normalize_axis(axis, self.ndim, "var")
        count = _count(self.shape, axes)
        centred = self - self.mean(axis=axes, keepdims=True)
        # As numpy: ddof >= count leaves no degrees of freedom, and the sum over 0 is inf (nan for
        # a constant or empty slice), never a negative variance.
        return (centred * centred).sum(axis=axes, keepdims=keepdims) / max(count - ddof, 0)

    def std(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Standard deviation over ``axis`` (sqrt of ``var``); a constant slice has gradient 0, as in
        PyTorch.  ``Value([1.0, 3.0]).std().item() == 1.0``"""
        axes = normalize_axis(axis, self.ndim, "std")  # so an axis error names std, not var
        var = self.var(axis=axes, keepdims=keepdims, ddof=ddof)
        constant = np.asarray(var == 0)
        if not constant.any():
            return var.sqrt()
        # sqrt's slope at 0 is infinite, and a constant slice would turn it into inf * 0 = nan.
        # There sqrt sees 1 instead, through a where that passes it no gradient, and gives 0.
        return where(constant, 0.0, where(constant, 1.0, var).sqrt())

    def softmax(self, axis: int = -1) -> Value:
        """exp(x) / sum(exp(x)) along ``axis``, stable for large inputs."""
        (axis,) = normalize_axis(_one_axis(axis, "softmax"), max(self.ndim, 1), "softmax")
        return _apply(_ops.reduce.softmax, (self,), {"axis": axis})

    def log_softmax(self, axis: int = -1) -> Value:
        """x - logsumexp(x) along ``axis``, stable for large inputs."""
        (axis,) = normalize_axis(_one_axis(axis, "log_softmax"), max(self.ndim, 1), "log_softmax")
        return _apply(_ops.reduce.log_softmax, (self,), {"axis": axis})

    # ----------------------------------------------------------------- shapes

    def reshape(self, *shape: Any) -> Value:
        """The same elements in a new shape (one -1 allowed).

        ``Value([1.0, 2.0]).reshape(2, 1).shape == (2, 1)``
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
            shape = tuple(shape[0])
        shape = _int_tuple(shape, "reshape")
        try:
            target = np.empty(self.shape, dtype=bool).reshape(shape).shape
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a Value of shape {self.shape} ({self.size} elements) "
                f"into shape {shape}"
            ) from None
        if target == self.shape:
            return self
        return _apply(_ops.shape.reshape, (self,), {"shape": target})

    def flatten(self) -> Value:
        """All elements in one axis."""
        return self.reshape(self.size)

    def expand_dims(self, axis: int | tuple[int, ...]) -> Value:
        """Insert axes of length 1 at ``axis``."""
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (_one_axis(axis, "expand_dims"),)
        # Axes count in the result, which has one more dimension per inserted axis.
        axes = normalize_axis(axes, self.ndim + len(axes), "expand_dims")
        return self.reshape(np.expand_dims(np.empty(self.shape, dtype=bool), axes).shape)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Value:
        """Remove axes of length 1 (all of them, or those in ``axis``)."""
        axes = normalize_axis(axis, self.ndim, "squeeze")
        if axes is not None:
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(
                        f"squeeze: axis {a} has length {self.shape[a]}, not 1 (shape {self.shape})"
                    )
        return self.reshape(
            tuple(n for i, n in enumerate(self.shape) if not (n == 1 and (axes is None or i in axes)))
        )

    def transpose(self, *axes: Any) -> Value:
        """Permute axes (reverse them when none are given).

        ``Value([[1.0, 2.0]]).transpose().shape == (2, 1)``
        """
        # An array of axes arrives from the transpose vjp (np.argsort) under create_graph=True.
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list, np.ndarray))):
            axes = None if axes[0] is None else tuple(axes[0])
        elif not axes:
            axes = None  # no axes given: reverse them (an explicit () must match the dimensions)
        ndim = self.ndim
        if axes is None:
            perm = tuple(range(ndim - 1, -1, -1))
        else:
            if len(axes) != ndim:
                raise ValueError(f"transpose: axes {axes} do not match a Value with {ndim} dimensions")
            perm = tuple(normalize_axis(a, ndim, "transpose")[0] for a in axes)
            if sorted(perm) != list(range(ndim)):
                raise ValueError(f"transpose: axes {axes} are not a permutation of {ndim} dimensions")
        if perm == tuple(range(ndim)):
            return self
        return _apply(_ops.shape.transpose, (self,), {"axes": perm})

    @property
    def T(self) -> Value:
        """The transpose (axes reversed)."""
        return self.transpose()

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        """Exchange two axes."""
        perm = list(range(self.ndim))
        (a,) = normalize_axis(_one_axis(axis1, "swapaxes"), self.ndim, "swapaxes")
        (b,) = normalize_axis(_one_axis(axis2, "swapaxes"), self.ndim, "swapaxes")
        perm[a], perm[b] = perm[b], perm[a]
        return self.transpose(tuple(perm))

    def broadcast_to(self, shape: tuple[int, ...]) -> Value:
        """Repeat along broadcast axes to ``shape``; the gradient is summed back."""
        parts = shape if isinstance(shape, (tuple, list, np.ndarray)) else (shape,)
        shape = _int_tuple(parts, "broadcast_to")
        try:
            np.broadcast_shapes(self.shape, shape)
            if len(shape) < self.ndim:
                raise ValueError
            np.broadcast_to(np.empty(self.shape, dtype=bool), shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {self.shape} to {shape}") from None
        if shape == self.shape:
            return self
        return _apply(_ops.shape.broadcast_to, (self,), {"shape": shape})

    def __getitem__(self, index: Any) -> Value:
        index = _clean_index(index)
        return _apply(_ops.shape.getitem, (self,), {"index": index})

    def _apply_op(self, op: Op, **params: Any) -> Value:
        """Apply a registered one-input op to this Value (how vjps call ops that numpy lacks)."""
        return _apply(op, (self,), params or None)

    # ----------------------------------------------------------------- backward

    def backward(
        self,
        gradient: ArrayLike | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Fill ``.grad`` of every Value this one depends on (gradients add up across calls).

        On a scalar the seed gradient is 1; a non-scalar needs ``gradient`` of its shape.
        Without ``retain_graph`` the graph is released as the walk goes, so a second backward
        through it raises; ``create_graph=True`` makes the gradients Values that can be
        differentiated again (and keeps the graph).

        >>> from autonet import Value
        >>> x = Value(2.0)
        >>> (x ** 3).backward(create_graph=True)
        >>> x.grad.item()
        12.0
        >>> g = x.grad
        >>> x.grad = None
        >>> g.backward()
        >>> x.grad.item()
        12.0
        """
        _run_backward(
            self, gradient, create_graph if retain_graph is None else retain_graph, create_graph, None
        )

    # numpy interplay: ufuncs and numpy functions on Values become autonet ops.
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        impl = _UFUNCS.get(ufunc)
        if impl is not None:
            return impl(*inputs)
        if ufunc.__name__ in _PIECEWISE_CONSTANT_UFUNCS:
            return ufunc(*[_raw(x) for x in inputs], **kwargs)
        raise TypeError(
            f"numpy.{ufunc.__name__} has no autonet op, so it cannot be differentiated; "
            f"use value.data for a plain array"
        )

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        impl = _FUNCTIONS.get(func)
        if impl is not None:
            return impl(*args, **kwargs)
        # Functions autonet does not know see only the data: they record nothing.
        return func(*_raw_tree(args), **_raw_tree(kwargs))


_INV_SQRT2 = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    from .ops.registry import reduced_count

    return reduced_count(shape, axes)


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


def _int_tuple(parts: Any, what: str) -> tuple[int, ...]:
    """A shape argument as a tuple of ints; a float, a string or None is refused, not truncated."""
    try:
        return tuple(operator.index(n) for n in parts)
    except TypeError:
        raise TypeError(f"{what}: a shape must hold ints only, got {tuple(parts)!r}") from None


def _one_axis(axis: Any, what: str) -> Any:
    """Refuse None and tuples where an op works along exactly one axis."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise TypeError(f"{what}: axis must be one int, got {axis!r}")
    return axis


def _raw_tree(x: Any) -> Any:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_raw_tree(i) for i in x)
    if isinstance(x, dict):
        return {k: _raw_tree(v) for k, v in x.items()}
    return x


def _clean_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_clean_index_part(i) for i in index)
    return _clean_index_part(index)


def _clean_index_part(part: Any) -> Any:
    if isinstance(part, Value):
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


def _binary(op: Op, a: Any, b: Any) -> Value:
    try:
        a = a if type(a) is Value else _lift(a)
        b = b if type(b) is Value else _lift(b)
    except TypeError:
        return NotImplemented
    data_a = a._data
    data_b = b._data
    state = STATE
    if type(data_a) is float and type(data_b) is float and not state.anomaly_enabled:
        # micrograd-style scalar graphs: Python float arithmetic, no lists, no numpy.
        try:
            out = op.scalar(data_a, data_b)
        except (ArithmeticError, ValueError, TypeError):
            return _apply(op, (a, b))  # numpy's inf/nan instead of Python's exception
        result = _new(Value)
        result._data = out
        result._grad = None
        if state.grad_enabled and (a.requires_grad or b.requires_grad):
            result.requires_grad = True
            result._node = (op, (a, b), None)
        else:
            result.requires_grad = False
            result._node = None
        return result
    return _apply(op, (a, b))


def matmul(a: ArrayLike, b: ArrayLike) -> Value:
    """Matrix product with numpy's ``@`` rules; mismatched shapes name both.

    >>> from autonet import Value
    >>> (Value([[1.0, 2.0]]) @ Value([[3.0], [4.0]])).item()
    11.0
    """
    try:
        a, b = _lift(a), _lift(b)
    except TypeError:
        return NotImplemented
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {sa} and {sb}")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {inner_a} != {inner_b}")
    if len(sa) > 2 or len(sb) > 2:  # only then are there batch axes to check
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: shapes {sa} and {sb} have batch axes {sa[:-2]} and {sb[:-2]} that do not broadcast"
            ) from None
    return _apply(_ops.linalg.matmul, (a, b))


def maximum(a: ArrayLike, b: ArrayLike) -> Value:
    """Element-wise max with broadcasting; ties split the gradient evenly.

    >>> from autonet import maximum
    >>> maximum(1.0, 2.0).item()
    2.0
    """
    return _apply(_ops.elementwise.maximum, (_lift(a), _lift(b)))


def minimum(a: ArrayLike, b: ArrayLike) -> Value:
    """Element-wise min with broadcasting; ties split the gradient evenly.

    >>> from autonet import minimum
    >>> minimum(1.0, 2.0).item()
    1.0
    """
    return _apply(_ops.elementwise.minimum, (_lift(a), _lift(b)))


def where(condition: Any, a: ArrayLike, b: ArrayLike) -> Value:
    """``a`` where ``condition`` holds, else ``b`` (broadcasting); the condition is not differentiated.

    >>> from autonet import Value, where
    >>> x = Value([-1.0, 2.0])
    >>> where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    """
    condition = np.asarray(_raw(condition))
    if condition.dtype != bool:
        if condition.dtype.kind not in "iuf":
            raise TypeError(f"where: condition must hold booleans (or numbers), got dtype {condition.dtype}")
        condition = condition.astype(bool)
    a_value, b_value = _lift(a), _lift(b)
    # A plain Python number takes the other branch's dtype, as it does in a * 2.0 (float32 stays
    # float32); the where forward sees arrays only, where the number would count as float64.
    if isinstance(a, (int, float)) and isinstance(b, Value):
        a_value = _make(_to_data(a, b_value.dtype), False, None)
    elif isinstance(b, (int, float)) and isinstance(a, Value):
        b_value = _make(_to_data(b, a_value.dtype), False, None)
    return _apply(_ops.elementwise.where, (a_value, b_value), {"condition": condition})


def concatenate(values: Sequence[ArrayLike], axis: int = 0) -> Value:
    """Join Values along an existing axis.

    >>> from autonet import Value, concatenate
    >>> concatenate([Value([1.0]), Value([2.0, 3.0])]).shape
    (3,)
    """
    values = tuple(_lift(v) for v in values)
    if not values:
        raise ValueError("concatenate: needs at least one Value")
    ndim = values[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional Values cannot be concatenated")
    (axis,) = normalize_axis(_one_axis(axis, "concatenate"), ndim, "concatenate")
    for v in values:
        if v.ndim != ndim or any(
            n != m for i, (n, m) in enumerate(zip(v.shape, values[0].shape, strict=True)) if i != axis
        ):
            shapes = ", ".join(str(v.shape) for v in values)
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return _apply(_ops.shape.concatenate, values, {"axis": axis})


def stack(values: Sequence[ArrayLike], axis: int = 0) -> Value:
    """Join Values of one shape along a new axis.

    >>> from autonet import Value, stack
    >>> stack([Value([1.0, 2.0]), Value([3.0, 4.0])]).shape
    (2, 2)
    """
    values = [_lift(v) for v in values]
    if not values:
        raise ValueError("stack: needs at least one Value")
    shapes = {v.shape for v in values}
    if len(shapes) != 1:
        raise ValueError(f"stack: all Values must have one shape, got {sorted(shapes)}")
    (axis,) = normalize_axis(_one_axis(axis, "stack"), values[0].ndim + 1, "stack")
    return concatenate([v.expand_dims(axis) for v in values], axis=axis)


# --------------------------------------------------------------------------- numpy dispatch


def _reduction(name: str) -> Callable[..., Value]:
    def impl(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **_: Any
    ) -> Value:
        if out is not None:
            raise TypeError(f"numpy.{name} on a Value does not support out=")
        return getattr(_lift(a), name)(axis=axis, keepdims=bool(keepdims))

    return impl


_UFUNCS: dict[np.ufunc, Callable[..., Value]] = {
    np.add: lambda a, b: _binary(_ops.arith.add, a, b),
    np.subtract: lambda a, b: _binary(_ops.arith.sub, a, b),
    np.multiply: lambda a, b: _binary(_ops.arith.mul, a, b),
    np.true_divide: lambda a, b: _binary(_ops.arith.div, a, b),
    np.power: lambda a, b: _binary(_ops.arith.power, a, b),
    np.matmul: matmul,
    np.negative: lambda x: -_lift(x),
    np.positive: _lift,
    np.exp: lambda x: _lift(x).exp(),
    np.log: lambda x: _lift(x).log(),
    np.sqrt: lambda x: _lift(x).sqrt(),
    np.absolute: lambda x: _lift(x).abs(),
    np.tanh: lambda x: _lift(x).tanh(),
    np.sin: lambda x: _lift(x).sin(),
    np.cos: lambda x: _lift(x).cos(),
    np.maximum: maximum,
    np.minimum: minimum,
    np.square: lambda x: _lift(x) * _lift(x),
}

# Piecewise-constant functions have zero gradient almost everywhere: they return plain arrays.
_PIECEWISE_CONSTANT_UFUNCS = frozenset(
    "sign floor ceil rint trunc isfinite isnan isinf signbit greater greater_equal less "
    "less_equal equal not_equal logical_and logical_or logical_not logical_xor".split()
)

_FUNCTIONS: dict[Callable, Callable[..., Any]] = {
    np.sum: _reduction("sum"),
    np.mean: _reduction("mean"),
    np.max: _reduction("max"),
    np.amax: _reduction("max"),
    np.min: _reduction("min"),
    np.amin: _reduction("min"),
    np.reshape: lambda a, shape=None, **kw: _lift(a).reshape(kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: _lift(a).transpose(axes),
    np.swapaxes: lambda a, axis1, axis2: _lift(a).swapaxes(axis1, axis2),
    np.expand_dims: lambda a, axis: _lift(a).expand_dims(axis),
    np.squeeze: lambda a, axis=None: _lift(a).squeeze(axis),
    np.broadcast_to: lambda a, shape, subok=False: _lift(a).broadcast_to(shape),
    np.concatenate: lambda values, axis=0, **kw: concatenate(values, axis),
    np.stack: lambda values, axis=0, **kw: stack(values, axis),
    np.where: lambda condition, *ab: where(condition, *ab) if ab else np.where(_raw(condition)),
    np.clip: lambda a, a_min=None, a_max=None, **kw: _lift(a).clip(
        kw.get("min", a_min), kw.get("max", a_max)
    ),
    np.shape: lambda a: _lift(a).shape,
    np.ndim: lambda a: _lift(a).ndim,
    np.size: lambda a, axis=None: _lift(a).size if axis is None else _lift(a).shape[axis],
    np.dot: lambda a, b, out=None: matmul(a, b) if _lift(a).ndim and _lift(b).ndim else _lift(a) * _lift(b),
}


# --------------------------------------------------------------------------- backward


def _consumer_counts(root: Value) -> dict[Value, int]:
    """For every Value behind ``root`` that requires grad: how many graph edges lead out of it.

    The backward walk hands a Value its gradient only once all of its consumers have passed
    theirs on (Kahn's order, the consumer counting HIPS autograd does), so no order list is
    kept and a processed node can go as soon as nothing else holds it. An explicit stack
    instead of recursion keeps a 1,000,000-op chain within reach.

    The dict is keyed by the Values themselves: identity hashing (``Value.__hash__`` is
    ``object.__hash__``, so ``__eq__`` is never consulted between distinct live keys) costs
    half of ``id()`` keys, which allocate an int per lookup. The walk removes each entry as
    its count reaches zero, so the dict never keeps a processed node alive.
    """
    counts: dict[Value, int] = {}
    stack = [root]
    pop, push, seen = stack.pop, stack.append, counts.get
    while stack:
        recorded = pop()._node
        if recorded is None:
            continue
        parents = recorded[1]
        if type(parents) is _Released:
            raise RuntimeError(
                f"backward: the graph through this {recorded[0].name} was already released by an "
                "earlier backward(); pass retain_graph=True to that first backward() to go through "
                "the graph twice"
            )
        for parent in parents:
            if parent.requires_grad:
                count = seen(parent)
                if count is None:
                    counts[parent] = 1
                    push(parent)
                else:
                    counts[parent] = count + 1
    return counts


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    if gradient is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: the gradient can be implied only for a scalar, this Value has shape "
                f"{root.shape}; pass gradient= with that shape (or reduce it, e.g. .sum())"
            )
        data = root._data
        seed = 1.0 if type(data) is float else np.ones_like(data)
    elif isinstance(gradient, Value) and create_graph and gradient.requires_grad:
        # Kept as it is, graph and all, so that the result can be differentiated by it too.
        if gradient.shape != root.shape:
            raise ValueError(
                f"backward: gradient has shape {gradient.shape} but the Value has shape {root.shape}"
            )
        if gradient.dtype != root.dtype:
            raise TypeError(
                f"backward: gradient has dtype {gradient.dtype} but the Value has dtype {root.dtype}; "
                "under create_graph a gradient Value that requires grad is used as it is, "
                "so give it that dtype"
            )
        return gradient
    else:
        seed = _to_data(gradient, None, "gradient")
        if _shape_of(seed) != root.shape:
            raise ValueError(
                f"backward: gradient has shape {_shape_of(seed)} but the Value has shape {root.shape}"
            )
        if type(seed) is not float:
            seed = np.array(seed, dtype=root.dtype)  # a copy: the caller's array never becomes a .grad
        elif type(root._data) is not float:
            seed = np.array(seed, dtype=root.dtype)
    return _make(seed, False, None) if create_graph else seed


def _fit(grad: Any, parent: Value, op: Op, index: int) -> Any:
    """Bring one vjp result to its input's shape and dtype (undoing broadcasting), or say which op erred."""
    data = parent._data
    kind = type(grad)
    if kind is np.ndarray:
        if type(data) is not float and grad.shape == data.shape and grad.dtype == data.dtype:
            return grad  # the common case: nothing to undo
    elif kind is float and type(data) is float:
        return grad
    if type(data) is float:
        if type(grad) is float:
            return grad
        if np.ndim(grad):
            grad = sum_to_shape(grad, ())
        return float(grad)
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad, dtype=data.dtype)
    if grad.shape != data.shape:
        try:
            grad = sum_to_shape(grad, data.shape)
        except ValueError:
            raise RuntimeError(
                f"{op.name}: the vjp for input {index} returned shape {grad.shape}, but the input has "
                f"shape {data.shape}"
            ) from None
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    return grad


def _fit_value(grad: Any, parent: Value, op: Op, index: int) -> Value:
    grad = _lift(grad)
    if grad.shape != parent.shape:
        try:
            grad = sum_to_shape(grad, parent.shape)
        except ValueError:
            raise RuntimeError(
                f"{op.name}: the vjp for input {index} returned shape {grad.shape}, but the input has "
                f"shape {parent.shape}"
            ) from None
    return grad


def _call_vjp(vjp: Callable, op: Op, index: int, g: Any, out: Any, args: list, params: dict | None) -> Any:
    try:
        if op.variadic:
            return vjp(index, g, out, *args, **params) if params else vjp(index, g, out, *args)
        return vjp(g, out, *args, **params) if params else vjp(g, out, *args)
    except AnomalyError:
        raise  # an op inside a create_graph vjp went non-finite: not a Python-float quirk to redo
    except ArithmeticError as error:
        if any(type(x) is float for x in (g, out, *args)):
            # Python floats raise on 1/0 where numpy gives inf: redo the step once with numpy scalars.
            return _call_vjp(vjp, op, index, _np_float(g), _np_float(out), list(map(_np_float, args)), params)
        failure: Exception = error
    except (TypeError, ValueError, IndexError) as error:
        failure = error
    shapes = ", ".join(str(np.shape(a)) for a in args)
    raise RuntimeError(
        f"{op.name}: computing the gradient for input {index} failed with {type(failure).__name__}: "
        f"{failure} (input shapes {shapes}, params {params or {}})"
    ) from failure


def _np_float(x: Any) -> Any:
    return np.float64(x) if type(x) is float else x


def _run_backward(
    root: Value,
    gradient: Any,
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Value] | None,
) -> list | None:
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this Value does not require grad (it was computed under no_grad, or from "
            "inputs that all have requires_grad=False)"
        )
    seed = _seed(root, gradient, create_graph)
    if STATE.anomaly_enabled and not np.isfinite(_raw(seed)).all():
        raise AnomalyError(f"backward: the gradient passed in holds nan or inf (shape {root.shape})")
    counts = _consumer_counts(root)
    # Only the frontier is held: Values whose consumers have all passed their gradient on.
    ready = [root]
    pending: dict[Value, Any] = {root: seed}  # keyed by identity, as the counts are
    wanted = None if targets is None else {id(t): i for i, t in enumerate(targets)}
    found: list = [None] * (0 if targets is None else len(targets))
    # Leaves whose pending gradient is an array some vjp passed through unchanged (add's ``g``):
    # it is also the consumer's .grad (or a sibling's), so such a leaf gets its own copy.
    shared: set[Value] = set()
    anomaly = STATE.anomaly_enabled
    plain = not anomaly and not create_graph
    fit = _fit_value if create_graph else _fit
    ref = weakref.ref
    # Grad mode is switched by hand, not by the context manager: this runs once per backward
    # but sits on the hot path of small graphs.
    state = STATE
    saved_grad_enabled = state.grad_enabled
    state.grad_enabled = create_graph
    # The walk makes no reference cycles (what it drops, reference counting frees), yet each
    # release allocates, and on a big graph every allocation-triggered collection would scan the
    # whole live graph again. So the cyclic collector waits until the walk is done (big graphs
    # only; it is resumed only if it was running).
    pause_collector = len(counts) > _PAUSE_COLLECTOR_ABOVE and gc.isenabled()
    if pause_collector:
        gc.disable()
    # Under anomaly mode the AnomalyError says what numpy's overflow warnings would, and better.
    saved_errstate = np.seterr(all="ignore") if anomaly else None
    try:
        while ready:
            node = ready.pop()
            g = pending.pop(node)
            recorded = node._node
            if wanted is None:
                previous = node._grad
                if previous is not None:
                    node._grad = previous + g
                else:
                    # A leaf's .grad is its own writeable array, never a view of another gradient.
                    if recorded is None and type(g) is np.ndarray and (g.base is not None or node in shared):
                        g = g.copy()
                    node._grad = g
            elif id(node) in wanted:
                found[wanted[id(node)]] = g
            if recorded is None:
                continue
            op, parents, params = recorded
            if create_graph:
                args, out = parents, node
            else:
                args, out = list(map(_DATA, parents)), node._data
            vjps = op.vjps
            variadic = op.variadic
            for index, parent in enumerate(parents):
                if not parent.requires_grad:
                    continue
                vjp = vjps[0] if variadic else vjps[index]
                if plain and not variadic:
                    # The common case spelled out: no frames for _call_vjp and _fit unless needed.
                    try:
                        grad = vjp(g, out, *args, **params) if params else vjp(g, out, *args)
                    except (ArithmeticError, TypeError, ValueError, IndexError):
                        # Again through _call_vjp: it redoes float quirks in numpy, or names the op.
                        grad = _call_vjp(vjp, op, index, g, out, args, params)
                    data = parent._data
                    kind = type(grad)
                    if kind is np.ndarray:
                        if type(data) is float or grad.shape != data.shape or grad.dtype != data.dtype:
                            grad = _fit(grad, parent, op, index)
                    elif kind is not float or type(data) is not float:
                        grad = _fit(grad, parent, op, index)
                elif not anomaly:
                    grad = fit(_call_vjp(vjp, op, index, g, out, args, params), parent, op, index)
                else:
                    phase = f"backward, in the gradient for input {index}"
                    try:
                        grad = fit(_call_vjp(vjp, op, index, g, out, args, params), parent, op, index)
                    except AnomalyError:
                        # Under create_graph an op inside this vjp flagged itself; blame the op whose
                        # gradient it is when that gradient is non-finite, else keep the inner report.
                        with set_grad_enabled(False), detect_anomaly(False):
                            grad = fit(_call_vjp(vjp, op, index, g, out, args, params), parent, op, index)
                        _check_finite(op, grad, parents, phase, node)
                        raise
                    _check_finite(op, grad, parents, phase, node)
                previous = pending.get(parent)
                if previous is None:
                    pending[parent] = grad
                    if grad is g:
                        shared.add(parent)
                else:
                    pending[parent] = previous + grad  # a new array: shared with nobody
                left = counts[parent] - 1
                if left:
                    counts[parent] = left
                else:
                    del counts[parent]
                    ready.append(parent)
            if not retain_graph:
                if op.saves:
                    params = {key: value for key, value in params.items() if key != "saved"}
                node._node = (op, _Released(map(ref, parents)), params)
    finally:
        state.grad_enabled = saved_grad_enabled
        if saved_errstate is not None:
            np.seterr(**saved_errstate)
        if pause_collector:
            gc.enable()
    return found


def gradients(
    output: Value,
    inputs: Sequence[Value] | Value,
    gradient: ArrayLike | None = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> list[Any]:
    """The gradients of ``output`` with respect to ``inputs``, without touching any ``.grad``.

    Like ``torch.autograd.grad``: returns one gradient per input (zeros for an input the output
    does not depend on). With ``create_graph=True`` they are Values that can be differentiated
    again, which gives Hessian-vector products.

    >>> from autonet import Value, gradients
    >>> x = Value(3.0)
    >>> [g.item() for g in gradients(x * x, [x])]
    [6.0]
    """
    single = isinstance(inputs, Value)
    targets = [inputs] if single else list(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    found = _run_backward(output, gradient, retain, create_graph, targets)
    result = []
    for target, g in zip(targets, found, strict=True):
        if g is None:
            g = np.zeros(target.shape, dtype=target.dtype)
            g = _make(_normalize(g), False, None) if create_graph else g
        elif not create_graph:
            # As for .grad: each result is its own writeable array, not a view or a shared object.
            if type(g) is float or g.base is not None or not g.flags.writeable or any(g is r for r in result):
                g = np.array(g)
        result.append(g)
    return result


def grad(fn: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The gradient of a scalar function, as a function (as in JAX and HIPS autograd).

    Numbers and arrays in give arrays out; Values in give Values out that stay in the graph,
    so ``grad`` nests for higher derivatives.

    >>> from autonet import grad
    >>> float(grad(lambda x: x ** 3)(2.0))
    12.0
    >>> float(grad(grad(lambda x: x ** 3))(2.0))
    12.0
    """
    many = isinstance(argnums, tuple)
    picks = argnums if many else (argnums,)

    def gradient_of(*args: Any) -> Any:
        nested = any(isinstance(a, Value) for a in args)
        values = [a if isinstance(a, Value) else Value(a) for a in args]
        with set_grad_enabled(True):
            out = _lift(fn(*values))
        if not out.requires_grad:
            found = [np.zeros(values[i].shape, dtype=values[i].dtype) for i in picks]
        else:
            if out.size != 1:
                raise ValueError(f"grad: the function must return a scalar, it returned shape {out.shape}")
            found = gradients(out, [values[i] for i in picks], create_graph=nested)
        return tuple(found) if many else found[0]

    return gradient_of


# --------------------------------------------------------------------------- composites


def _register_composites() -> None:
    from .ops.registry import REAL, Edge, Op

    empty, inf, nan = np.zeros(0), float("inf"), float("nan")

    def composite(name: str, kind: str, fn: Callable[..., Value], edges: tuple, **fields: Any) -> None:
        doc = f"Composite of other ops: {name}."
        register(Op(name, None, (), (REAL,), kind=kind, composite=fn, doc=doc, edges=edges, **fields))

    composite(
        "var",
        "reduction",
        lambda x, axis=None, keepdims=False, ddof=0: x.var(axis=axis, keepdims=keepdims, ddof=ddof),
        (
            Edge("a constant slice", ([2.0, 2.0],), grads=([0.0, 0.0],), value=0.0),
            Edge(
                "ddof >= count",
                ([1.0, 2.0],),
                grads=([nan, nan],),
                params={"ddof": 3},
                value=inf,
                torch=False,
                note="the value is numpy's; with no degrees of freedom the gradient is undefined "
                "(torch gives +inf to every element)",
            ),
            Edge(
                "ddof >= count, a constant slice",
                ([1.0, 1.0],),
                grads=([nan, nan],),
                params={"ddof": 2},
                value=nan,
            ),
            Edge("size-0 input, ddof = 1", (empty,), grads=(empty,), params={"ddof": 1}, value=nan),
            Edge("x = +-1e300 (overflow)", ([1e300, -1e300],), grads=([1e300, -1e300],), value=inf),
            Edge("0-d input", (2.0,), grads=(0.0,), value=0.0),
        ),
    )
    composite(
        "std",
        "reduction",
        lambda x, axis=None, keepdims=False, ddof=0: x.std(axis=axis, keepdims=keepdims, ddof=ddof),
        (
            Edge("a constant slice", ([2.0, 2.0],), grads=([0.0, 0.0],), value=0.0),
            Edge(
                "a constant row among others",
                ([[2.0, 2.0], [1.0, 3.0]],),
                grads=([[0.0, 0.0], [-0.5, 0.5]],),
                params={"axis": -1},
                value=[0.0, 1.0],
            ),
            Edge("ddof >= count", ([1.0, 2.0],), grads=([nan, nan],), params={"ddof": 3}, value=inf),
            Edge("size-0 input", (empty,), grads=(empty,), value=nan),
            Edge("x = +-1e300 (overflow)", ([1e300, -1e300],), grads=([0.0, 0.0],), value=inf),
            Edge("0-d input", (2.0,), grads=(0.0,), value=0.0),
        ),
        # A constant slice is a kink, as |x| at 0 (its edge above): the interior cases keep two or
        # more distinct values per reduced slice, where central differences measure something.
        smooth=False,
        distinct=True,
        extra={"min_reduced_size": 2},
    )
    huge = ([1e300, -1e300],)
    composite(
        "gelu",
        "elementwise",
        lambda x: x.gelu(),
        (
            Edge("x = +-1e300", huge, grads=([1.0, 0.0],), value=[1e300, 0.0]),
            Edge("x = 0", (0.0,), grads=(0.5,), value=0.0),
            Edge("size-0 input", (empty,), grads=(empty,), value=empty),
        ),
    )
    composite(
        "gelu_tanh",
        "elementwise",
        lambda x: x.gelu(approximate="tanh"),
        (
            Edge(
                "x = +-1e300",
                huge,
                grads=([1.0, 0.0],),
                value=[1e300, 0.0],
                torch=False,
                note="torch gives nan: its x**3 overflows, and the inf meets tanh's exact 0 slope",
            ),
            Edge("x = 0", (0.0,), grads=(0.5,), value=0.0),
            Edge("size-0 input", (empty,), grads=(empty,), value=empty),
        ),
    )
    composite(
        "flatten",
        "elementwise",
        lambda x: x.flatten(),
        (
            Edge("size-0 input", (np.zeros((2, 0)),), grads=(np.zeros((2, 0)),), value=empty),
            Edge("0-d input", (2.0,), grads=(1.0,), value=[2.0]),
        ),
    )
    composite(
        "squeeze",
        "squeeze",
        lambda x, axis=None: x.squeeze(axis),
        (
            Edge("size-0 input", (np.zeros((1, 0)),), grads=(np.zeros((1, 0)),), value=empty),
            Edge("0-d input", (2.0,), grads=(1.0,), value=2.0),
        ),
    )
    composite(
        "expand_dims",
        "expand_dims",
        lambda x, axis: x.expand_dims(axis),
        (
            Edge("size-0 input", (empty,), grads=(empty,), params={"axis": 0}, value=np.zeros((1, 0))),
            Edge("0-d input", (2.0,), grads=(1.0,), params={"axis": 0}, value=[2.0]),
        ),
    )
    composite(
        "swapaxes",
        "swapaxes",
        lambda x, axis1, axis2: x.swapaxes(axis1, axis2),
        (
            Edge(
                "size-0 input",
                (np.zeros((0, 2)),),
                grads=(np.zeros((0, 2)),),
                params={"axis1": 0, "axis2": 1},
                value=np.zeros((2, 0)),
            ),
            Edge(
                "0-d input",
                (2.0,),
                params={"axis1": 0, "axis2": 0},
                raises=ValueError,
                torch=False,
                note="a 0-d input has no axis 0 (numpy's rule); torch lets it swap 0 with itself",
            ),
        ),
    )
    composite(
        "stack",
        "stack",
        lambda *xs, axis=0: stack(xs, axis=axis),
        (
            Edge("size-0 inputs", (empty, empty), grads=(empty, empty), value=np.zeros((2, 0))),
            Edge("0-d inputs", (2.0, 3.0), grads=(1.0, 1.0), value=[2.0, 3.0]),
        ),
        variadic=True,
    )


_register_composites()


def call_op(op: Op | str, *inputs: ArrayLike, **params: Any) -> Value:
    """Apply any registered op by name or entry to Values (how tests and tools drive the registry).

    Composite entries run their definition; primitive entries run through the engine as any
    method would (axis is normalised for reductions).

    >>> from autonet import Value
    >>> call_op("mul", Value(2.0), Value(3.0)).item()
    6.0
    """
    entry = _ops.REGISTRY[op] if isinstance(op, str) else op
    name = entry.name
    if entry.arity >= 0 and len(inputs) != entry.arity:
        raise TypeError(f"{name}: takes {entry.arity} input(s), got {len(inputs)}")
    values = []
    for index, x in enumerate(inputs):
        try:
            values.append(_lift(x))
        except TypeError as error:
            raise TypeError(f"{name}: input {index}: {error}") from None
    if entry.composite is not None:
        fn = entry.composite
    elif entry.kind == "reduction":
        fn = lambda x, axis=None, keepdims=False: x._reduce(entry, axis, keepdims)
    else:
        fn = _METHOD_BY_OP.get(name)
    if fn is None:
        return _apply(entry, tuple(values), params or None)
    try:
        inspect.signature(fn).bind(*values, **params)
    except TypeError as error:
        # Unknown or missing parameters: say so with the op's name, not a lambda's.
        raise TypeError(f"{name}: {error} (parameters given: {sorted(params)})") from None
    return fn(*values, **params)


_METHOD_BY_OP: dict[str, Callable[..., Value]] = {
    "matmul": matmul,
    "where": lambda a, b, condition: where(condition, a, b),
    "concatenate": lambda *xs, axis=0: concatenate(xs, axis=axis),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, axes=None: x.transpose(axes),
    "broadcast_to": lambda x, shape: x.broadcast_to(shape),
    "getitem": lambda x, index: x[index],
    "softmax": lambda x, axis=-1: x.softmax(axis),
    "log_softmax": lambda x, axis=-1: x.log_softmax(axis),
    "clip": lambda x, low=None, high=None: x.clip(low, high),
    "leaky_relu": lambda x, negative_slope=0.01: x.leaky_relu(negative_slope),
}
