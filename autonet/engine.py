"""The engine: ``Value``, the graph it records, and the reverse-mode walk over that graph.

A ``Value`` holds a Python float (the lean path for float64 scalars) or a numpy array. Every op
goes through ``_apply``, which runs the registered forward and, when grad mode is on and an
input requires grad, remembers ``(op, inputs, params)`` on the result. ``backward()`` orders the
graph with an explicit stack (no recursion, so depth is bounded by memory only), calls each
op's vjps, undoes broadcasting in one place, and releases the graph as it goes unless
``retain_graph`` asks to keep it.

numpy meets a Value in one way: every ufunc and numpy function it reaches is an op (it returns a
Value in the graph) or a refusal (a TypeError naming the function and the autonet spelling to use).
Only functions whose results carry no gradient run on the plain data: metadata, booleans, integer
indices, text, and the piecewise-constant ufuncs (sign, floor ...). The rule holds whatever
``requires_grad`` and grad mode say; ``np.asarray(value)`` and ``value.data`` still convert on purpose.
"""

from __future__ import annotations

import copy
import gc
import inspect
import linecache
import math
import operator
import os
import sys
import threading
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
    "einsum",
    "grad",
    "gradients",
    "maximum",
    "minimum",
    "outer",
    "stack",
    "stored_gradient",
    "tensordot",
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


def _to_data(
    data: Any, dtype: Any = None, what: str = "Value", *, copy: bool = True, like: np.dtype | None = None
) -> float | np.ndarray:
    """Convert user data to what a Value stores: a float for float64 scalars, else an array.

    With ``copy`` (the default) an array is always the Value's own, never the caller's: a Value
    owns its data as ``np.array`` does. ``like`` is the float dtype of the other operand of an op:
    integer and bool data then take numpy's promotion with it (a bool mask times a float32 Value
    stays float32), where on their own they become float64.
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
        promoted = np.result_type(like, array.dtype) if like is not None else _F64
        array = array.astype(promoted if promoted.kind == "f" else _F64)
    if array.ndim == 0 and array.dtype == _F64:
        return float(array)
    if copy and array is data:
        array = array.copy()
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


def _make(data: Any, requires_grad: bool, node: tuple | None, shared: bool = False) -> Value:
    """A new Value around ``data``. ``shared`` says that someone else may hold the same array (a
    caller's, or another Value's): recording it then locks it, so that nobody writes into numbers
    a graph still needs."""
    value = _new(Value)
    value._data = data
    value._grad = None
    value.requires_grad = requires_grad
    value._node = node
    value._held = 0
    value._shared = shared
    return value


def _lift(x: Any, like: np.dtype | None = None) -> Value:
    """Treat a plain number or array as a constant Value (it needs no gradient); integer and bool
    arrays take numpy's promotion with ``like``, the dtype of the Value they meet."""
    if isinstance(x, Value):
        return x
    return _make(_to_data(x, like=like), False, None)


def _shape_of(data: Any) -> tuple[int, ...]:
    return () if type(data) is float else data.shape


# --------------------------------------------------------------------------- applying ops


def _forward(op: Op, datas: Sequence[Any], params: dict | None) -> Any:
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
    datas = tuple(map(_DATA, inputs))
    if STATE.anomaly_enabled:
        # The AnomalyError below says what numpy's overflow warning would, and better.
        with np.errstate(all="ignore"):
            out = _forward(op, datas, params)
    else:
        out = _forward(op, datas, params)
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
    result._shared = False
    if state.grad_enabled:
        for v in inputs:
            if v.requires_grad:
                for u in inputs:  # _hold, spelled out for the same reason
                    if type(u._data) is not float:
                        if u._shared:
                            u._data.setflags(write=False)
                        u._held += 1
                result.requires_grad = True
                result._held = 1
                if params:
                    params = _frozen_params(params)
                result._node = (op, inputs, params, datas, out)
                if state.anomaly_enabled:
                    result._site = _user_site()
                return result
    result.requires_grad = False
    result._held = 0
    result._node = None
    return result


def _frozen(part: Any) -> Any:
    """An array argument as the graph keeps it: a read-only array of its own, so that a caller
    who changes their mask, labels or index array afterwards cannot change what backward uses."""
    if type(part) is np.ndarray:
        if part.flags.writeable or part.base is not None:
            part = part.copy()
            part.flags.writeable = False
        return part
    if type(part) is tuple and any(type(p) is np.ndarray for p in part):
        return tuple(map(_frozen, part))
    return part


def _frozen_params(params: dict) -> dict:
    """``params`` with every array argument frozen (see ``_frozen``); what a forward saved for
    its vjps is its own already."""
    for key, value in params.items():
        kind = type(value)
        if (kind is np.ndarray or kind is tuple) and key != "saved" and _frozen(value) is not value:
            return {k: v if k == "saved" else _frozen(v) for k, v in params.items()}
    return params


def _refcount_alone() -> int:
    # What sys.getrefcount reports for a Value's data array that nothing else refers to, measured
    # with the very expression ``Value._private`` uses, so it holds on any Python version.
    probe = _make(np.empty(1), False, None)
    return sys.getrefcount(probe._data)


def _hold(inputs: tuple[Value, ...], datas: tuple[Any, ...]) -> None:
    """A graph now keeps the arrays ``datas`` of ``inputs`` for its backward: count it on each
    Value (so its own in-place updates copy first), and lock an array someone else may also
    hold, so that no write from outside can change numbers the forward used. Floats are
    immutable and need neither."""
    for v, d in zip(inputs, datas, strict=True):
        if type(d) is not float:
            if v._shared:
                _lock(d)
            v._held += 1


