"""The engine: ``Value``, the graph it records, and the reverse-mode walk over that graph.

A ``Value`` holds a Python float (the lean path for float64 scalars) or a numpy array of its
own. ``run_op`` runs an op's forward and, when grad mode is on and an input requires grad,
leaves a ``Record`` (op, inputs, params, data, saved) on the result; every call path ends there
(``autonet.surface``). ``backward_pass`` walks the graph with an explicit stack (depth is bounded
by memory only), calls each op's vjps, undoes broadcasting in one place and releases the graph as
it goes unless ``retain_graph`` asks to keep it. numpy reaches a Value through the ops' numpy
mappings (``autonet.ops.numpy_api``).
"""

from __future__ import annotations

import copy
import operator
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Union

import numpy as np

from ._state import STATE
from .anomaly import AnomalyError, check_finite, user_site
from .arrays import F64, frozen_params, normalize, retitled, shape_of, to_data
from .ops.numpy_api import dispatch_function, dispatch_ufunc
from .ops.registry import Op, lookup
from .vjp import Walking, collector, edge_work

__all__ = [
    "AnomalyError",
    "Record",
    "Value",
    "backward_pass",
    "backward_walk",
    "lift",
    "run_binary",
    "run_op",
    "stored_gradient",
]

ArrayLike = Union["Value", np.ndarray, float, int, Sequence[Any]]

_new = object.__new__
_DATA = operator.attrgetter("_data")  # map(_DATA, values) skips a comprehension's frame on the hot path


class _Released(tuple):
    """The inputs of a node whose graph a backward() released: weak references only, so the
    intermediates nobody else holds are freed, while those still held can still be drawn."""


class Record(NamedTuple):
    """What an op records on the Value it makes, for the backward walk (``Value.record``).

    ``op`` is the registry entry, ``inputs`` the input Values, ``params`` the non-differentiable
    arguments (None when there are none), ``datas`` the input data exactly as the forward used it
    and ``out`` its output data, ``saved`` what the forward kept for the vjps (``Op.saves``). A
    backward that releases the graph leaves ``op`` and ``params`` and drops the rest.

    >>> from autonet import Value
    >>> (Value(2.0) * 3.0).record.op.name
    'mul'
    """

    op: Op
    inputs: tuple[Value, ...]
    params: dict | None
    datas: tuple[Any, ...] | None
    out: Any
    saved: Any = None


# A Value keeps its record as a plain tuple in Record's order, (op, inputs, params, datas, out,
# saved): a tuple costs a quarter of a NamedTuple to make, and one is made per op on the hot path.
# ``Value.record`` hands out the named view.


# --------------------------------------------------------------------------- conversion


def _to_data(data: Any, *args: Any, **kwargs: Any) -> float | np.ndarray:
    return to_data(data._data if type(data) is Value else data, *args, **kwargs)


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
        dtype = np.result_type(*arrays, 0.0) if arrays else F64
        datas = [np.asarray(d, dtype) if type(d) is float else d for d in datas]
    try:
        out = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, TypeError, IndexError) as error:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise retitled(error, f"{op.name}: {error} (input shapes {shapes})") from None
    if op.saves:
        out, saved = out
        return normalize(out), saved
    return normalize(out)


