"""The engine: ``Value``, the graph it records, and the reverse-mode walk over that graph.

A ``Value`` holds a Python float (the lean path for float64 scalars) or a numpy array of its own.
``run_op``, where every call path ends (``autonet.surface``), runs an op's forward and, when grad
mode is on and an input requires grad, leaves a ``Record`` (op, inputs, params, data, saved) on the
result. ``backward_pass`` walks the graph with an explicit stack (depth is bounded by memory only),
calls each op's vjps, undoes broadcasting in one place and releases the graph as it goes unless
``retain_graph`` keeps it. numpy reaches a Value through the ops' numpy mappings (``ops.numpy_api``).
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Union

import numpy as np

from ._state import STATE, TRACING
from .anomaly import AnomalyError, check_finite, user_site
from .arrays import F64, frozen_params, to_data
from .copying import deep_copy, reduced
from .forward import forward
from .ops.numpy_api import dispatch_function, dispatch_ufunc
from .ops.registry import Op
from .storage import Locking, Storage, lock_shared, stored_gradient, unlock_shared
from .vjp import Walking, collector, edge_work, seed_gradient

__all__ = [
    "AnomalyError",
    "Record",
    "Value",
    "backward_pass",
    "backward_walk",
    "lift",
    "run_binary",
    "run_op",
    "stored_form",
    "stored_gradient",
]

ArrayLike = Union["Value", np.ndarray, float, int, Sequence[Any]]
EdgeHook = Callable[[Callable[..., Any]], Callable[..., Any]]  # wraps the walk's per-edge work

_new = object.__new__
_DATA = operator.attrgetter("_data")  # map(_DATA, values) skips a comprehension's frame on the hot path


class Record(NamedTuple):
    """What an op records on the Value it makes, for the backward walk (``Value.record``).

    ``op`` is the registry entry, ``inputs`` the input Values, ``params`` the non-differentiable
    arguments (None when there are none), ``datas`` the input data exactly as the forward used it
    and ``out`` its output data, ``saved`` what the forward kept for the vjps (``Op.saves``). A
    backward that releases the graph keeps ``op``, ``inputs`` and ``params`` and drops the rest.
    A Value keeps its record as a plain tuple in this order (a quarter of a NamedTuple's cost to
    make, once per op on the hot path); ``Value.record`` is the named view.

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


# --------------------------------------------------------------------------- conversion


def _to_data(data: Any, *args: Any, **kwargs: Any) -> float | np.ndarray:
    return to_data(data._data if type(data) is Value else data, *args, **kwargs)


def _make(data: Any, requires_grad: bool, shared: bool = False, label: str = "", source: Any = None) -> Value:
    """A new leaf around ``data``. ``shared`` says that someone else may hold the same array (a
    caller's, or another Value's): recording it then locks it, so that nobody writes into numbers
    a graph still needs. ``source`` is what ``data`` was made from, for autonet.compile's tracer."""
    value = _new(Value)
    value._data = data
    value._grad = None
    value.requires_grad = requires_grad
    value._node = None
    value._held = 0
    value._shared = shared
    if label:
        value._label = str(label)
    if TRACING[0] and STATE.tracer is not None:
        STATE.tracer.created(value, source)
    return value


# --------------------------------------------------------------------------- applying ops


def run_op(op: Op, inputs: tuple[Value, ...], params: dict | None = None) -> Value:
    """Run a primitive op's forward on Values and record it when grad mode and an input ask:
    where every call path (``autonet.surface.apply``) ends. The inputs are Values already and
    the params prepared (``Op.prepare``).

    >>> from autonet import Value
    >>> from autonet.ops import REGISTRY
    >>> run_op(REGISTRY["exp"], (Value(0.0),)).item()
    1.0
    """
    if TRACING[0] and STATE.tracer is not None:  # autonet.compile is recording: it runs the op and notes it
        return STATE.tracer.run_op(op, inputs, params)
    datas = tuple(map(_DATA, inputs))
    if STATE.anomaly_enabled:
        # The AnomalyError below says what numpy's overflow warning would, and better.
        with np.errstate(all="ignore"):
            out = forward(op, datas, params)
    else:
        out = forward(op, datas, params)
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
    result._held = 0
    if state.grad_enabled:
        for v in inputs:
            if v.requires_grad:
                for u in inputs:  # storage.lock_shared, spelled out for the same reason
                    if type(u._data) is not float and u._shared:
                        u._data.setflags(write=False)
                        u._held += 1
                        datas = Locking(datas)
                result.requires_grad = True
                if params:
                    params = frozen_params(params)
                result._node = (op, inputs, params, datas, out, saved)
                if state.anomaly_enabled:
                    result._site = user_site()
                return result
    result.requires_grad = False
    result._node = None
    return result


# --------------------------------------------------------------------------- the Value type