def _lock(data: np.ndarray) -> None:
    # Only a shared Value's array is ever locked, and it was writeable when it became the data
    # (see Value.from_numpy): so for a shared Value, read-only means locked here.
    data.setflags(write=False)


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

    # _held counts the graph records that keep the current data array for a backward, and
    # _shared says that someone outside may hold that array too; both exist on every Value
    # whose data is an array (a float is immutable and needs neither).
    __slots__ = (
        "__weakref__",
        "_data",
        "_grad",
        "_held",
        "_label",
        "_node",
        "_scope",
        "_shared",
        "_site",
        "requires_grad",
    )

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
        self._held = 0
        self._shared = False
        if label:
            self._label = str(label)

    @classmethod
    def from_numpy(cls, array: np.ndarray, label: str = "", *, requires_grad: bool = True) -> Value:
        """A Value that shares ``array``'s memory instead of copying it (``Value(array)`` copies).

        Writing into ``array`` changes the Value, and the Value's in-place updates (an optimizer
        step) change ``array``. While a recorded graph needs the numbers for a backward, the array
        is read-only, so a write from outside fails loudly instead of changing them under the
        graph. Writeable float arrays are shared as they are; integer and bool arrays are
        converted to float64 and read-only arrays copied, so those are not shared.

        >>> import numpy as np
        >>> from autonet import Value
        >>> weights = np.array([1.0, 2.0])
        >>> w = Value.from_numpy(weights)
        >>> weights[0] = 5.0
        >>> w.tolist()
        [5.0, 2.0]
        """
        if not isinstance(array, np.ndarray):
            raise TypeError(f"Value.from_numpy: expected a numpy array, got {type(array).__name__}")
        data = _to_data(array, copy=False)
        shared = data is array and array.flags.writeable  # a read-only array can only be copied
        value = _make(data if shared else np.array(data), bool(requires_grad), None, shared=shared)
        if label:
            value._label = str(label)
        return value

    # ----------------------------------------------------------------- data and grad

    @property
    def data(self) -> np.ndarray:
        """The values as a numpy array (0-d for a scalar) that you may change in place.

        The array is this Value's own. When a recorded graph still needs the current numbers for
        a backward, the Value first moves to a fresh copy, so writing into what ``data`` returns
        never changes what a graph recorded: the backward uses exactly what its forward saw.
        Assigning (``v.data = new``, or ``v.data -= step``) replaces the values.
        """
        return self._expose()

    @data.setter
    def data(self, new: ArrayLike) -> None:
        if new is self._data:
            # ``v.data -= step`` updated the array that ``data`` handed out: it is already the data.
            if type(new) is np.ndarray and new.ndim == 0 and new.dtype == _F64:
                self._data = float(new)  # back to the lean scalar path
            return
        converted = _to_data(new, copy=False)
        shared = converted is new
        if shared and not converted.flags.writeable:
            converted, shared = converted.copy(), False  # a shared array must be ours to lock
        self._data = converted
        self._held = 0
        self._shared = shared

    def _expose(self) -> np.ndarray:
        data = self._data
        if type(data) is float:
            # A 0-d array kept as the data, so that writing into it changes this Value.
            data = self._data = np.array(data)
            self._held = 0
        elif (self._held or not data.flags.writeable) and not self._private():
            data = self._data = data.copy()
            self._held = 0
        self._shared = True
        return data

    def _private(self) -> bool:
        """Whether this Value may write into its data array in place: no live graph record keeps
        it. A record that died without a backward leaves its count behind, so a count is trusted
        only while something besides this Value still refers to the array; a lock the engine set
        on a shared array (see ``_hold``) is lifted once no record keeps it."""
        data = self._data
        writeable = data.flags.writeable
        if not self._held and writeable:
            return True
        if self._held and sys.getrefcount(self._data) > _ALONE:
            return False
        self._held = 0
        if not writeable:
            if not self._shared:
                return False  # read-only for its own reasons (a broadcast view, say)
            data.setflags(write=True)  # the lock _hold put on a shared array
        return True

    def numpy(self) -> np.ndarray:
        """The data as a numpy array: the same array as ``data`` (0-d for a scalar), which you
        may change in place.

        >>> from autonet import Value
        >>> v = Value(2.0)
        >>> v.numpy()[...] = 3.0
        >>> v.item()
        3.0
        """
        return self._expose()

    @property
    def grad(self) -> Any:
        """The gradient, same shape and dtype as ``data``; zeros until a backward reaches this Value.

        It is this Value's own writeable array (0-d for a scalar), never shared with another
        Value, so clipping it in place before an optimizer step works. Under
        ``backward(create_graph=True)`` it is itself a ``Value`` that can be differentiated.
        Assign ``None`` (or call ``zero_grad()``) to reset it.
        """
        g = self._grad
        if g is None:
            data = self._data
            return np.array(0.0) if type(data) is float else np.zeros_like(data)
        if type(g) is float:
            g = self._grad = np.array(g)  # kept, so that changing it in place changes the gradient
        elif type(g) is np.ndarray and (g.base is not None or not g.flags.writeable):
            g = self._grad = g.copy()  # an intermediate's gradient may be stored as a view
        return g

    @grad.setter
    def grad(self, new: Any) -> None:
        if new is None or isinstance(new, Value):
            self._grad = new
            return
        given = np.asarray(new) if isinstance(new, np.ndarray) else None
        new = _to_data(new, None, "grad")
        if _shape_of(new) != self.shape:
            raise ValueError(f"grad: shape {_shape_of(new)} does not match the Value's shape {self.shape}")
        dtype = self.dtype
        if given is not None and given.dtype.kind == "f" and given.dtype != dtype:
            raise TypeError(
                f"grad: an array of dtype {given.dtype} cannot be the gradient of a {dtype} Value; "
                f"convert it first, e.g. grad.astype(np.{dtype})"
            )
        if type(new) is not float and new.dtype != dtype:
            new = new.astype(dtype)  # numbers, lists and integer arrays take the Value's dtype
        self._grad = new

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (same as ``v.grad = None``)."""
        self._grad = None

    # ----------------------------------------------------------------- in-place updates

    def add_(self, other: ArrayLike, alpha: float = 1.0) -> Value:
        """Add ``alpha * other`` to the data in place, recording nothing (as PyTorch's ``add_``
        under ``no_grad``); returns self. This is how optimizers update parameters.

        When a recorded graph still needs the current numbers, the new data goes into a fresh
        array instead, so that backward uses what its forward saw.

        >>> from autonet import Value
        >>> w = Value([1.0, 2.0])
        >>> w.add_([1.0, 1.0], alpha=-0.5).tolist()
        [0.5, 1.5]
        """
        data = self._data
        delta = other._data if isinstance(other, Value) else other
        if type(data) is float:
            self._data = data + alpha * float(np.asarray(delta))
            return self
        if alpha == -1.0:
            return self._assign(np.subtract, data, delta)
        if alpha != 1.0:
            delta = np.multiply(delta, alpha, dtype=data.dtype)
        return self._assign(np.add, data, delta)

    def mul_(self, factor: ArrayLike) -> Value:
        """Multiply the data by ``factor`` in place, recording nothing; returns self.

        >>> from autonet import Value
        >>> Value([1.0, -2.0]).mul_(0.5).tolist()
        [0.5, -1.0]
        """
        data = self._data
        factor = factor._data if isinstance(factor, Value) else factor
        if type(data) is float:
            self._data = data * float(np.asarray(factor))
            return self
        return self._assign(np.multiply, data, factor)

    def copy_(self, source: ArrayLike) -> Value:
        """Overwrite the data with ``source`` (same shape, converted to this Value's dtype) in
        place, recording nothing; returns self. Raises ``ValueError`` when the shapes differ.

        >>> from autonet import Value
        >>> Value([1.0, 2.0]).copy_([3.0, 4.0]).tolist()
        [3.0, 4.0]
        """
        array = _to_data(source, self.dtype, "copy_", copy=False)
        if _shape_of(array) != self.shape:
            raise ValueError(
                f"copy_: source shape {_shape_of(array)} does not match the Value's shape {self.shape}"
            )
        data = self._data
        if type(data) is float or type(array) is float:
            self._data = float(array) if type(data) is float else np.array(array, dtype=data.dtype)
            self._held = 0
            return self
        if self._private():
            np.copyto(data, array, casting="unsafe")
        else:
            self._data = np.array(array, dtype=data.dtype)
            self._held = 0
            self._shared = False
        return self

    def _assign(self, ufunc: np.ufunc, data: np.ndarray, operand: Any) -> Value:
        """``data = ufunc(data, operand)``: in place when no graph keeps ``data``, else into a new array."""
        if self._private():
            ufunc(data, operand, out=data, dtype=data.dtype)
        else:
            self._data = ufunc(data, operand, dtype=data.dtype)
            self._held = 0
            self._shared = False
        return self

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

    def tolist(self) -> Any:
        """The data as nested Python lists (a float for a scalar)."""
        return np.asarray(self._data).tolist()

    def detach(self) -> Value:
        """A new leaf that shares this Value's data and needs no gradient.

        Writing into one's ``data`` changes the other, as with PyTorch's ``detach``, but never
        numbers that a recorded graph still needs (see ``data``).

        >>> from autonet import Value
        >>> x = Value([1.0, 2.0])
        >>> d = x.detach()
        >>> d.data[0] = 7.0
        >>> x.tolist(), d.requires_grad
        ([7.0, 2.0], False)
        """
        data = self._data
        twin = _make(data, False, None, shared=type(data) is not float)
        if type(data) is not float:
            twin._held = self._held
            self._shared = True
        return twin

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
        # np.asarray(value) reads: a read-only view of the data (np.array(value) copies). To write
        # into a Value's numbers, use value.data.
        data = self._data
        if copy or type(data) is float or (dtype is not None and np.dtype(dtype) != data.dtype):
            if copy is False:
                raise ValueError("Value.__array__: this needs a copy (a float64 scalar, or a new dtype)")
            return np.array(data, dtype=dtype)
        view = data.view()
        view.flags.writeable = False
        return view

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

    def prod(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Product over ``axis``; the gradient is exact where elements are zero (no division).

        ``Value([2.0, 3.0]).prod().item() == 6.0``
        """
        return self._reduce(_ops.reduce.prod, axis, keepdims)

    def cumsum(self, axis: int | None = None) -> Value:
        """Running sums along ``axis``; ``axis=None`` runs over the flattened Value, as in numpy.

        ``Value([1.0, 2.0, 3.0]).cumsum().tolist() == [1.0, 3.0, 6.0]``
        """
        if axis is not None:
            (axis,) = normalize_axis(_one_axis(axis, "cumsum"), max(self.ndim, 1), "cumsum")
        return _apply(_ops.reduce.cumsum, (self,), {"axis": axis})

    def norm(
        self,
        ord: float | str | None = None,  # noqa: A002 - numpy's name
        axis: int | tuple[int, int] | None = None,
        keepdims: bool = False,
    ) -> Value:
        """``np.linalg.norm``: the 2-norm of all elements by default (Frobenius for a matrix);
        ``ord`` 1, inf or -inf for vectors, ``axis`` an int (vectors) or two ints (matrices).

        The gradient is 0 at the zero vector (PyTorch's choice), and huge or tiny elements do not
        overflow or underflow.  ``Value([3.0, 4.0]).norm().item() == 5.0``
        """
        return _apply(_ops.linalg.norm, (self,), {"ord": ord, "axis": axis, "keepdims": keepdims})

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

    # ----------------------------------------------------------------- copying and pickling

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # The graph behind a result goes flat (a list, inputs first), so pickling a 100,000-op
        # chain recurses no deeper than pickling one node; ops are stored by registry name.
        if self._node is None:
            return _leaf, _leaf_state(self)
        return _rebuilt, (_flat_graph(self),)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        for value in _topological(self):
            if id(value) not in memo:
                memo[id(value)] = _copied(value, memo)
        return memo[id(self)]

    def __copy__(self) -> Value:
        twin = self.detach()
        twin.requires_grad = self.requires_grad
        twin._node = self._node
        twin._grad = self._grad
        if self.label:
            twin._label = self.label
        return twin

    # numpy interplay: every ufunc and numpy function a Value reaches is an op or a refusal (the
    # rule is stated above the dispatch tables, near the end of this module).
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
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
        if ufunc.__name__ in _PIECEWISE_CONSTANT_UFUNCS:
            return getattr(ufunc, method)(*_raw_tree(inputs), **_raw_tree(kwargs))
        if method == "__call__":
            impl = _UFUNCS.get(ufunc)
            if impl is None:
                raise _refusal(name)
            _no_options(ufunc.__name__, **kwargs)
            return impl(*inputs)
        impl = _UFUNC_METHODS.get((ufunc, method))
        if impl is not None:
            return impl(*inputs, **kwargs)
        if method == "outer" and ufunc in _UFUNCS and ufunc.nin == 2 and ufunc.signature is None:
            _no_options(f"{ufunc.__name__}.outer", **kwargs)
            return _ufunc_outer(ufunc, *inputs)
        raise _refusal(name)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        impl = _FUNCTIONS.get(func)
        if impl is not None:
            return impl(*args, **kwargs)
        if func in _PLAIN_RESULT_FUNCTIONS:
            return func(*_raw_tree(args), **_raw_tree(kwargs))
        raise _refusal(_numpy_name(func))


def stored_gradient(value: Value) -> Any:
    """The gradient exactly as backward stored it on ``value``: None before any backward reached
    it, a Python float for a float64 scalar, an array, or a Value under ``create_graph=True``.

    Unlike ``value.grad`` it never makes zeros, a new array or a copy: what optimizers and
    drawings read. A leaf's stored gradient is its own writeable array; an intermediate's may be
    a view of another gradient (``.grad`` returns a copy of its own then).

    >>> from autonet import Value
    >>> from autonet.engine import stored_gradient
    >>> w = Value(2.0)
    >>> stored_gradient(w) is None
    True
    >>> (w * w).backward()
    >>> stored_gradient(w)
    4.0
    """
    return value._grad


# --------------------------------------------------------------------------- copies and pickles


def _topological(root: Value) -> list[Value]:
    """Every Value behind ``root`` (itself included), inputs before the Values made from them;
    an explicit stack, so graph depth costs memory, not recursion. After a release, only the
    inputs still alive are reached."""
    order: list[Value] = []
    seen = {id(root)}
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        value, expanded = stack.pop()
        if expanded:
            order.append(value)
            continue
        stack.append((value, True))
        for parent in value.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, False))
    return order