def run_op(op: Op, inputs: tuple[Value, ...], params: dict | None = None) -> Value:
    """Run a primitive op's forward on Values and record it when grad mode and an input ask:
    where every call path (``autonet.surface.apply``) ends. The inputs are Values already and
    the params prepared (``Op.prepare``).

    >>> from autonet import Value
    >>> from autonet.ops import REGISTRY
    >>> run_op(REGISTRY["exp"], (Value(0.0),)).item()
    1.0
    """
    datas = tuple(map(_DATA, inputs))
    if STATE.anomaly_enabled:
        # The AnomalyError below says what numpy's overflow warning would, and better.
        with np.errstate(all="ignore"):
            out = _forward(op, datas, params)
    else:
        out = _forward(op, datas, params)
    saved = None
    if op.saves:
        out, saved = out
    state = STATE
    if state.anomaly_enabled:
        check_finite(op.name, out, [v.shape for v in inputs], "forward", user_site())
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
                    params = frozen_params(params)
                result._node = (op, inputs, params, datas, out, saved)
                if state.anomaly_enabled:
                    result._site = user_site()
                return result
    result.requires_grad = False
    result._held = 0
    result._node = None
    return result


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
            if type(new) is np.ndarray and new.ndim == 0 and new.dtype == F64:
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
        if shape_of(new) != self.shape:
            raise ValueError(f"grad: shape {shape_of(new)} does not match the Value's shape {self.shape}")
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
        if shape_of(array) != self.shape:
            raise ValueError(
                f"copy_: source shape {shape_of(array)} does not match the Value's shape {self.shape}"
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
    def record(self) -> Record | None:
        """What the op that produced this Value recorded (op, inputs, params, data, saved), or
        None for a leaf and for results computed without a graph.

        >>> from autonet import Value
        >>> Value(1.0).record is None
        True
        """
        node = self._node
        return None if node is None else Record(*node)

    @property
    def scope(self) -> str | None:
        """The dotted path of the module call that produced this Value (``"layers.0"``), set by
        ``nn.Module.__call__`` and read by drawings that group a graph by module; None elsewhere.
        Assign a string to group Values of your own.

        >>> from autonet import Value
        >>> Value(1.0).scope is None
        True
        """
        return getattr(self, "_scope", None)

    @scope.setter
    def scope(self, path: str | None) -> None:
        self._scope = None if path is None else str(path)

    @property
    def created_at(self) -> str | None:
        """Where user code created this Value's op (file, line and source), recorded for results
        built under ``detect_anomaly()``, whose errors quote it; None elsewhere."""
        return getattr(self, "_site", None)

    @property
    def op(self) -> Op | None:
        """The registry op that produced this Value, or None for a leaf."""
        node = self._node
        return None if node is None else node[0]

    @property
    def params(self) -> dict:
        """The op's non-differentiable arguments (axis, shape, index ...), empty for a leaf."""
        node = self._node
        return {} if node is None or node[2] is None else dict(node[2])

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
        return shape_of(self._data)

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
        return F64 if type(self._data) is float else self._data.dtype

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
        if type(data) is not float and data.dtype != F64:
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

    # ----------------------------------------------------------------- operators
    # The arithmetic operators, the element-wise, reduction and shape methods and ``[]`` come
    # from the registry (each op's ``method`` and ``operator``): see ``_surface`` below.

    def __pos__(self) -> Value:
        return self

    @property
    def T(self) -> Value:
        """The transpose (axes reversed).

        >>> from autonet import Value
        >>> Value([[1.0, 2.0]]).T.shape
        (2, 1)
        """
        return self.transpose()

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
        retain = create_graph if retain_graph is None else retain_graph
        backward_pass(self, gradient, retain_graph=retain, create_graph=create_graph)

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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, Any]:
        # Jupyter draws a Value as its graph. Drawing sits above the engine, so it is imported
        # only when a notebook asks.
        from .viz import notebook_bundle

        return notebook_bundle(self, include, exclude)

    # numpy interplay: every ufunc and numpy function a Value reaches is an op or a refusal
    # (autonet.ops.numpy_api states the rule; each op's entry names its numpy callables).
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        return dispatch_function(func, args, kwargs)


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
        op, parents, params, datas, out, saved = value._node
        released = type(parents) is _Released
        inputs = () if released else tuple(position[id(p)] for p in parents)
        flat.append((op.name, inputs, params, datas, out, saved, released, _leaf_state(value), value.scope))
    return flat


