"""The backward walk's seed and per-edge work: calling an op's vjp and fitting what it returns.

The engine's walk (``backward_pass``) chooses one edge function per backward: plain (arrays in,
arrays out), graph (under ``create_graph``: the vjps run on Values and record a graph) or either
one checked for non-finite gradients (anomaly mode). Each gets a node's record (the tuple in
``Record``'s order) and returns
the gradient for one input, brought to that input's shape and dtype in one place (``_fit``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._state import STATE, detect_anomaly, set_grad_enabled
from .anomaly import AnomalyError, check_finite
from .arrays import shape_of, to_data
from .ops.registry import Op, as_value, is_value, sum_to_shape
from .storage import Storage, stored_data

__all__ = ["REDONE_ERRORS", "Walking", "collector", "edge_work", "plain_edge", "seed_gradient"]

_PAUSE_COLLECTOR_ABOVE = 10_000  # graph size (Values) above which backward pauses the cyclic collector


def _report(record: Any, grad: Any, phase: str, node: Any) -> None:
    op, inputs = record[0], record[1]
    check_finite(op.name, np.asarray(grad), [x.shape for x in inputs], phase, node.created_at)


def collector(targets: Sequence[Any], found: list[Any]) -> Callable[[Any, Any, bool], None]:
    """Deliver gradients into ``found`` at the positions of ``targets`` (one Value asked for
    twice gets its gradient twice), storing nothing on the Values."""
    wanted: dict[int, list[int]] = {}
    for i, target in enumerate(targets):
        wanted.setdefault(id(target), []).append(i)

    def collect(node: Any, g: Any, shared: bool) -> None:
        for i in wanted.get(id(node), ()):
            found[i] = g

    return collect


class Walking:
    """The walk's surroundings: grad mode is ``create_graph`` (set by hand, as this runs once per
    backward on the hot path of small graphs); numpy's warnings are off under anomaly mode (the
    AnomalyError says more); and on a big graph the cyclic collector waits until the walk is done,
    since each release allocates and every collection would scan the whole live graph again."""

    __slots__ = ("create_graph", "errstate", "grad_enabled", "paused", "size")

    def __init__(self, size: int, create_graph: bool) -> None:
        self.size, self.create_graph = size, create_graph

    def __enter__(self) -> None:
        self.grad_enabled, STATE.grad_enabled = STATE.grad_enabled, self.create_graph
        self.paused = self.size > _PAUSE_COLLECTOR_ABOVE and gc.isenabled()
        if self.paused:
            gc.disable()
        self.errstate = np.seterr(all="ignore") if STATE.anomaly_enabled else None

    def __exit__(self, *exc: Any) -> None:
        STATE.grad_enabled = self.grad_enabled
        if self.errstate is not None:
            np.seterr(**self.errstate)
        if self.paused:
            gc.enable()


def edge_work(create_graph: bool, anomaly: bool) -> Callable[..., Any]:
    """The per-edge work of this backward, chosen once: plain arrays, a differentiable graph, and
    either one checked for non-finite gradients.

    >>> edge_work(False, False).__name__
    '_plain_edge'
    """
    edge = _graph_edge if create_graph else _plain_edge
    return _checked_edge(edge) if anomaly else edge


def _vjp_params(record: Any) -> dict | None:
    # What a forward saved for its vjps reaches them as ``saved=``; the record keeps it apart.
    op, _, params, _, _, saved = record
    return {**(params or {}), "saved": saved} if op.saves else params


# What a vjp may raise on the recorded data (a Python float divided by 0.0, say) that
# ``plain_edge`` answers by calling it again under numpy's rules, or by naming the op.
REDONE_ERRORS = (ArithmeticError, TypeError, ValueError, IndexError)


def _plain_edge(record: Any, node: Any, index: int, g: Any) -> Any:
    """The gradient for input ``index`` from arrays: the vjp on the recorded data, fitted."""
    op, _, params, datas, out, _ = record
    if op.saves:
        params = _vjp_params(record)
    if op.variadic:
        grad = _call_vjp(op.vjps[0], op, index, g, out, datas, params)
    else:
        vjp = op.vjps[index]
        try:
            grad = vjp(g, out, *datas, **params) if params else vjp(g, out, *datas)
        except REDONE_ERRORS:
            grad = _call_vjp(vjp, op, index, g, out, datas, params)  # redoes float quirks, or names the op
    data = datas[index]
    kind = type(grad)
    if kind is np.ndarray:
        if type(data) is not float and grad.shape == data.shape and grad.dtype == data.dtype:
            return grad  # the common case: nothing to undo
    elif kind is float and type(data) is float:
        return grad
    return _fit(grad, data, op, index)


def plain_edge(record: Any, node: Any, index: int, g: Any) -> Any:
    """The gradient for input ``index`` of ``record`` (a ``Record`` or its six parts) from
    arrays, given the output's gradient ``g``: the op's vjp on the recorded data, brought to the
    input's shape and dtype; what a plain ``backward()`` computes per edge (``node`` is unused),
    and what ``autonet.compile`` replays.

    >>> from autonet import Value
    >>> y = Value(3.0) * Value(2.0)
    >>> plain_edge(y.record, y, 0, 1.0)
    2.0
    """
    return _plain_edge(record, node, index, g)


def _graph_edge(record: Any, node: Any, index: int, g: Any) -> Any:
    """The gradient for input ``index`` as a Value: the vjp runs on the input Values themselves,
    so it records a graph that can be differentiated again."""
    op, inputs, _, datas, _, _ = record
    _check_unchanged(op, inputs, datas)
    vjp = op.vjps[0] if op.variadic else op.vjps[index]
    grad = _call_vjp(vjp, op, index, g, node, inputs, _vjp_params(record))
    return _fit(as_value(grad), datas[index], op, index)


def _check_unchanged(op: Op, parents: Sequence[Any], datas: Sequence[Any]) -> None:
    """Under create_graph the vjps run on the input Values themselves, so their numbers must
    still be those the forward used."""
    for index, (parent, data) in enumerate(zip(parents, datas, strict=True)):
        current = stored_data(parent)
        # A Value that moved to a copy of its numbers (see ``Value.data``) is unchanged.
        if current is not data and not np.array_equal(current, data, equal_nan=True):
            raise RuntimeError(
                f"backward: input {index} of {op.name} (shape {shape_of(data)}"
                f"{f', label {parent.label!r}' if parent.label else ''}) was given new data after the op "
                "recorded it; create_graph=True differentiates the Values as they are now, so run the "
                "forward again after changing them"
            )


def _checked_edge(edge: Callable[..., Any]) -> Callable[..., Any]:
    def checked(record: Any, node: Any, index: int, g: Any) -> Any:
        phase = f"backward, in the gradient for input {index}"
        try:
            grad = edge(record, node, index, g)
        except AnomalyError:
            # Under create_graph an op inside this vjp flagged itself; blame the op whose gradient
            # it is when that gradient is non-finite, else keep the inner report.
            with set_grad_enabled(False), detect_anomaly(False):
                grad = edge(record, node, index, g)
            _report(record, grad, phase, node)
            raise
        _report(record, grad, phase, node)
        return grad

    return checked


def _fit(grad: Any, data: Any, op: Op, index: int) -> Any:
    """Bring one vjp result to the shape (undoing broadcasting) and dtype of the input ``data``
    the forward used, or say which op erred. Values stay Values (under create_graph)."""
    shape = shape_of(data)
    found = grad.shape if type(grad) is np.ndarray or is_value(grad) else np.shape(grad)
    if found != shape:
        try:
            grad = sum_to_shape(grad, shape)
        except ValueError:
            raise RuntimeError(
                f"{op.name}: the vjp for input {index} returned shape {found}, "
                f"but the input has shape {shape}"
            ) from None
    if is_value(grad):
        return grad
    if type(data) is float:
        return float(grad)
    if type(grad) is not np.ndarray or grad.dtype != data.dtype:
        grad = np.asarray(grad, dtype=data.dtype)
    return grad


def _call_vjp(
    vjp: Callable, op: Op, index: int, g: Any, out: Any, args: Sequence, params: dict | None
) -> Any:
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


def seed_gradient(root: Storage, gradient: Any, create_graph: bool) -> Any:
    """The gradient the walk starts from: 1 for a scalar, else ``gradient`` checked against the
    root's shape and dtype, as numbers (a float or an array of its own); under create_graph as a
    Value, and a ``gradient`` Value that requires grad kept as it is, graph and all.

    >>> from autonet import Value
    >>> seed_gradient(Value(2.0) * 1.0, None, False)
    1.0
    """
    if not isinstance(root, Storage):
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
        seed = 1.0 if type(stored_data(root)) is float else np.ones(root.shape, root.dtype)
    elif isinstance(gradient, Storage) and create_graph and gradient.requires_grad:
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
        numbers = stored_data(gradient) if isinstance(gradient, Storage) else gradient
        seed = to_data(numbers, None, "gradient")
        if shape_of(seed) != root.shape:
            raise ValueError(
                f"backward: gradient has shape {shape_of(seed)} but the Value has shape {root.shape}"
            )
        if type(seed) is not float or type(stored_data(root)) is not float:
            seed = np.array(seed, dtype=root.dtype)  # a copy: the caller's array never becomes a .grad
    if STATE.anomaly_enabled and not np.isfinite(seed).all():
        raise AnomalyError(f"backward: the gradient passed in holds nan or inf (shape {root.shape})")
    return as_value(seed) if create_graph else seed