class Value(Storage):
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

    # _data, _grad, _held and _shared are Storage's (autonet.storage says what the two counts mean).
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
        self, data: ArrayLike, label: str = "", *, requires_grad: bool = True, dtype: Any = None
    ) -> None:
        self._data = _to_data(data, dtype)
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._held = 0
        self._shared = False
        if label:
            self._label = str(label)
        if TRACING[0] and STATE.tracer is not None:
            STATE.tracer.created(self, data)

    @classmethod
    def from_numpy(cls, array: np.ndarray, label: str = "", *, requires_grad: bool = True) -> Value:
        """A Value that shares ``array``'s memory instead of copying it (``Value(array)`` copies).

        Writing into ``array`` changes the Value and its in-place updates change ``array``; while
        a recorded graph needs the numbers, ``array`` is read-only, so a write from outside fails
        loudly. Integer and bool arrays are converted, read-only arrays copied: those are not shared.

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
        return _make(data if shared else np.array(data), bool(requires_grad), shared, label)

    @classmethod
    def from_record(
        cls,
        data: Any,
        record: Sequence[Any] | None,
        *,
        grad: Any = None,
        requires_grad: bool = True,
        label: str = "",
    ) -> Value:
        """A Value around ``data`` (taken as it is) made by ``record`` (a ``Record`` or its six
        parts; without ``datas``, a released one), or a leaf for None: how copies and pickles
        rebuild a graph (``autonet.copying``).

        >>> from autonet import Value
        >>> x = Value(3.0)
        >>> y = x * x
        >>> twin = Value.from_record(9.0, y.record)
        >>> twin.backward()
        >>> x.grad.item()
        6.0
        """
        value = _make(data, bool(requires_grad), label=label)
        value._grad = grad
        if record is None:
            return value
        op, parents, params, datas, out, saved = record
        if datas is None:  # released: the structure without what the vjps needed
            value._node = (op, tuple(parents), params, None, None, None)
        else:
            parents = tuple(parents)
            value._node = (op, parents, params, lock_shared(parents, tuple(datas)), out, saved)
        return value

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
        """The inputs of the op that produced this Value (after a backward() too: it releases what
        the vjps needed, not the graph's structure)."""
        node = self._node
        return () if node is None else node[1]

    @property
    def graph_released(self) -> bool:
        """True once a backward() without ``retain_graph`` has released the graph behind this
        Value: it can still be drawn, but not differentiated again."""
        node = self._node
        return node is not None and node[3] is None  # a released record keeps no input data

    is_leaf = property(
        lambda self: self._node is None, doc="True for Values made by the user (not by an op)."
    )

    def detach(self) -> Value:
        """A new leaf that shares this Value's data and needs no gradient.

        Writing into one's ``data`` changes the other, as with PyTorch's ``detach``, but never
        numbers that a recorded graph still needs (see ``data``): while one does, the new leaf
        gets a copy.

        >>> from autonet import Value
        >>> x = Value([1.0, 2.0])
        >>> d = x.detach()
        >>> d.data[0] = 7.0
        >>> x.tolist(), d.requires_grad
        ([7.0, 2.0], False)
        """
        if type(self._data) is float:
            return _make(self._data, False, source=self)
        if not self._private():
            return _make(self._data.copy(), False, source=self)
        self._shared = True
        return _make(self._data, False, shared=True, source=self)

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

    def __iter__(self) -> Iterator[Value]:
        return (self[i] for i in range(len(self)))

    # ----------------------------------------------------------------- operators
    # The arithmetic operators, the element-wise, reduction and shape methods and ``[]`` come
    # from the registry (each op's ``method`` and ``operator``), installed by autonet.surface.

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
        return reduced(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        return deep_copy(self, memo)

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


def _constant(number: float) -> Value:
    """A Python float as a constant Value: the lean path of ``2 * x`` (a float needs no flags)."""
    value = _new(Value)
    value._data = number
    value._grad = None
    value.requires_grad = False
    value._node = None
    if TRACING[0] and STATE.tracer is not None:
        STATE.tracer.created(value)
    return value


def lift(x: Any, other: Any = None) -> Value:
    """``x`` as a Value: itself if it is one, else a constant. Integer and bool arrays take the
    float dtype of ``other`` (a Value or a dtype), as in PyTorch: an index array times a float32
    Value stays float32, where on its own it becomes float64.

    >>> lift([1, 2]).dtype, lift(np.array([True]), np.dtype(np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    """
    if isinstance(x, Value):
        return x
    like = other.dtype if isinstance(other, Value) else other
    return _make(_to_data(x, like=None if type(x) in (float, int) else like), False, source=x)


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
    if type(data_a) is float and type(data_b) is float and not state.anomaly_enabled and not TRACING[0]:
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

    The walk hands a Value its gradient once all of its consumers have passed theirs on (Kahn's
    order, as in HIPS autograd), so no order list is kept. An explicit stack keeps a 1,000,000-op
    chain within reach. Keys are the Values themselves (identity hashing costs half of ``id()``
    keys); the walk removes each as its count reaches zero, so none is kept alive by the dict.
    """
    counts: dict[Value, int] = {}
    stack = [root]
    pop, push, seen = stack.pop, stack.append, counts.get
    while stack:
        record = pop()._node
        if record is None:
            continue
        op, inputs = record[0], record[1]
        if record[3] is None:  # released: the input data the vjps need are gone
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
    seed = seed_gradient(root, gradient, create_graph)
    counts = _consumer_counts(root)
    edge = edge_work(create_graph, STATE.anomaly_enabled)
    found: list[Any] = [None] * len(targets or ())
    deliver = _accumulate if targets is None else collector(targets, found)
    if STATE.tracer is not None:  # autonet.compile records the walk's edges and deliveries
        edge, deliver = STATE.tracer.backward(root, seed, edge, deliver, create_graph, targets)
    with Walking(len(counts), create_graph):
        for _ in _walk(root, seed, counts, edge, deliver, retain_graph, stepping=False):
            pass  # not stepping: the walk runs to its end in one go
    return found


def _walk(
    root: Value, seed: Any, counts: dict, edge: Callable, deliver: Callable, retain: bool, stepping: bool
) -> Iterator:
    """The walk: each Value, once all its consumers have passed their gradients on, gets its whole
    gradient ``g`` (``deliver``) and passes it on through ``edge``; then, ``stepping``, it is
    yielded with ``g``, and its record released unless ``retain`` keeps it."""
    pending, ready, shared = {root: seed}, [root], set()
    while ready:
        node = ready.pop()
        g = pending.pop(node)
        deliver(node, g, node in shared)
        record = node._node
        if record is None:
            if stepping:
                yield node, g
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
        if stepping:
            yield node, g
        if not retain:
            _release(node, record)


def backward_walk(
    root: Value, gradient: Any = None, *, retain_graph: bool = False, edge: EdgeHook | None = None
) -> Iterator[tuple[Value, Any]]:
    """``root.backward(gradient, retain_graph)`` one node at a time: the walk of ``backward_pass``
    as a generator of ``(node, g)``, ``g`` the node's whole gradient, already in its ``.grad``
    (``autonet.backward_steps`` reads it). ``edge`` wraps the per-edge work (``vjp.edge_work``),
    e.g. to see what each input is sent. A walk run to its end equals one ``backward()``; grad
    mode is the caller's between steps.

    >>> from autonet import Value
    >>> x = Value(3.0)
    >>> [(node is x, g) for node, g in backward_walk(x * x)]
    [(False, 1.0), (True, 6.0)]
    """
    if STATE.tracer is not None:
        STATE.tracer.refuse("backward_steps (a walk one node at a time)")
    seed = seed_gradient(root, gradient, False)
    work = edge_work(False, STATE.anomaly_enabled)
    walk = _walk(
        root, seed, _consumer_counts(root), edge(work) if edge else work, _accumulate, retain_graph, True
    )
    while True:
        with Walking(0, False):  # entered per step, so that between steps the caller's grad mode holds
            step = next(walk, None)
        if step is None:
            return
        yield step


def _accumulate(node: Value, g: Any, shared: bool) -> None:
    """Add ``g`` to ``node.grad``. A leaf's .grad (what optimizers read and clip in place) is an
    array of its own; an intermediate's may be a view, copied when someone reads it."""
    if type(g) is np.ndarray:
        if shared:
            g = g.copy() if node._node is None else g.view()
        elif node._node is None and (g.base is not None or not g.flags.writeable):
            g = g.copy()
    elif type(g) is not float and isinstance(g, np.generic):  # floats first: the scalar path
        g = stored_form(g)
    with _GRAD_LOCK:  # concurrent backwards may reach one shared leaf: read-add-write is one step
        total = node._grad
        if total is None:
            node._grad = g
        else:
            total = total + g
            node._grad = total if type(total) in _STORED_KINDS else stored_form(total)


_GRAD_LOCK = threading.Lock()
_STORED_KINDS = (np.ndarray, float)  # what a sum of gradients already is, on the common paths


def stored_form(gradient: Any) -> Any:
    """A gradient as a Value stores it: a numpy scalar (what numpy gives for arithmetic on 0-d
    arrays) becomes a float for float64 and a 0-d array otherwise; anything else stays as it is.

    >>> type(stored_form(np.float32(2.0))).__name__, stored_form(np.float64(2.0))
    ('ndarray', 2.0)
    """
    if isinstance(gradient, np.generic):
        return float(gradient) if type(gradient) is np.float64 else np.asarray(gradient)
    return gradient


def _release(node: Value, record: Record) -> None:
    """Free what the record of ``node`` kept for its vjps (input data, output, saved arrays); it
    keeps the op, params and inputs, so that the graph can still be drawn, and lifts the locks it
    put on shared arrays (``storage.unlock_shared``)."""
    op, parents, params, datas, _, _ = record
    if type(datas) is Locking:  # only a record that locked something has anything to undo
        unlock_shared(parents, datas)
    node._node = (op, parents, params, None, None, None)