def _rebuilt(flat: list[Any]) -> Value:
    """The root of a graph that ``_flat_graph`` laid flat, every Value and record in place."""
    values: list[Value] = []
    for entry in flat:
        if isinstance(entry, Value):
            values.append(entry)
            continue
        name, inputs, params, datas, out, saved, released, state, scope = entry
        value = _leaf(*state)
        op = lookup(name)
        if released:
            value._node = (op, _Released(), params, None, None, None)
        else:
            parents = tuple(values[i] for i in inputs)
            value._node = (op, parents, params, datas, out, saved)
            _hold(parents, datas)
            value._held = 1 if value._data is out and type(out) is not float else 0
        value.scope = scope
        values.append(value)
    return values[-1]


def _copied(value: Value, memo: dict[int, Any]) -> Value:
    """A deep copy of one Value whose inputs ``memo`` already holds copies of."""
    twin = _leaf(copy.deepcopy(value._data, memo), None, value.requires_grad, value.label)
    twin._grad = copy.deepcopy(value._grad, memo)
    if value._node is not None:
        op, parents, params, datas, out, saved = value._node
        if type(parents) is _Released:
            twin._node = (op, _Released(), copy.deepcopy(params, memo), None, None, None)
        else:
            datas = copy.deepcopy(datas, memo)
            twin_parents = tuple(memo[id(p)] for p in parents)
            params, datas, out, saved = copy.deepcopy((params, datas, out, saved), memo)
            twin._node = (op, twin_parents, params, datas, out, saved)
            _hold(twin_parents, datas)
    twin.scope = value.scope
    return twin


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


def _constant(number: float) -> Value:
    """A Python float as a constant Value: the lean path of ``2 * x`` (a float needs no flags)."""
    value = _new(Value)
    value._data = number
    value._grad = None
    value.requires_grad = False
    value._node = None
    return value


def lift(x: Any, other: Any = None) -> Value:
    """``x`` as a Value: itself if it is one, else a constant. Integer and bool arrays take
    numpy's promotion with ``other`` (a Value or a dtype): a mask times a float32 Value stays
    float32, where on its own it becomes float64.

    >>> lift([1, 2]).dtype, lift(np.array([True]), np.dtype(np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    """
    if isinstance(x, Value):
        return x
    kind = type(x)
    if kind is float or kind is int:
        return _make(_to_data(x), False, None)
    like = other.dtype if isinstance(other, Value) else other
    return _make(_to_data(x, like=like), False, None)


def run_binary(op: Op, a: Any, b: Any) -> Value:
    """A binary operator (``a + b``): numbers and arrays become constants, and float64 scalars
    take Python float arithmetic, micrograd's lean path; NotImplemented for what is no number.

    >>> from autonet import Value
    >>> from autonet.ops import REGISTRY
    >>> run_binary(REGISTRY["add"], Value(1.0), 2.0).item()
    3.0
    """
    try:
        if type(a) is not Value:
            a = _constant(a) if type(a) is float else lift(a, b)
        if type(b) is not Value:
            b = _constant(b) if type(b) is float else lift(b, a)
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
            return run_op(op, (a, b))  # numpy's inf/nan instead of Python's exception
        result = _new(Value)
        result._data = out
        result._grad = None
        if state.grad_enabled and (a.requires_grad or b.requires_grad):
            result.requires_grad = True
            result._node = (op, (a, b), None, (data_a, data_b), out, None)
        else:
            result.requires_grad = False
            result._node = None
        return result
    return run_op(op, (a, b))


# --------------------------------------------------------------------------- backward