def _leaf_state(value: Value) -> tuple[Any, ...]:
    return value._data, value._grad, value.requires_grad, value.label


def _leaf(data: Any, grad: Any, requires_grad: bool, label: str) -> Value:
    value = _make(data, requires_grad, None)
    value._grad = grad
    if label:
        value._label = label
    return value


def _flat_graph(root: Value) -> list[Any]:
    """The graph behind ``root`` as a list in topological order: leaves as the Values themselves
    (pickled flat, and once however often they occur), the others as tuples whose inputs point
    back into the list by position."""
    order = _topological(root)
    position = {id(v): i for i, v in enumerate(order)}
    flat: list[Any] = []
    for value in order:
        if value._node is None:
            flat.append(value)
            continue
        op, parents, params, datas, out = value._node
        released = type(parents) is _Released
        inputs = () if released else tuple(position[id(p)] for p in parents)
        flat.append(
            (
                op.name,
                inputs,
                params,
                datas,
                out,
                released,
                _leaf_state(value),
                getattr(value, "_scope", None),
            )
        )
    return flat


def _rebuilt(flat: list[Any]) -> Value:
    """The root of a graph that ``_flat_graph`` laid flat, every Value and record in place."""
    values: list[Value] = []
    for entry in flat:
        if isinstance(entry, Value):
            values.append(entry)
            continue
        name, inputs, params, datas, out, released, state, scope = entry
        value = _leaf(*state)
        op = _ops.REGISTRY[name]
        if released:
            value._node = (op, _Released(), params, None, None)
        else:
            parents = tuple(values[i] for i in inputs)
            value._node = (op, parents, params, datas, out)
            _hold(parents, datas)
            value._held = 1 if value._data is out and type(out) is not float else 0
        if scope is not None:
            value._scope = scope
        values.append(value)
    return values[-1]


