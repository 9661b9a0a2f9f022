"""``autonet.compile``: trace a training step once, then replay it as flat numpy calls.

The first call of a compiled function for a given signature (the shapes and dtypes of its array
and Value arguments, the values of its Python scalars) runs it eagerly while a tracer records
what the engine does: every op's forward, every edge of each backward walk (one vjp call, the
sums where gradients meet, the accumulation into leaves' ``.grad``) and every update of state
(``add_``, ``mul_``, ``copy_``, assigning ``.grad``, ``zero_grad``, an optimizer's step, gradient
clipping, batch norm's running statistics). The record becomes one Python function of
straight-line code; later calls with the same signature run it: no Value is built and no graph
is walked, and each call is the very numpy function the eager step calls, on the same numbers in
the same order, so the numbers agree bit for bit.

The engine hands the tracer what it does through one per-thread switch (``_state.STATE.tracer``),
None outside a trace; the hot paths (each op, each new Value, each in-place update) first test
``_state.TRACING[0]``, how many threads are tracing now, which costs a tenth of the thread-local
read.

What a replay sees, and what it does not. A parameter (a leaf the step reads) is read afresh on
every call; one whose shape, dtype or ``requires_grad`` changed is traced again, and so is a step
whose Python state changed: a module's mode, settings or parts, what the step's function closes
over or the globals it names. An array made into a Value in the step (an argument, or one
closed over) is read again by every replay; numpy writing into a ``.grad`` or ``.data`` the
step was handed is refused while tracing. Results come back with the
structure ``fn`` returned: a Value as a Value holding the replayed numbers (a leaf without a
graph), a number from ``.item()`` or ``float()`` as the replayed number, a ``.grad`` as the
replayed gradient. A tape that holds arrays the step made outside the ops (numpy work on an
argument or a gradient, numpy's own random draws) is replayed only once the signature's second
call traced the same tape, code and constants; where they change from call to call, after a
third try the signature runs eagerly with a ``CompileWarning``. What stays the user's responsibility, as with
``jax.jit`` and ``torch.compile``: Python control flow on numbers (a ``CompileWarning`` names
each conversion to a number that the step did not return, and a Value used as a bool raises),
and numbers computed outside the ops that change only after the first calls.
``detect_anomaly()``, ``backward(create_graph=True)``,
``autonet.gradients``, ``backward_steps`` and assigning ``v.data`` raise inside a compiled step;
they work on the eager path: ``compiled.__wrapped__`` or ``autonet.compile(fn, disable=True)``.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ._state import STATE, TRACING
from .anomaly import user_site
from .arrays import normalize
from .engine import Value, run_op, stored_form
from .forward import forward
from .storage import Storage, store_gradient, stored_data, stored_gradient
from .vjp import REDONE_ERRORS, plain_edge

__all__ = ["CompileWarning", "compile"]

F = TypeVar("F", bound=Callable[..., Any])

_EAGER_ONLY = (
    "is not available inside a compiled step; it works on the eager path: call the function "
    "itself (compiled.__wrapped__) or compile it with autonet.compile(fn, disable=True)"
)


class CompileWarning(UserWarning):
    """What ``autonet.compile`` noticed while tracing that a replay may not follow (a Value
    turned into a Python number that the step's Python code then used)."""


_COUNTING = threading.Lock()  # guards TRACING, the count of threads tracing now
_SLOT = re.compile(r"\b[sa]\d+k?\b")  # the tape's slots and arguments (s12, s12k, a3)


class _Stale(Exception):
    """A parameter the tape reads changed its shape, dtype or kind since the trace."""


def _accumulate_leaf(leaf: Storage, g: Any, copy: bool) -> Any:
    # The engine's accumulation into a leaf's .grad, on the replayed numbers: the same sum.
    total = stored_gradient(leaf)
    if total is None:
        new = g.copy() if copy and type(g) is np.ndarray else stored_form(g)
    else:
        new = stored_form(total + g)
    store_gradient(leaf, new)
    return new


def _number(data: Any) -> float:
    # Storage.item on stored data.
    return data if type(data) is float else float(data.item())


def _result_value(data: Any) -> Value:
    return Value.from_record(data, None, requires_grad=False)


class _Line:
    __slots__ = ("defines", "opaque", "text", "uses")

    def __init__(self, text: str, defines: tuple[str, ...], uses: tuple[str, ...], opaque: bool) -> None:
        self.text, self.defines, self.uses, self.opaque = text, defines, uses, opaque


class _Tracer:
    """Records one eager run of a step as lines of Python over slots (``s1``, ``s2`` ...) and
    constants (``c1`` ...); what the engine calls while ``STATE.tracer`` is this object."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.lines: list[_Line] = []
        self.consts: dict[str, Any] = {}
        self.const_ids: dict[int, str] = {}
        self.keep: list[Any] = [args, kwargs]  # keeps every id below unique while tracing
        self.value_slot: dict[int, str] = {}  # op result -> its data's slot
        self.leaf_slot: dict[int, str] = {}  # leaf -> its data's slot, until the next update
        self.leaf_ref: dict[int, str] = {}  # Value argument -> the expression naming it
        self.array_slot: dict[int, str] = {}  # arrays the tape computes (for results)
        self.made: set[int] = set()  # Values made during the trace
        self.sources: dict[int, Any] = {}  # made Value -> what its data was made from
        self.guards: dict[int, tuple[str, Any, str | None, bool]] = {}  # parameters: kind when traced
        self.observed: dict[tuple[int, str], tuple[str, Any]] = {}  # (object, name): (expression, value)
        self.updated = False  # whether a recorded call may have changed leaves' data
        self.forward_of: dict[int, tuple[str, str, str, str, str]] = {}
        self.forward_params: dict[int, dict | None] = {}
        self.grad_of: dict[int, str] = {}
        self.sent: dict[int, list[str]] = {}
        self.conversions: dict[int, tuple[str, str]] = {}
        self.passed: set[int] = set()  # conversions handed to a recorded call
        self.replayed: set[int] = set()  # numbers a recorded call gave: no warning when unused
        self.frozen = False  # whether the step returns numbers that no recorded op computed
        self.signature_numbers: set[int] = set()  # Python numbers among the arguments
        self.handed: list[tuple[Value, str, np.ndarray, np.ndarray]] = []  # .grad/.data given out, as given
        self.settled: set[int] = set()  # arrays the tape holds that are the same in every call
        self.gradient_of: dict[int, tuple[Value, str]] = {}  # leaves the tape accumulates into
        self.count = itertools.count(1)
        self.names = {"fw": forward, "pe": plain_edge, "acc": _accumulate_leaf, "sd": stored_data}
        self.names["sg"] = stored_gradient
        self.names.update({"num": _number, "V": _result_value, "Stale": _Stale, "ndarray": np.ndarray})
        self.names.update({"asarray": np.asarray, "norm": normalize, "RedoneErrors": REDONE_ERRORS})
        for index, arg in enumerate(args):
            self._bind(arg, f"args[{index}]")
        for name, arg in kwargs.items():
            self._bind(arg, f"kwargs[{name!r}]")

    # ----------------------------------------------------------------- naming

    def _slot(self) -> str:
        return f"s{next(self.count)}"

    def const(self, obj: Any) -> str:
        name = self.const_ids.get(id(obj))
        if name is None:
            name = self.const_ids[id(obj)] = f"c{next(self.count)}"
            self.consts[name] = obj
            self.keep.append(obj)
        return name

    def emit(self, text: str, defines: tuple[str, ...] = (), opaque: bool = False) -> None:
        uses = tuple(word for word in _SLOT.findall(text) if word not in defines)
        self.lines.append(_Line(text, defines, uses, opaque))

    def _bind(self, arg: Any, expr: str) -> None:
        kind = type(arg)
        if kind in (int, float, bool):
            self.signature_numbers.add(id(arg))
        if isinstance(arg, Value) or kind is np.ndarray:
            name = f"a{next(self.count)}"
            self.emit(f"{name} = {expr}", (name,))
            if kind is np.ndarray:
                self.array_slot[id(arg)] = name
            else:
                self.leaf_ref[id(arg)] = name
        elif isinstance(arg, (list, tuple)):  # namedtuples too
            for index, item in enumerate(arg):
                self._bind(item, f"{expr}[{index}]")
        elif isinstance(arg, dict):  # OrderedDict too, with keys of any kind
            for key, item in arg.items():
                self._bind(item, f"{expr}[{self.const(key)}]")

    # ----------------------------------------------------------------- data of Values

    def data_expr(self, v: Value) -> str:
        slot = self.value_slot.get(id(v))
        if slot is not None:
            return slot
        if v.is_leaf or id(v) in self.leaf_ref:
            return self._leaf(v)
        # A result of ops run before the step: its numbers are the step's constants.
        return self.const(stored_data(v))

    def _leaf(self, v: Value) -> str:
        key = id(v)
        slot = self.leaf_slot.get(key)
        if slot is not None:
            return slot
        data = stored_data(v)
        ref = self.leaf_ref.get(key)
        if ref is None and key in self.made:
            # Made inside the step: from what it was made of (an argument, a Value, an array the
            # step closed over), read again by every replay, else a constant.
            slot = self._made_from(data, self.sources.get(key)) or self.array_slot.get(id(data))
            slot = slot or self.const(data)
            self.leaf_slot[key] = slot
            return slot
        slot = self.leaf_slot[key] = self._slot()
        if ref is None:  # a parameter: read, and checked, at the top while no update came first
            ref = self.leaf_ref[key] = self.const(v)
            if not self.updated:
                self.guards[key] = (ref, data, slot, v.requires_grad)
                return slot
            self.guards.setdefault(key, (ref, data, None, v.requires_grad))
        self.emit(f"{slot} = sd({ref})", (slot,))
        return slot

    def _made_from(self, data: Any, source: Any) -> str | None:
        # Value(x) copies x, and lifting a 0-d float64 array makes a float: a replay does the same
        # to what x is then (an argument's new array, the current numbers of one closed over).
        if isinstance(source, Value):
            name = self.data_expr(source)
        elif type(source) is np.ndarray:
            name = self.array_expr(source)
        else:
            return None
        if source is data:
            return name
        slot = self._slot()
        if type(data) is float:
            self.emit(f"{slot} = float({name})", (slot,))
        else:
            self.emit(f"{slot} = asarray({name}, {self.const(data.dtype)})", (slot,))
        return slot

    def array_expr(self, array: np.ndarray) -> str:
        # An array the step received or computed is its slot; any other the same object again.
        return self.array_slot.get(id(array)) or self.const(array)

    def ref_of(self, v: Value) -> str:
        return self.leaf_ref.get(id(v)) or self.const(v)

    def _param(self, value: Any) -> str:
        if type(value) is np.ndarray:
            return self.array_expr(value)
        if type(value) is tuple and any(type(item) is np.ndarray for item in value):
            return "(" + "".join(f"{self._param(item)}, " for item in value) + ")"  # an index tuple
        return self.const(value)

    def _keywords(self, params: dict | None) -> str:
        if not params:
            return ""
        items = []
        for key, value in params.items():
            items.append(f"{key}={self._param(value)}, ")
        return "".join(items)

    def params_expr(self, params: dict | None) -> str:
        if not params:
            return "None"
        items = []
        for key, value in params.items():
            items.append(f"{key!r}: {self._param(value)}")
        return "{" + ", ".join(items) + "}"

    # ----------------------------------------------------------------- what the engine calls

    def created(self, value: Value, source: Any = None) -> None:
        """A Value made in the step; ``source``: what its data came from (``Value(x)``'s x)."""
        self.made.add(id(value))
        self.keep.append(value)
        if source is not None:
            self.sources[id(value)] = source
            self.keep.append(source)

    def refuse(self, what: str) -> None:
        raise RuntimeError(f"autonet.compile: {what} {_EAGER_ONLY}")

    def _untraced(self, fn: Callable[..., Any], *args: Any) -> Any:
        STATE.tracer = None
        try:
            return fn(*args)
        finally:
            STATE.tracer = self

    def run_op(self, op: Any, inputs: tuple, params: dict | None) -> Value:
        if STATE.anomaly_enabled:
            self.refuse("detect_anomaly()")
        self._unchanged()
        exprs = "".join(f"{self.data_expr(v)}, " for v in inputs)
        pexpr = self.params_expr(params)
        result = self._untraced(run_op, op, inputs, params)
        self.keep.append(result)
        slot = self._slot()
        saved = f"{slot}k" if op.saves else "None"
        out = stored_data(result)
        kinds = {type(stored_data(v)) for v in inputs}
        if float in kinds:
            # forward's float paths (Python float arithmetic, and its fallbacks to numpy)
            call = f"fw({self.const(op)}, ({exprs}), {pexpr})"
        else:  # arrays in: forward is op.forward and normalize, here written out
            call = f"{self.const(op.forward)}({exprs}{self._keywords(params)})"
        if op.saves:
            self.emit(f"{slot}, {saved} = {call}", (slot, saved))
        else:
            self.emit(f"{slot} = {call}", (slot,))
        if float not in kinds and not (type(out) is np.ndarray and out.ndim):
            self.emit(f"{slot} = norm({slot})", (slot,))
        self.value_slot[id(result)] = slot
        if type(out) is np.ndarray:
            self.array_slot[id(out)] = slot
        if result.record is not None:
            self.forward_of[id(result)] = (self.const(op), pexpr, exprs, slot, saved)
            self.forward_params[id(result)] = params
        return result

    def backward(
        self, root: Value, seed: Any, edge: Callable, deliver: Callable, create_graph: bool, targets: Any
    ) -> tuple[Callable, Callable]:
        if create_graph:
            self.refuse("backward(create_graph=True)")
        if STATE.anomaly_enabled:
            self.refuse("detect_anomaly()")
        if targets is not None:
            self.refuse("autonet.gradients (and autonet.grad); call loss.backward() and read .grad,")
        self.grad_of[id(root)] = self.array_expr(seed) if type(seed) is np.ndarray else self.const(seed)
        self.settled.add(id(seed))  # ones like the root: the same numbers in every call
        return self._traced_edge(edge), self._traced_deliver(deliver)

    def _traced_edge(self, edge: Callable) -> Callable:
        def traced(record: Any, node: Value, index: int, g: Any) -> Any:
            grad = edge(record, node, index, g)
            info = self.forward_of.get(id(node))
            if info is None:
                self.refuse(
                    f"a backward into {record[0].name}, an op recorded before the compiled step began,"
                )
            op, pexpr, exprs, out, saved = info  # type: ignore[misc]
            slot, gexpr = self._slot(), self.grad_of[id(node)]
            vjp = self._direct_vjp(record, index, g)
            general = f"{slot} = pe(({op}, None, {pexpr}, ({exprs}), {out}, {saved}), None, {index}, {gexpr})"
            if vjp is None:
                self.emit(general, (slot,))
            else:
                keywords = self._keywords(self.forward_params[id(node)])
                if record[0].saves:
                    keywords += f"saved={saved}, "
                direct = f"{slot} = {self.const(vjp)}({gexpr}, {out}, {exprs}{keywords})"
                if type(g) is float or type(record[4]) is float or float in map(type, record[3]):
                    # Python floats may raise where numpy would not (1.0 / 0.0): plain_edge redoes that.
                    direct = f"try: {direct}\n    except RedoneErrors: {general}"
                self.emit(direct, (slot,))
            self.sent.setdefault(id(record[1][index]), []).append(slot)
            return grad

        return traced

    def _direct_vjp(self, record: Any, index: int, g: Any) -> Callable | None:
        """The op's vjp for input ``index`` when ``plain_edge`` would return its result as it is
        (arrays in, an array of the input's shape and dtype out), else None: asked once, here."""
        op, _, params, datas, out, saved = record
        if op.variadic:
            return None
        vjp = op.vjps[index]
        keywords = {**(params or {}), "saved": saved} if op.saves else (params or {})
        STATE.tracer = None
        try:
            grad = vjp(g, out, *datas, **keywords)
        except Exception:  # plain_edge will say what went wrong, or redo it its own way
            return None
        finally:
            STATE.tracer = self
        data, kind = datas[index], type(grad)
        if kind is float and type(data) is float:
            return vjp
        if kind is np.ndarray and type(data) is np.ndarray:
            return vjp if grad.shape == data.shape and grad.dtype == data.dtype else None
        return None

    def _traced_deliver(self, deliver: Callable) -> Callable:
        def traced(node: Value, g: Any, shared: bool) -> None:
            sent = self.sent.pop(id(node), None)
            if sent:
                total = sent[0]
                for part in sent[1:]:  # the walk's order: ((e1 + e2) + e3)
                    slot = self._slot()
                    self.emit(f"{slot} = {total} + {part}", (slot,))
                    total = slot
                self.grad_of[id(node)] = total
            before = stored_gradient(node)
            deliver(node, g, shared)
            if node.is_leaf:
                after = stored_gradient(node)
                slot = self._slot()
                copy = before is None and after is not g
                self.emit(f"{slot} = acc({self.ref_of(node)}, {self.grad_of[id(node)]}, {copy})", (slot,))
                self.gradient_of[id(node)] = (node, self.ref_of(node))
                if type(after) is np.ndarray:
                    self.array_slot[id(after)] = slot
                    self.keep.append(after)

        return traced

    def call(self, method: Callable[..., Any], *args: Any) -> Any:
        """An update of state (``add_``, ``grad = ...``, an optimizer's ``step``, clipping the
        gradients, a buffer's update): replayed as the same call, after which the leaves' data
        is read afresh, and so is every gradient the call replaced. A number it returns (the
        norm ``clip_grad_norm_`` returns) is the replayed one."""
        self._unchanged()
        exprs = ", ".join(self._call_arg(arg, method, index == 0) for index, arg in enumerate(args))
        gradients = {key: stored_gradient(leaf) for key, (leaf, _) in self.gradient_of.items()}
        result = self._untraced(method, *args)
        self.handed = [(v, what, array, array.copy()) for v, what, array, _ in self.handed]  # its own changes
        text = f"{self.const(method)}({exprs})"
        if type(result) is float:
            slot = self._slot()
            self.emit(f"{slot} = {text}", (slot,), opaque=True)
            self._replayed_number(result, slot)
        else:
            self.emit(text, opaque=True)
        if method not in _GRADIENT_ONLY:
            self.leaf_slot.clear()
            self.updated = True
        for key, (leaf, ref) in self.gradient_of.items():
            now = stored_gradient(leaf)
            if now is not gradients[key] and now is not None:  # replaced, not changed in place
                self._read_gradient(now, ref)
        return result

    def gradient(self, value: Value, read: Callable[[Value], Any]) -> Any:
        """``value.grad`` read by the step: ``read`` (the property's getter), replayed where it
        hands out another array than the stored gradient (a float's as a 0-d array, zeros for
        none, a copy of a view), so that what the step does with it uses the replayed numbers."""
        stored = stored_gradient(value)
        result = self._untraced(read, value)
        if result is not stored and type(result) is np.ndarray:
            slot = self._slot()
            self.emit(f"{slot} = {self.const(read)}({self.ref_of(value)})", (slot,))
            self.array_slot[id(result)] = slot
            self.keep.append(result)
        self.handing(value, "grad", result)
        return result

    def handing(self, value: Value, what: str, array: Any) -> None:
        """``value.grad`` or ``value.data`` handed to the step's code, which may write into it
        with numpy: a replay would not, so a write is refused at the next recorded event."""
        if type(array) is np.ndarray:
            self.handed.append((value, what, array, array.copy()))
            if what == "data" and id(array) not in self.array_slot:  # returned, it is the replayed data
                slot = self._slot()
                self.emit(f"{slot} = asarray({self.data_expr(value)})", (slot,))
                self.array_slot[id(array)] = slot
                self.keep.append(array)

    def _unchanged(self) -> None:
        for value, what, array, given in self.handed:
            nan = array.dtype.kind in "fc"
            if array.shape != given.shape or not np.array_equal(array, given, equal_nan=nan):
                instead = _INSTEAD_OF_WRITING[what]
                self.refuse(
                    f"numpy writing into a Value's .{what} (shape {value.shape}), which a replay cannot "
                    f"repeat (use {instead} instead),"
                )

    def _read_gradient(self, gradient: Any, ref: str) -> None:
        slot = self._slot()
        self.emit(f"{slot} = sg({ref})", (slot,))
        self.keep.append(gradient)
        if type(gradient) is np.ndarray:
            self.array_slot[id(gradient)] = slot
        elif type(gradient) is float:
            self._replayed_number(gradient, slot)

    def _replayed_number(self, number: float, slot: str) -> None:
        # A number a recorded call gave: used or returned, it is the replayed one, with no warning.
        self.conversions[id(number)] = (slot, "")
        self.replayed.add(id(number))
        self.keep.append(number)

    def fresh(self, fn: Callable[..., Any], *args: Any) -> Any:
        """An array (or a tuple of arrays) the step makes outside the graph from state that
        changes between calls (dropout's mask from its generator, batch norm's running
        statistics, the positions of class labels): replayed as the same call on the same
        objects, so a replay gets what the eager step would. A constant Value taken around it
        (``ops.registry.constant``) reads the replayed array too."""
        # An array the step received or computed is its replayed one (batch norm's statistics
        # passed in as arguments); anything else is the same object.
        exprs = ", ".join(self.array_slot.get(id(arg)) or self.const(arg) for arg in args)
        made = fn(*args)
        arrays = made if type(made) is tuple else (made,)
        slots = tuple(self._slot() for _ in arrays)
        targets = ", ".join(slots) + ("," if type(made) is tuple else "")
        self.emit(f"{targets} = {self.const(fn)}({exprs})", slots)
        for array, slot in zip(arrays, slots, strict=True):
            self.array_slot[id(array)] = slot
        self.keep.append(made)
        return made

    def _call_arg(self, arg: Any, method: Callable[..., Any], changed: bool) -> str:
        # ``changed``: the first argument, what the call updates (the Value of an add_).
        if isinstance(arg, Value):
            computed = id(arg) in self.value_slot  # by an op of the step (under no_grad too)
            if not changed and computed:  # an operand (batch norm's statistic): its numbers
                return self.value_slot[id(arg)]
            if (arg.is_leaf and not computed) or id(arg) in self.leaf_ref:
                return self.ref_of(arg)
            name = getattr(method, "__name__", "an update")
            self.refuse(f"{name} on a Value computed inside the step (an in-place change of an op's result)")
        if type(arg) is np.ndarray:
            return self.array_expr(arg)
        found = self.conversions.get(id(arg))
        if found is not None:  # a number from .item() (ReduceLROnPlateau's metric): the replayed one
            self.passed.add(id(arg))
            return f"num({found[0]})"
        return self.const(arg)

    def converted(self, value: Value, method: Callable[..., Any]) -> Any:
        if method is Storage.__bool__:
            raise RuntimeError(
                "autonet.compile: a Value was converted to bool while tracing (an `if` or `while` on "
                f"it, at {user_site()}): Python control flow that depends on the data, which a replay "
                "cannot follow; compute both sides with autonet.where, or keep this step eager "
                "(autonet.compile(fn, disable=True))"
            )
        expr = self.data_expr(value)
        result = self._untraced(method, value)
        self.conversions[id(result)] = (expr, user_site())
        self.keep.append(result)
        return result

    # ----------------------------------------------------------------- the tape

    def result_expr(self, obj: Any, used: set[int]) -> str:
        kind = type(obj)
        if isinstance(obj, Value):
            return f"V({self.data_expr(obj)})"
        if kind is np.ndarray:
            slot = self.array_slot.get(id(obj))
            if slot is None:
                raise RuntimeError(
                    "autonet.compile: the step returns an array that no recorded op computed (numpy "
                    "work on a Value's data?); return Values, their .grad, or numbers from .item()"
                )
            return slot
        if kind is float or kind is int or isinstance(obj, np.generic):
            found = self.conversions.get(id(obj))
            if found is not None:
                used.add(id(obj))
                return f"num({found[0]})" if kind is float else f"int({found[0]})"
            if id(obj) not in self.signature_numbers:  # an argument's is the signature's own
                self.frozen = True  # a number computed outside the ops: the traced one
            return self.const(obj)
        if kind in (list, tuple):
            items = "".join(f"{self.result_expr(item, used)}, " for item in obj)
            return f"[{items}]" if kind is list else f"({items})"
        if isinstance(obj, tuple):  # a namedtuple
            items = ", ".join(self.result_expr(item, used) for item in obj)
            return f"{self.const(kind)}({items})"
        if kind is dict:
            items = ", ".join(f"{self.const(k)}: {self.result_expr(v, used)}" for k, v in obj.items())
            return "{" + items + "}"
        return self.const(obj)

    def finish(self, result: Any) -> Callable[[tuple, dict], Any]:
        self._unchanged()
        used = self.passed | self.replayed
        returned = self.result_expr(result, used)
        for key, (_, site) in self.conversions.items():
            if key not in used:
                warnings.warn(
                    f"autonet.compile: the step turned a Value into a Python number at {site}; a replay "
                    "does not run Python code, so whatever the step computed from that number keeps "
                    "its traced value (return the number instead, or keep the step eager)",
                    CompileWarning,
                    stacklevel=5,
                )
        if self.frozen:
            warnings.warn(
                "autonet.compile: the step returns numbers that no recorded op computed (a "
                "learning rate read in Python, a metric computed with numpy); a replay returns them "
                "as traced. Return .item() of a Value, or read them outside the step",
                CompileWarning,
                stacklevel=5,
            )
        top = [self._observed(*seen) for seen in self.observed.values()]
        top += [self._guard(*guard) for guard in self.guards.values()]
        body = _with_deletions(top + self.lines, returned)
        body.append(f"return {returned}")
        source = "def replay(args, kwargs):\n" + "".join(f"    {line}\n" for line in body)
        namespace = {**self.names, **self.consts}
        exec(source, namespace)  # the code is the tape written out
        replay = namespace["replay"]
        replay.source = source
        replay.constants = dict(self.consts)
        # Values the step itself made (Value(x) with a gradient, say) are new objects in every call.
        replay.made = {name for name, obj in self.consts.items() if id(obj) in self.made}
        # Arrays and numpy numbers the step made outside the ops (numpy work on an argument, a
        # draw): only a tape holding some needs its second call to check that it repeats.
        known = self.settled | {id(value) for _, value in self.observed.values()}
        replay.unsure = any(
            isinstance(obj, (np.ndarray, np.generic)) and id(obj) not in known for obj in self.consts.values()
        )
        return replay

    def _guard(self, ref: str, data: Any, slot: str | None, requires_grad: bool) -> _Line:
        name = slot or "d"
        if type(data) is float:
            check = f"type({name}) is not float"
        else:
            dtype = self.const(data.dtype)
            check = (
                f"type({name}) is not ndarray or {name}.shape != {data.shape!r} or {name}.dtype != {dtype}"
            )
        check += f" or {ref}.requires_grad is not {requires_grad}"  # frozen or unfrozen since
        return _Line(f"{name} = sd({ref})\n    if {check}: raise Stale", (name,) if slot else (), (), False)

    def observe(self, obj: Any, names: Any = None) -> None:
        """The step's Python code reads these attributes of ``obj`` (a module's: its mode,
        settings, parameters and parts; all public ones by default): a replay checks each first,
        a number or string by value, anything else by identity, and traces again where one
        changed (after ``eval()``, ``dropout.p = 0`` or ``layer.weight = Value(...)``)."""
        names = [n for n in vars(obj) if not n.startswith("_")] if names is None else names
        for name in names:
            key = (id(obj), name)
            if key not in self.observed:
                ref = self.const(obj)
                expr = f"{ref}.{name}" if name.isidentifier() else f"getattr({ref}, {name!r})"
                self.observed[key] = (expr, getattr(obj, name))

    def observe_function(self, fn: Callable[..., Any]) -> None:
        """What the step's own code closes over and the globals it names (the model, the
        optimizer, a Python number): checked by every replay like a module's attributes."""
        code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None) or ()
        if code is None:
            return
        for name, cell in zip(code.co_freevars, cells, strict=False):
            try:
                self.observed[(id(cell), name)] = (f"{self.const(cell)}.cell_contents", cell.cell_contents)
            except ValueError:  # a cell not filled yet
                continue
        space = getattr(fn, "__globals__", {})
        for name in code.co_names:
            if name in space and not isinstance(space[name], type(functools)):  # modules stay
                self.observed[(id(space), name)] = (f"{self.const(space)}[{name!r}]", space[name])

    def _observed(self, expr: str, value: Any) -> _Line:
        same = "==" if type(value) in (int, float, str, bool) else "is"
        return _Line(f"if not ({expr} {same} {self.const(value)}): raise Stale", (), (), False)


_GRADIENT_ONLY = (Storage.zero_grad, Storage.grad.fset)  # type: ignore[attr-defined]
_INSTEAD_OF_WRITING = {
    "grad": "v.grad = ..., nn.utils.clip_grad_value_ or clip_grad_norm_",
    "data": "v.add_, v.mul_ or v.copy_",
}


def _with_deletions(lines: list[_Line], returned: str) -> list[str]:
    """The tape's lines with, before each update of leaves, ``del`` of every slot no later line
    uses: a slot would keep a parameter's old array alive, and the update would copy it (copy on
    write) where the eager step updates it in place."""
    last: dict[str, int] = {}
    for index, line in enumerate(lines):
        for name in line.uses:
            last[name] = index
    for name in _SLOT.findall(returned):
        last[name] = len(lines)
    alive: set[str] = set()
    out = []
    for index, line in enumerate(lines):
        if line.opaque:
            dead = sorted(name for name in alive if last.get(name, -1) < index)
            if dead:
                out.append(f"del {', '.join(dead)}")
                alive.difference_update(dead)
        out.append(line.text)
        alive.update(name for name in line.defines if not name.startswith("a"))
    return out


def _arg_key(arg: Any) -> Any:
    kind = type(arg)
    if kind is np.ndarray:
        return (kind, arg.shape, arg.dtype)
    if kind is Value:
        data = stored_data(arg)
        shape = () if type(data) is float else (data.shape, data.dtype)
        return (kind, shape, arg.requires_grad, arg.is_leaf)
    if kind in (int, float, bool, str, type(None)):
        return (kind, arg)
    if isinstance(arg, (list, tuple)):  # a namedtuple by its items, like a tuple
        return (kind, tuple(map(_arg_key, arg)))
    if isinstance(arg, dict):
        return (kind, tuple((k, _arg_key(v)) for k, v in arg.items()))
    return (kind, id(arg))


def compile(  # noqa: A001 - the name users know from torch.compile
    fn: F | None = None, *, disable: bool = False, cache_size: int = 8
) -> F | Callable[[F], F]:
    """``fn`` (a training step, say), traced on its first call and replayed after: the same
    signature, the same results bit for bit, without Values or a graph walk on later calls.

    A new signature (the shapes and dtypes of the array and Value arguments, the values of the
    Python numbers, strings and None, the identity of other arguments) traces again (twice, to
    check that the tape repeats, where it holds arrays made outside the ops); the last
    ``cache_size`` signatures are kept. Results come back with the structure ``fn`` returned. What
    a replay cannot follow (Python control flow on numbers, numpy work on a Value's data) and
    what works on the eager path only are in the module's docstring and docs/compile.md.
    Returns the compiled function, or a decorator when ``fn`` is not given;
    ``compiled.traces`` counts the signatures traced, ``compiled.clear_cache()`` forgets them.

    >>> import numpy as np
    >>> import autonet
    >>> w = autonet.Value(np.array([1.0, -2.0]))
    >>> @autonet.compile
    ... def step(x):
    ...     w.zero_grad()
    ...     loss = ((w * x).sum() ** 2)
    ...     loss.backward()
    ...     w.add_(w.grad, alpha=-0.1)
    ...     return loss.item()
    >>> [step(np.array([1.0, 1.0])) for _ in range(3)]
    [1.0, 0.36, 0.1296]
    >>> step.traces
    1
    """
    if fn is None:
        return lambda f: compile(f, disable=disable, cache_size=cache_size)  # type: ignore[return-value]
    if not callable(fn):
        raise TypeError(f"autonet.compile: expected a function, got {type(fn).__name__}")
    if cache_size < 1:
        raise ValueError(f"autonet.compile: cache_size must be at least 1, got {cache_size}")
    cache = _Cache(fn, cache_size)

    @functools.wraps(fn)
    def compiled(*args: Any, **kwargs: Any) -> Any:
        if disable or STATE.tracer is not None:  # eager, or inside another compiled step's trace
            return fn(*args, **kwargs)
        key = (STATE.grad_enabled, tuple(map(_arg_key, args)), *((k, _arg_key(v)) for k, v in kwargs.items()))
        result, traced = cache.call(key, args, kwargs)
        compiled.traces += traced  # type: ignore[attr-defined]
        return result

    compiled.traces = 0  # type: ignore[attr-defined]
    compiled.clear_cache = cache.entries.clear  # type: ignore[attr-defined]
    return compiled  # type: ignore[return-value]


class _Unchecked:
    """A trace not yet seen to repeat: the signature's next call traces again to compare."""

    __slots__ = ("replay", "tries")

    def __init__(self, replay: Callable[[tuple, dict], Any], tries: int) -> None:
        self.replay, self.tries = replay, tries


_EAGER = object()  # a signature whose traces did not repeat: it runs eagerly
_MANY_SIGNATURES = 10  # traced signatures after which a compiled function says it keeps tracing
_TRIES = 3  # traces of one signature, at most, before it is given up as eager


class _Cache:
    """The traces of one compiled function, by signature. A trace that holds arrays the step
    made outside the ops is replayed only once a second call has traced the very same tape
    (its code and its constants): what the tracer cannot see (numpy work on an argument or a
    gradient, numpy's own random draws) shows up as a tape that changed, and such a signature
    runs eagerly, with a CompileWarning, instead of replaying stale numbers. Any other trace
    is replayed from the next call."""

    def __init__(self, fn: Callable[..., Any], size: int) -> None:
        self.fn, self.size = fn, size
        self.entries: OrderedDict[Any, Any] = OrderedDict()
        self.signatures = 0

    def call(self, key: Any, args: tuple, kwargs: dict) -> tuple[Any, int]:
        """The result of one call, and 1 if it traced a new signature (else 0)."""
        entry = self.entries.get(key)
        if entry is _EAGER:
            return self.fn(*args, **kwargs), 0
        if entry is not None and not isinstance(entry, _Unchecked):
            try:
                return entry(args, kwargs), 0
            except _Stale:  # a parameter changed its kind: a new trace, checked again
                entry = None
        result, replay = _traced(self.fn, args, kwargs)
        if entry is None:
            self._keep(key, _Unchecked(replay, 1) if replay.unsure else replay)
            self.signatures += 1
            if self.signatures == _MANY_SIGNATURES:
                warnings.warn(_many_signatures(self.fn), CompileWarning, stacklevel=4)
            return result, 1
        if _same_tape(entry.replay, replay):
            self.entries[key] = replay
        elif entry.tries + 1 < _TRIES:
            self.entries[key] = _Unchecked(replay, entry.tries + 1)
        else:
            self.entries[key] = _EAGER
            warnings.warn(_changing_tape(self.fn, entry.replay, replay), CompileWarning, stacklevel=4)
        return result, 0

    def _keep(self, key: Any, entry: Any) -> None:
        self.entries[key] = entry
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def _same_tape(first: Any, second: Any) -> bool:
    if first.source != second.source or first.constants.keys() != second.constants.keys():
        return False
    if first.made != second.made:
        return False
    pairs = ((first.constants[k], second.constants[k]) for k in first.constants if k not in first.made)
    return all(_same_constant(a, b) for a, b in pairs)


def _same_constant(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, Value):
        return False
    if type(a) is np.ndarray:
        nan = a.dtype.kind in "fc"
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=nan))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(_same_constant, a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same_constant(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:  # an object without a plain equality: only itself is the same
        return False


def _many_signatures(fn: Callable[..., Any]) -> str:
    return (
        f"autonet.compile: {getattr(fn, '__name__', 'the step')} has traced {_MANY_SIGNATURES} "
        "signatures: each new Python number, list, shape or dtype among its arguments (a step "
        "counter, a batch as a list) traces again, which is slower than running it eagerly; pass "
        "arrays, or compile it with disable=True"
    )


def _changing_tape(fn: Callable[..., Any], first: Any, second: Any) -> str:
    lines = zip(first.source.splitlines(), second.source.splitlines(), strict=False)
    where = next((f"`{a.strip()}` then `{b.strip()}`" for a, b in lines if a != b), "the same code")
    return (
        f"autonet.compile: {getattr(fn, '__name__', 'the step')} traced differently on "
        f"{_TRIES} calls with the same signature ({where}, or a constant that changed): it "
        "computes something outside autonet's ops (numpy work on an argument or a gradient, an "
        "array or Value closed over, a random draw of numpy's own) that changes from call to call, "
        "so a replay would repeat stale numbers; this signature runs eagerly. Do that work with "
        "autonet's ops, or pass what changes as an argument"
    )


def _traced(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, Callable[[tuple, dict], Any]]:
    """Run ``fn`` eagerly under a tracer: its result and the replay of what it did."""
    if STATE.anomaly_enabled:
        raise RuntimeError(f"autonet.compile: detect_anomaly() {_EAGER_ONLY}")
    tracer = _Tracer(args, kwargs)
    tracer.observe_function(fn)
    with _COUNTING:
        TRACING[0] += 1
    STATE.tracer = tracer
    try:
        result = fn(*args, **kwargs)
        STATE.tracer = None
        return result, tracer.finish(result)
    finally:
        STATE.tracer = None
        with _COUNTING:
            TRACING[0] -= 1