def _consumer_counts(root: Value) -> dict[Value, int]:
    """For every Value behind ``root`` that requires grad: how many graph edges lead out of it.

    The walk hands a Value its gradient only once all of its consumers have passed theirs on
    (Kahn's order, the consumer counting HIPS autograd does), so no order list is kept and a
    processed node can go as soon as nothing else holds it. An explicit stack instead of
    recursion keeps a 1,000,000-op chain within reach. The dict is keyed by the Values
    themselves: identity hashing costs half of ``id()`` keys, and the walk removes each entry as
    its count reaches zero, so the dict never keeps a processed node alive.
    """
    counts: dict[Value, int] = {}
    stack = [root]
    pop, push, seen = stack.pop, stack.append, counts.get
    while stack:
        record = pop()._node
        if record is None:
            continue
        op, inputs = record[0], record[1]
        if type(inputs) is _Released:
            raise RuntimeError(
                f"backward: the graph through this {op.name} was already released by an "
                "earlier backward(); pass retain_graph=True to that first backward() to go through "
                "the graph twice"
            )
        for parent in inputs:
            if parent.requires_grad:
                count = seen(parent)
                if count is None:
                    counts[parent] = 1
                    push(parent)
                else:
                    counts[parent] = count + 1
    return counts


def backward_pass(
    root: Value,
    gradient: Any = None,
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    targets: Sequence[Value] | None = None,
) -> list[Any]:
    """Walk the graph behind ``root`` once, handing each Value's gradient to its inputs through
    its op's vjps: into ``.grad`` (``Value.backward``), or, given ``targets``, into the returned
    list only (``autonet.gradients``), one gradient or None per target."""
    seed = _seed(root, gradient, create_graph)
    counts = _consumer_counts(root)
    edge = edge_work(create_graph, STATE.anomaly_enabled, _check_unchanged)
    found: list[Any] = [None] * len(targets or ())
    deliver = _accumulate if targets is None else collector(targets, found)
    pending, ready, shared = {root: seed}, [root], set()
    with Walking(len(counts), create_graph):
        while ready:
            node = ready.pop()
            g = pending.pop(node)
            deliver(node, g, node in shared)
            record = node._node
            if record is None:
                continue
            for index, parent in enumerate(record[1]):
                if parent.requires_grad:
                    grad = edge(record, node, index, g)
                    previous = pending.get(parent)
                    pending[parent] = grad if previous is None else previous + grad
                    if grad is g:  # passed on unchanged: another Value's gradient too
                        shared.add(parent)
                    left = counts.pop(parent) - 1
                    if left:
                        counts[parent] = left
                    else:
                        ready.append(parent)
            if not retain_graph:
                _release(node, record)
    return found


def backward_walk(
    root: Value, gradient: Any = None, *, retain_graph: bool = False
) -> Iterator[tuple[Value, Any, tuple[Any, ...]]]:
    """``root.backward(gradient, retain_graph)``, one node at a time: a generator that yields
    ``(node, g, sent)`` for each Value the walk reaches, in the walk's order (``backward_pass``'s).

    ``g`` is the node's whole gradient, already added to its ``.grad``; ``sent`` holds, per input
    of its op, the gradient that this node passed on to that input (brought to its shape), or
    None for an input that needs none; a leaf sends nothing, ``()``. The node's ``record`` is
    still whole while it is yielded, and released (unless ``retain_graph``) when the walk goes on,
    so a walk run to its end leaves ``.grad`` and the graph exactly as one ``backward()`` does;
    one stopped early has given gradients only to the nodes it yielded. A plain backward only:
    no ``create_graph``. Grad mode is the caller's between steps.

    >>> from autonet import Value
    >>> x = Value(3.0)
    >>> [(node is x, g) for node, g, sent in backward_walk(x * x)]
    [(False, 1.0), (True, 6.0)]
    """
    seed = _seed(root, gradient, False)
    counts = _consumer_counts(root)
    edge = edge_work(False, STATE.anomaly_enabled, _check_unchanged)
    pending, ready, shared = {root: seed}, [root], set()
    while ready:
        node = ready.pop()
        g = pending.pop(node)
        record = node._node
        sent: list[Any] = []
        with Walking(0, False):  # entered per step: between steps the caller's grad mode holds
            _accumulate(node, g, node in shared)
            # backward_pass's inner loop, which stays unshared there to keep that hot loop flat;
            # tests/test_steps.py checks that the two leave the same gradients, bit for bit.
            for index, parent in enumerate(() if record is None else record[1]):
                if not parent.requires_grad:
                    sent.append(None)
                    continue
                grad = edge(record, node, index, g)
                sent.append(grad)
                previous = pending.get(parent)
                pending[parent] = grad if previous is None else previous + grad
                if grad is g:
                    shared.add(parent)
                left = counts.pop(parent) - 1
                if left:
                    counts[parent] = left
                else:
                    ready.append(parent)
        yield node, g, tuple(sent)
        if record is not None and not retain_graph:
            _release(node, record)