def _copied(value: Value, memo: dict[int, Any]) -> Value:
    """A deep copy of one Value whose inputs ``memo`` already holds copies of."""
    twin = _leaf(copy.deepcopy(value._data, memo), None, value.requires_grad, value.label)
    twin._grad = copy.deepcopy(value._grad, memo)
    if value._node is not None:
        op, parents, params, datas, out = value._node
        if type(parents) is _Released:
            twin._node = (op, _Released(), copy.deepcopy(params, memo), None, None)
        else:
            datas = copy.deepcopy(datas, memo)
            twin_parents = tuple(memo[id(p)] for p in parents)
            twin._node = (op, twin_parents, copy.deepcopy(params, memo), datas, copy.deepcopy(out, memo))
            _hold(twin_parents, datas)
    scope = getattr(value, "_scope", None)
    if scope is not None:
        twin._scope = scope
    return twin


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
    """Values replaced by read-only views of their data (for numpy functions that return plain
    results): a numpy function that writes into an argument (an ``out`` passed by position) fails
    loudly instead of changing a Value behind the graph's back."""
    if isinstance(x, Value):
        view = x.data.view()
        view.flags.writeable = False
        return view
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


def _constant(number: float) -> Value:
    """A Python float as a constant Value: the lean path of ``2 * x`` (a float needs no flags)."""
    value = _new(Value)
    value._data = number
    value._grad = None
    value.requires_grad = False
    value._node = None
    return value


def _lift_against(x: Any, other: Any) -> Value:
    """``x`` as an operand of a binary op with ``other``: integer and bool arrays promote with
    ``other``'s dtype as numpy would (a mask times a float32 Value stays float32)."""
    if isinstance(x, Value):
        return x
    kind = type(x)
    if kind is float or kind is int:
        return _make(_to_data(x), False, None)
    return _make(_to_data(x, like=other.dtype if isinstance(other, Value) else None), False, None)


def _binary(op: Op, a: Any, b: Any) -> Value:
    try:
        if type(a) is not Value:
            a = _constant(a) if type(a) is float else _lift_against(a, b)
        if type(b) is not Value:
            b = _constant(b) if type(b) is float else _lift_against(b, a)
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
            result._node = (op, (a, b), None, (data_a, data_b), out)
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
    return _apply(_ops.elementwise.maximum, (_lift_against(a, b), _lift_against(b, a)))


def minimum(a: ArrayLike, b: ArrayLike) -> Value:
    """Element-wise min with broadcasting; ties split the gradient evenly.

    >>> from autonet import minimum
    >>> minimum(1.0, 2.0).item()
    1.0
    """
    return _apply(_ops.elementwise.minimum, (_lift_against(a, b), _lift_against(b, a)))


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
    a_value, b_value = _lift_against(a, b), _lift_against(b, a)
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
#
# Every numpy entry point a Value reaches is an op or a refusal. A ufunc or numpy function that
# autonet has an op for returns a Value in the graph (gradient-checked like any op); one that can
# only give metadata (shape, dtype), booleans, integer indices, text or files runs on the data, as
# its result carries no gradient; every other one raises a TypeError that names it and what to use
# instead. The rule does not depend on requires_grad or no_grad: whether numpy.median works on a
# Value is a property of numpy.median, so code that runs in evaluation also runs in training.
# np.asarray(value) and np.array(value) still convert (through __array__), as value.data does:
# that is how to ask for a plain array on purpose.


def einsum(subscripts: str, *operands: ArrayLike) -> Value:
    """Einstein summation as ``np.einsum``: explicit (``'ij,jk->ik'``) or implicit (``'ij,jk'``)
    subscripts, ``'...'`` allowed, each index at most once per operand (no traces or diagonals).

    Raises ValueError when the subscripts do not fit the operands' shapes.

    >>> from autonet import Value, einsum
    >>> einsum("ij,jk->ik", Value([[1.0, 2.0]]), Value([[3.0], [4.0]])).tolist()
    [[11.0]]
    """
    if not operands:
        raise TypeError("einsum: give the subscripts and at least one operand")
    return _apply(_ops.linalg.einsum, _operands("einsum", operands), {"subscripts": subscripts})


def outer(a: ArrayLike, b: ArrayLike) -> Value:
    """The outer product of ``a`` and ``b``, flattened first as in ``np.outer``: shape ``(a.size, b.size)``.

    >>> from autonet import Value, outer
    >>> outer(Value([1.0, 2.0]), Value([3.0, 4.0, 5.0])).shape
    (2, 3)
    """
    return _apply(_ops.linalg.outer, _operands("outer", (a, b)))


def tensordot(a: ArrayLike, b: ArrayLike, axes: Any = 2) -> Value:
    """Sum of products over axes of ``a`` and ``b``, as ``np.tensordot``: ``axes=k`` pairs the last
    k axes of a with the first k of b; ``axes=([1, 0], [0, 1])`` names them.

    Raises ValueError when paired axes differ in length.

    >>> from autonet import Value, tensordot
    >>> tensordot(Value([[1.0, 2.0], [3.0, 4.0]]), Value([[1.0, 0.0], [0.0, 1.0]])).item()
    5.0
    """
    return _apply(_ops.linalg.tensordot, _operands("tensordot", (a, b)), {"axes": axes})


def _operands(name: str, xs: Sequence[Any]) -> tuple[Value, ...]:
    values = []
    for index, x in enumerate(xs):
        try:
            values.append(_lift(x))
        except TypeError as error:
            raise TypeError(f"{name}: operand {index}: {error}") from None
    return tuple(values)


def _tile(a: ArrayLike, reps: Any) -> Value:
    # np.tile from existing ops: interleave an axis of 1 before each axis, broadcast those to the
    # repetitions and merge each pair, so the whole block repeats (the repetition axis is outer).
    x = _lift(a)
    reps = _int_tuple(reps if np.ndim(reps) else (reps,), "tile")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must not be negative, got {reps}")
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    paired = tuple(side for n in shape for side in (1, n))
    stretched = tuple(side for r, n in zip(reps, shape, strict=True) for side in (r, n))
    tiled = tuple(r * n for r, n in zip(reps, shape, strict=True))
    if math.prod(tiled) * x.dtype.itemsize > sys.maxsize:
        raise ValueError(f"tile: reps {reps} on shape {x.shape} give shape {tiled}, too big for an array")
    try:
        return x.reshape(paired).broadcast_to(stretched).reshape(tiled)
    except MemoryError as error:
        raise MemoryError(f"tile: reps {reps} on shape {x.shape} give shape {tiled}: {error}") from None


def _numpy_name(func: Any) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    if not module.startswith("numpy") or "._" in module:
        module = "numpy"  # a private implementation module: the public name is numpy.<name>
    return f"{module}.{getattr(func, '__name__', func)}"


# What comes closest in autonet, for the functions users reach for most; the others get the default.
_ALTERNATIVES = {
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
    "log1p": "(1 + value).log()",
    "expm1": "value.exp() - 1",
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


def _refusal(name: str) -> TypeError:
    short = name.rsplit(".", 1)[-1]
    plain = "call it on value.data for a plain array (no gradient flows through that)"
    hint = f"use {_ALTERNATIVES[short]}, or {plain}" if short in _ALTERNATIVES else plain
    return TypeError(f"{name} has no autonet op, so its result could not be differentiated; {hint}")


def _no_options(name: str, **options: Any) -> None:
    """numpy options autonet has no op for are refused, never silently ignored."""
    given = [key for key, value in options.items() if value is not None]
    if given:
        listed = ", ".join(f"{key}=" for key in given)
        why = "out= would write outside the graph" if "out" in given else "autonet has no op for it"
        raise TypeError(
            f"numpy.{name} on a Value does not take {listed} ({why}); call it without, or on value.data "
            "for a plain array"
        )


def _reduction(name: str, method: str | None = None, with_dtype: bool = True) -> Callable[..., Value]:
    # numpy's positional order: sum, mean and prod take dtype before out; max and min do not.
    method = method or name

    def reduce(a: Any, axis: Any, keepdims: Any, **options: Any) -> Value:
        _no_options(name, **options)
        return getattr(_lift(a), method)(axis=axis, keepdims=bool(keepdims))

    if with_dtype:
        return lambda a, axis=None, dtype=None, out=None, keepdims=False, **options: reduce(
            a, axis, keepdims, dtype=dtype, out=out, **options
        )
    return lambda a, axis=None, out=None, keepdims=False, **options: reduce(
        a, axis, keepdims, out=out, **options
    )


def _spread(name: str) -> Callable[..., Value]:
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
    ) -> Value:
        _no_options(name, dtype=dtype, out=out, **options)
        if correction is not None:
            if ddof != 0:
                raise ValueError(f"numpy.{name}: give ddof or correction, not both")
            ddof = correction
        return getattr(_lift(a), name)(axis=axis, keepdims=bool(keepdims), ddof=ddof)

    return impl