def _accumulate(node: Value, g: Any, shared: bool) -> None:
    """Add ``g`` to ``node.grad``. A leaf's .grad (what optimizers read and clip in place) is an
    array of its own; an intermediate's may be a view, copied when someone reads it."""
    if type(g) is np.ndarray:
        if shared:
            g = g.copy() if node._node is None else g.view()
        elif node._node is None and (g.base is not None or not g.flags.writeable):
            g = g.copy()
    with _GRAD_LOCK:  # concurrent backwards may reach one shared leaf: read-add-write is one step
        total = node._grad
        if total is None:
            node._grad = g
        else:
            total = total + g
            node._grad = float(total) if type(total) is np.float64 else total


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    """The gradient the walk starts from: 1 for a scalar, else ``gradient`` checked against the
    root's shape and dtype (and, under create_graph, as a Value)."""
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this Value does not require grad (it was computed under no_grad, or from "
            "inputs that all have requires_grad=False)"
        )
    if gradient is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: the gradient can be implied only for a scalar, this Value has shape "
                f"{root.shape}; pass gradient= with that shape (or reduce it, e.g. .sum())"
            )
        seed = 1.0 if type(root._data) is float else np.ones_like(root._data)
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
        if shape_of(seed) != root.shape:
            raise ValueError(
                f"backward: gradient has shape {shape_of(seed)} but the Value has shape {root.shape}"
            )
        if type(seed) is not float or type(root._data) is not float:
            seed = np.array(seed, dtype=root.dtype)  # a copy: the caller's array never becomes a .grad
    if STATE.anomaly_enabled and not np.isfinite(seed).all():
        raise AnomalyError(f"backward: the gradient passed in holds nan or inf (shape {root.shape})")
    return _make(seed, False, None) if create_graph else seed


_GRAD_LOCK = threading.Lock()
_ALONE = _refcount_alone()
_REF = weakref.ref


def _release(node: Value, record: Record) -> None:
    """Free the graph behind ``node``: its record keeps the op and params, and only weak
    references to the inputs. The arrays it kept are uncounted on the Values that still have them
    as their data (a Value whose data was replaced since is not counting them); a node that kept
    only floats has nothing to uncount."""
    op, parents, params, datas, out, _ = record
    if type(out) is not float or type(datas[0]) is not float or type(datas[-1]) is not float:
        for parent, data in zip(parents, datas, strict=True):
            if type(data) is not float and parent._data is data:
                parent._held -= 1
                if not parent._held and parent._shared:
                    data.setflags(write=True)  # the lock _hold put on a shared array
        if type(out) is not float and node._data is out:
            node._held -= 1
    node._node = (op, _Released(map(_REF, parents)), params, None, None, None)


def _check_unchanged(op: Op, parents: Sequence[Value], datas: Sequence[Any]) -> None:
    """Under create_graph the vjps run on the input Values themselves, so their numbers must
    still be those the forward used."""
    for index, (parent, data) in enumerate(zip(parents, datas, strict=True)):
        current = parent._data
        # A Value that moved to a copy of its numbers (see ``Value.data``) is unchanged.
        if current is not data and not np.array_equal(current, data, equal_nan=True):
            raise RuntimeError(
                f"backward: input {index} of {op.name} (shape {shape_of(data)}"
                f"{f', label {parent.label!r}' if parent.label else ''}) was given new data after the op "
                "recorded it; create_graph=True differentiates the Values as they are now, so run the "
                "forward again after changing them"
            )