def _cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Value:
    _no_options("cumsum", dtype=dtype, out=out)
    return _lift(a).cumsum(axis)


def _cumulative_sum(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None, include_initial: bool = False
) -> Value:
    _no_options("cumulative_sum", dtype=dtype, out=out, include_initial=include_initial or None)
    x = _lift(x)
    if axis is None and x.ndim > 1:
        raise ValueError(f"numpy.cumulative_sum: axis must be given for a Value of shape {x.shape}")
    return x.cumsum(axis)


def _einsum_call(*operands: Any, out: Any = None, optimize: Any = False, **options: Any) -> Value:
    # optimize is only a hint on the order of contractions (autonet picks its own); the result is the same.
    _no_options("einsum", out=out, **options)
    if not operands or not isinstance(operands[0], str):
        raise TypeError("numpy.einsum on a Value takes the subscripts first, as a string ('ij,jk->ik')")
    return einsum(operands[0], *operands[1:])


def _outer_call(a: Any, b: Any, out: Any = None) -> Value:
    _no_options("outer", out=out)
    return outer(a, b)


def _dot(a: Any, b: Any, out: Any = None) -> Value:
    _no_options("dot", out=out)
    a, b = _operands("dot", (a, b))
    if not a.ndim or not b.ndim:
        return a * b
    if b.ndim > 2:
        return tensordot(a, b, ([-1], [-2]))  # np.dot pairs the last axis of a with the second-last of b
    return matmul(a, b)


def _inner(a: Any, b: Any) -> Value:
    a, b = _operands("inner", (a, b))
    if not a.ndim or not b.ndim:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def _average(
    a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: Any = False
) -> Any:
    x = _lift(a)
    keepdims = bool(keepdims)
    if weights is None:
        average = x.mean(axis=axis, keepdims=keepdims)
        count = x.size / max(average.size, 1)
        total = _make(_normalize(np.full(average.shape, count, dtype=average.dtype)), False, None)
        return (average, total) if returned else average
    w = _lift(weights)
    if w.shape != x.shape:
        if axis is None:
            raise TypeError(
                f"numpy.average: weights of shape {w.shape} differ from the Value's shape {x.shape}; "
                "give axis"
            )
        if w.ndim != 1:
            raise TypeError(f"numpy.average: weights of shape {w.shape} must be 1-d when the shapes differ")
        (ax,) = normalize_axis(_one_axis(axis, "numpy.average"), x.ndim, "numpy.average")
        if w.shape[0] != x.shape[ax]:
            raise ValueError(
                f"numpy.average: {w.shape[0]} weights for axis {ax} of length {x.shape[ax]} (shape {x.shape})"
            )
        w = w.reshape(w.shape + (1,) * (x.ndim - ax - 1)).broadcast_to(x.shape)
    total = w.sum(axis=axis, keepdims=keepdims)
    if np.any(total.data == 0):
        raise ZeroDivisionError("numpy.average: the weights sum to zero, so they cannot be normalised")
    average = (x * w).sum(axis=axis, keepdims=keepdims) / total
    return (average, total) if returned else average


def _linalg_norm(x: Any, ord: Any = None, axis: Any = None, keepdims: Any = False) -> Value:  # noqa: A002
    return _lift(x).norm(ord, axis, keepdims)


def _vector_norm(x: Any, /, *, axis: Any = None, keepdims: Any = False, ord: Any = 2) -> Value:  # noqa: A002
    x = _lift(x)
    if ord == 2 or isinstance(axis, int):
        return x.norm(None if ord == 2 else ord, axis, keepdims)
    if axis is None:
        result = x.flatten().norm(ord)
        return result.reshape((1,) * x.ndim) if keepdims else result
    raise TypeError(
        f"numpy.linalg.vector_norm: ord={ord!r} over axes {axis!r} has no autonet op; give one axis"
    )


def _matrix_norm(x: Any, /, *, keepdims: Any = False, ord: Any = "fro") -> Value:  # noqa: A002
    return _lift(x).norm(ord, (-2, -1), keepdims)


def _matrix_transpose(x: Any, /) -> Value:
    x = _lift(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return x.swapaxes(-1, -2)


def _linalg_outer(x1: Any, x2: Any, /) -> Value:
    a, b = _operands("numpy.linalg.outer", (x1, x2))
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"numpy.linalg.outer: takes two vectors, got shapes {a.shape} and {b.shape}")
    return outer(a, b)


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Value:
    # copy only says whether numpy may return a view; a Value's reshape is a new node either way.
    if order != "C":
        raise TypeError(f"numpy.reshape on a Value takes order='C' only, got order={order!r}")
    return _lift(a).reshape(newshape if shape is None else shape)


def _ravel(a: Any, order: str = "C") -> Value:
    if order != "C":
        raise TypeError(f"numpy.ravel on a Value takes order='C' only, got order={order!r}")
    return _lift(a).flatten()


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **options: Any) -> Value:
    # numpy 2 also names the bounds min= and max=.
    low, high = options.pop("min", a_min), options.pop("max", a_max)
    _no_options("clip", out=out, **options)
    if isinstance(low, Value) or isinstance(high, Value):
        # Bounds that are Values get their gradient too (where they clip): maximum and minimum
        # give it, with ties split evenly, where the clip op treats its bounds as constants.
        x = _lift(a)
        x = x if low is None else maximum(x, low)
        return x if high is None else minimum(x, high)
    return _lift(a).clip(low, high)


def _joined(name: str, join: Callable[..., Value]) -> Callable[..., Value]:
    def impl(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: Any = None) -> Value:
        # casting only governs out= and dtype=, which are refused.
        _no_options(name, out=out, dtype=dtype)
        return join(arrays, axis)

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


def _ufunc_reduce(method: str) -> Callable[..., Value]:
    # ufunc.reduce runs along axis 0 unless told otherwise, unlike np.sum.
    def impl(
        a: Any, axis: Any = 0, dtype: Any = None, out: Any = None, keepdims: Any = False, **options: Any
    ) -> Value:
        _no_options(f"{method} (as a ufunc reduce)", dtype=dtype, out=out, **options)
        return getattr(_lift(a), method)(axis=axis, keepdims=bool(keepdims))

    return impl


def _add_accumulate(a: Any, axis: Any = 0, dtype: Any = None, out: Any = None) -> Value:
    _no_options("add.accumulate", dtype=dtype, out=out)
    x = _lift(a)
    if x.ndim == 0:
        raise TypeError("numpy.add.accumulate: cannot accumulate a 0-d Value")
    return x.cumsum(axis)


# ufunc methods other than __call__ that are an op; ``outer`` of any binary ufunc above also is.
_UFUNC_METHODS: dict[tuple[np.ufunc, str], Callable[..., Value]] = {
    (np.add, "reduce"): _ufunc_reduce("sum"),
    (np.multiply, "reduce"): _ufunc_reduce("prod"),
    (np.maximum, "reduce"): _ufunc_reduce("max"),
    (np.minimum, "reduce"): _ufunc_reduce("min"),
    (np.add, "accumulate"): _add_accumulate,
}


def _ufunc_outer(ufunc: np.ufunc, a: Any, b: Any) -> Value:
    # ufunc.outer(a, b) has shape a.shape + b.shape: broadcast a against b along new trailing axes.
    a, b = _operands(f"numpy.{ufunc.__name__}.outer", (a, b))
    return _UFUNCS[ufunc](a.reshape(a.shape + (1,) * b.ndim), b)


_FUNCTIONS: dict[Callable, Callable[..., Any]] = {
    np.sum: _reduction("sum"),
    np.mean: _reduction("mean"),
    np.prod: _reduction("prod"),
    np.max: _reduction("max", with_dtype=False),
    np.amax: _reduction("amax", "max", with_dtype=False),
    np.min: _reduction("min", with_dtype=False),
    np.amin: _reduction("amin", "min", with_dtype=False),
    np.var: _spread("var"),
    np.std: _spread("std"),
    np.average: _average,
    np.cumsum: _cumsum,
    np.einsum: _einsum_call,
    np.outer: _outer_call,
    np.tensordot: tensordot,
    np.inner: _inner,
    np.dot: _dot,
    np.tile: _tile,
    np.linalg.norm: _linalg_norm,
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.transpose: lambda a, axes=None: _lift(a).transpose(axes),
    np.swapaxes: lambda a, axis1, axis2: _lift(a).swapaxes(axis1, axis2),
    np.expand_dims: lambda a, axis: _lift(a).expand_dims(axis),
    np.squeeze: lambda a, axis=None: _lift(a).squeeze(axis),
    np.broadcast_to: lambda array, shape, subok=False: _lift(array).broadcast_to(shape),
    np.concatenate: _joined("concatenate", concatenate),
    np.stack: _joined("stack", stack),
    np.where: lambda condition, *ab: where(condition, *ab) if ab else np.where(_raw(condition)),
    np.clip: _clip,
    np.shape: lambda a: _lift(a).shape,
    np.ndim: lambda a: _lift(a).ndim,
    np.size: lambda a, axis=None: _lift(a).size if axis is None else _lift(a).shape[axis],
}
# Names newer numpy releases added for the same ops (the array API standard's among them).
for _module, _name, _impl in [
    (np, "concat", _joined("concat", concatenate)),
    (np, "permute_dims", lambda a, axes=None: _lift(a).transpose(axes)),
    (np, "matrix_transpose", _matrix_transpose),
    (np, "cumulative_sum", _cumulative_sum),
    (np.linalg, "vector_norm", _vector_norm),
    (np.linalg, "matrix_norm", _matrix_norm),
    (np.linalg, "matrix_transpose", _matrix_transpose),
    (np.linalg, "outer", _linalg_outer),
    (np.linalg, "tensordot", lambda x1, x2, /, *, axes=2: tensordot(x1, x2, axes)),
    (np.linalg, "matmul", lambda x1, x2, /: matmul(x1, x2)),
]:
    if hasattr(_module, _name):
        _FUNCTIONS[getattr(_module, _name)] = _impl

# Functions whose result cannot carry a gradient: metadata, booleans, integer indices, text and
# files, and arrays that depend on the shape alone (zeros_like ...). They run on the data.
_PLAIN_RESULT_FUNCTIONS = frozenset(
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


def _fit(grad: Any, data: Any, op: Op, index: int) -> Any:
    """Bring one vjp result to the shape and dtype of the input ``data`` the forward used (undoing
    broadcasting), or say which op erred."""
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


def _fit_value(grad: Any, data: Any, op: Op, index: int) -> Value:
    grad = _lift(grad)
    shape = _shape_of(data)
    if grad.shape != shape:
        try:
            grad = sum_to_shape(grad, shape)
        except ValueError:
            raise RuntimeError(
                f"{op.name}: the vjp for input {index} returned shape {grad.shape}, but the input has "
                f"shape {shape}"
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
    wanted: dict[int, list[int]] | None = None
    if targets is not None:
        wanted = {}
        for i, t in enumerate(targets):
            wanted.setdefault(id(t), []).append(i)  # the same Value asked for twice gets it twice
    found: list = [None] * (0 if targets is None else len(targets))
    # Values whose pending gradient is an array some vjp passed through unchanged (add's ``g``):
    # it is also the consumer's .grad (or a sibling's), so such a Value gets its own copy.
    shared: set[Value] = set()
    anomaly = STATE.anomaly_enabled
    plain = not anomaly and not create_graph
    fit = _fit_value if create_graph else _fit
    ref = weakref.ref
    acquire, release = _GRAD_LOCK.acquire, _GRAD_LOCK.release
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
                if type(g) is np.ndarray and node in shared:
                    # A leaf's .grad (what optimizers read) gets its own array now; an intermediate's
                    # a view, made its own only when someone reads it (Value.grad).
                    g = g.copy() if recorded is None else g.view()
                elif (
                    recorded is None
                    and type(g) is np.ndarray
                    and (g.base is not None or not g.flags.writeable)
                ):
                    g = g.copy()
                # Concurrent backwards may reach one shared leaf: its read-add-write is one step.
                acquire()
                try:
                    total = node._grad
                    if total is None:
                        total = g
                    else:
                        total = total + g
                        if type(total) is np.float64:  # a float64 scalar's .grad read as a 0-d array
                            total = float(total)
                    node._grad = total
                finally:
                    release()
            elif id(node) in wanted:
                for i in wanted[id(node)]:
                    found[i] = g
            if recorded is None:
                continue
            op, parents, params, datas, out = recorded
            if create_graph:
                _check_unchanged(op, parents, datas)
                args, out = parents, node
            else:
                args = datas
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
                    data = datas[index]
                    kind = type(grad)
                    if kind is np.ndarray:
                        if type(data) is float or grad.shape != data.shape or grad.dtype != data.dtype:
                            grad = _fit(grad, data, op, index)
                    elif kind is not float or type(data) is not float:
                        grad = _fit(grad, data, op, index)
                elif not anomaly:
                    grad = fit(_call_vjp(vjp, op, index, g, out, args, params), datas[index], op, index)
                else:
                    phase = f"backward, in the gradient for input {index}"
                    try:
                        grad = fit(_call_vjp(vjp, op, index, g, out, args, params), datas[index], op, index)
                    except AnomalyError:
                        # Under create_graph an op inside this vjp flagged itself; blame the op whose
                        # gradient it is when that gradient is non-finite, else keep the inner report.
                        with set_grad_enabled(False), detect_anomaly(False):
                            grad = fit(
                                _call_vjp(vjp, op, index, g, out, args, params), datas[index], op, index
                            )
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
                # Uncounting the released arrays only saves a later copy (a stale count is found
                # out in Value._private), so a node that kept only floats is not even looked at.
                if type(out) is not float or type(datas[0]) is not float or type(datas[-1]) is not float:
                    _release(node, recorded)
                if op.saves:
                    params = _without_saved(params)
                node._node = (op, _Released(map(ref, parents)), params, None, None)
    finally:
        state.grad_enabled = saved_grad_enabled
        if saved_errstate is not None:
            np.seterr(**saved_errstate)
        if pause_collector:
            gc.enable()
    return found


_GRAD_LOCK = threading.Lock()
_ALONE = _refcount_alone()


def _without_saved(params: dict) -> dict:
    return {key: value for key, value in params.items() if key != "saved"}


def _release(node: Value, recorded: tuple) -> None:
    """The record of ``node`` no longer keeps its arrays: uncount them on the Values that still
    have them as their data (a Value whose data was replaced since is not counting them)."""
    _, parents, _, datas, out = recorded
    for index, data in enumerate(datas):
        if type(data) is not float:
            parent = parents[index]
            if parent._data is data:
                parent._held -= 1
                if not parent._held and parent._shared:
                    data.setflags(write=True)  # the lock _hold put on a shared array
    if type(out) is not float and node._data is out:
        node._held -= 1


def _check_unchanged(op: Op, parents: Sequence[Value], datas: Sequence[Any]) -> None:
    """Under create_graph the vjps run on the input Values themselves, so their numbers must
    still be those the forward used."""
    for index, (parent, data) in enumerate(zip(parents, datas, strict=True)):
        current = parent._data
        # A Value that moved to a copy of its numbers (see ``Value.data``) is unchanged.
        if current is not data and not np.array_equal(current, data, equal_nan=True):
            raise RuntimeError(
                f"backward: input {index} of {op.name} (shape {_shape_of(data)}"
                f"{f', label {parent.label!r}' if parent.label else ''}) was given new data after the op "
                "recorded it; create_graph=True differentiates the Values as they are now, so run the "
                "forward again after changing them"
            )


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

    Each argument position is an input of its own, as in JAX: ``grad(lambda a, b: a * b,
    argnums=(0, 1))(x, x)`` gives the two partial derivatives ``(x, x)`` whether ``x`` is a number
    or one Value passed twice, and ``argnums=(0, 0)`` gives the same derivative twice.

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
        for i in set(picks):
            if values[i] is args[i]:
                values[i] = _position(args[i])
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


def _position(value: Value) -> Value:
    """A Value of its own for one argument position of ``grad``, still connected to ``value`` (a
    same-shape reshape: no copy, the gradient passes straight through)."""
    if not value.requires_grad:
        return Value(value._data, requires_grad=True)
    with set_grad_enabled(True):
        return _apply(_ops.shape.reshape, (value,), {"shape": value.shape})


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
    composite(
        "tile",
        "tile",
        lambda x, reps: _tile(x, reps),
        (
            Edge(
                "a 0 repetition",
                ([1.0, 2.0],),
                grads=([0.0, 0.0],),
                params={"reps": 0},
                value=empty,
                flat=(0,),
            ),
            Edge("size-0 input", (empty,), grads=(empty,), params={"reps": 2}, value=empty),
            Edge("0-d input", (2.0,), grads=(3.0,), params={"reps": 3}, value=[2.0, 2.0, 2.0]),
        ),
        extra={"samples": _tile_samples},
    )


def _tile_samples(rng: np.random.Generator, dtype: Any) -> list:
    # reps shorter than, as long as and longer than the input's dimensions; a 0 repetition; 0-d.
    forms = [((3,), 2), ((2, 3), (2, 1)), ((2,), (2, 1, 3)), ((2, 2), (1, 2, 2)), ((3,), 0), ((), (2,))]
    return [((rng.uniform(-2, 2, shape).astype(dtype),), {"reps": reps}) for shape, reps in forms]


_register_composites()


def call_op(op: Op | str, *inputs: ArrayLike, **params: Any) -> Value:
    """Apply any registered op by name or entry to Values (how tests and tools drive the registry).

    Composite entries run their definition; primitive entries run through the engine as any
    method would (axis is normalised for reductions).

    >>> from autonet import Value
    >>> call_op("mul", Value(2.0), Value(3.0)).item()
    6.0
    """
    if isinstance(op, str):
        entry = _ops.REGISTRY.get(op)
        if entry is None:
            known = ", ".join(sorted(_ops.REGISTRY))
            raise ValueError(f"call_op: no op named {op!r} in the registry; known ops: {known}")
    elif isinstance(op, Op):
        entry = op
    else:
        raise TypeError(f"call_op: expected an op name or a registry Op, got {type(op).__name__}")
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
