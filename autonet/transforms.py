"""Forward mode and the Jacobians, shaped like JAX's: ``jvp``, ``linearize``, ``vjp``, ``jacobian``,
``hessian`` and ``hvp``.

Forward mode runs the function once on Values, recording its graph as any forward does, then
pushes tangents through the recorded nodes in topological order with each op's ``jvps`` (its
registry entry holds them beside its vjps). So a jvp costs the recorded forward plus one tangent
pass, about one more forward: each node's jvp does about the work of its forward, with the
numbers the forward left in the record (nothing is recomputed, nothing is differentiated
twice). The tangent pass reads the records through ``Value.record`` and changes nothing: no
``.grad``, no record, no graph.

These functions read the numbers of their arguments (floats, arrays or Values) and return numpy
arrays, as JAX does; they do not record into a graph around them. Derivatives of derivatives
compose inside them instead: ``hessian`` and ``hvp`` run forward mode over reverse mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._state import set_grad_enabled
from .engine import Value
from .functional import grad, gradients
from .ops.registry import Op
from .storage import stored_data

__all__ = ["hessian", "hvp", "jacobian", "jvp", "linearize", "vjp"]

_MODES = ("auto", "forward", "reverse")


# --------------------------------------------------------------------------- arguments and results


def _leaf(arg: Any, who: str, k: int) -> Value:
    """A leaf of its own for argument ``k``: the numbers of a Value, a number or an array."""
    numbers = stored_data(arg) if isinstance(arg, Value) else arg
    try:
        return Value(numbers)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{who}: argument {k} is not a number, an array or a Value: {error}") from None


def _arguments(args: Any, what: str, who: str) -> tuple[Any, ...]:
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"{who}: {what} must be a tuple (or list) with one entry per positional argument of the "
            f"function, got {type(args).__name__}; write ({what[:-1]},) for one argument"
        )
    return tuple(args)


def _outputs(result: Any, who: str, constants: bool = False) -> tuple[list[Value], bool]:
    """The function's result as a list of Values and whether it was one Value (not a tuple).
    ``constants``: numbers and arrays count as outputs that depend on nothing."""
    single = not isinstance(result, (tuple, list))
    items = [result] if single else list(result)
    if not items:
        raise ValueError(f"{who}: the function returned an empty {type(result).__name__}")
    outputs = []
    for k, item in enumerate(items):
        if not isinstance(item, Value):
            if not constants:
                place = "the function" if single else f"output {k} of the function"
                raise TypeError(
                    f"{who}: {place} returned {type(item).__name__}, not a Value; compute it from the "
                    "function's arguments (Values) with autonet ops, and wrap a constant in "
                    "Value(c, requires_grad=False)"
                )
            item = Value(item, requires_grad=False)
        outputs.append(item)
    return outputs, single


def _numbers_of(value: Value) -> np.ndarray:
    return np.array(stored_data(value))  # a copy of its own, 0-d for a scalar


def _checked(vector: Any, like: Value, who: str, what: str) -> np.ndarray:
    """A tangent or cotangent for ``like``: its shape, and its dtype (integers are converted)."""
    numbers = stored_data(vector) if isinstance(vector, Value) else vector
    try:
        array = np.asarray(numbers)
    except Exception as error:  # anything numpy refuses is the caller's error
        raise TypeError(f"{who}: {what} is not a number or an array: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {what} must hold real numbers, got dtype {array.dtype}")
    if array.shape != like.shape:
        raise ValueError(f"{who}: {what} has shape {array.shape}, it needs shape {like.shape}")
    if array.dtype.kind == "f" and array.dtype != like.dtype:
        raise TypeError(
            f"{who}: {what} has dtype {array.dtype}, it needs dtype {like.dtype}; convert it with "
            f".astype(np.{like.dtype})"
        )
    return np.asarray(array, dtype=like.dtype)


# --------------------------------------------------------------------------- the tangent pass


def _topological(outputs: Sequence[Value]) -> list[Value]:
    """The recorded nodes behind ``outputs``, each after all of its inputs: a depth-first walk
    on an explicit stack (no recursion, so depth is bounded by memory only)."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(out, False) for out in reversed(outputs)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        record = node.record
        if record is None:
            continue
        stack.append((node, True))
        stack.extend((parent, False) for parent in reversed(record.inputs) if id(parent) not in seen)
    return order


def _scalar(x: Any) -> Any:
    # A float64 scalar is recorded as a Python float, which raises on 1 / 0 where numpy gives inf.
    return np.float64(x) if type(x) is float else x


def _share(op: Op, record: Any, index: int, tangent: np.ndarray) -> Any:
    """Input ``index``'s share of the output tangent of one recorded node: its jvp."""
    if op.jvps is None:
        raise NotImplementedError(
            f"jvp: op {op.name!r} was registered without forward mode (jvps=None); give its entry "
            "jvps=(...) or take the reverse-mode route (vjp, jacobian(mode='reverse'))"
        )
    params = dict(record.params or {})
    if op.saves:
        params["saved"] = record.saved
    datas = [_scalar(d) for d in record.datas]
    out = _scalar(record.out)
    try:
        if op.variadic:
            return op.jvps[0](index, tangent, out, *datas, **params)
        return op.jvps[index](tangent, out, *datas, **params)
    except (ArithmeticError, TypeError, ValueError, IndexError) as error:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise RuntimeError(
            f"{op.name}: computing the jvp for input {index} failed with {type(error).__name__}: "
            f"{error} (input shapes {shapes})"
        ) from error


def _fitted(share: Any, out: Any, op: Op, index: int) -> np.ndarray:
    """One jvp result brought to the output's shape (broadcasting, done here once) and dtype."""
    share = np.asarray(share)
    shape, dtype = np.shape(out), np.result_type(out)
    if share.shape != shape:
        try:
            share = np.broadcast_to(share, shape)
        except ValueError:
            raise RuntimeError(
                f"{op.name}: the jvp for input {index} returned shape {share.shape}, which does not "
                f"broadcast to the output's shape {shape}"
            ) from None
    return share if share.dtype == dtype else share.astype(dtype)


def _push(order: Sequence[Value], seeds: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Tangents of every node in ``order`` from the ``seeds`` (by leaf id); a node none of whose
    inputs moves gets none (its tangent is 0)."""
    tangents = dict(seeds)
    with np.errstate(all="ignore"):  # inf and nan tangents are the numbers' own business, as in backward
        for node in order:
            record = node.record
            total = None
            for index, parent in enumerate(record.inputs):
                tangent = tangents.get(id(parent))
                if tangent is None:
                    continue
                if record.datas is None:  # a graph of the user's, which a tangent reaches
                    raise RuntimeError(
                        f"jvp: the graph through this {record.op.name} was released by a backward(); "
                        "forward mode needs the numbers its forward recorded (retain_graph=True keeps them)"
                    )
                share = _fitted(_share(record.op, record, index, tangent), record.out, record.op, index)
                total = share if total is None else total + share
            if total is not None:
                tangents[id(node)] = total
    return tangents


class _Recorded:
    """``f`` run once on Values (one leaf per argument), its graph kept for tangent passes
    (``push``) and backward passes (``pull``) at that point."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], who: str, constants: bool = False) -> None:
        if not callable(f):
            raise TypeError(f"{who}: expected a function first, got {type(f).__name__}")
        self.who = who
        self.leaves = [_leaf(a, who, k) for k, a in enumerate(args)]
        with set_grad_enabled(True):
            self.outputs, self.single = _outputs(f(*self.leaves), who, constants)
        self._order: list[Value] | None = None

    def values(self) -> Any:
        found = [_numbers_of(out) for out in self.outputs]
        return found[0] if self.single else tuple(found)

    def push(self, tangents: Sequence[np.ndarray | None]) -> list[np.ndarray]:
        """The outputs' tangents for these leaf tangents (None: the leaf does not move)."""
        if self._order is None:
            self._order = _topological(self.outputs)
        seeds = {id(leaf): t for leaf, t in zip(self.leaves, tangents, strict=True) if t is not None}
        found = _push(self._order, seeds)
        results = []
        for out in self.outputs:
            tangent = found.get(id(out))
            results.append(np.zeros(out.shape, out.dtype) if tangent is None else np.array(tangent))
        return results

    def pull(self, cotangents: Sequence[np.ndarray], picks: Sequence[int]) -> list[np.ndarray]:
        """The gradients of the leaves ``picks`` for these output cotangents (reverse mode)."""
        targets = [self.leaves[p] for p in picks]
        total = [np.zeros(leaf.shape, leaf.dtype) for leaf in targets]
        for out, u in zip(self.outputs, cotangents, strict=True):
            if not out.requires_grad or not u.any():
                continue
            found = gradients(out, targets, gradient=u, retain_graph=True)
            total = [t + np.asarray(g, dtype=t.dtype) for t, g in zip(total, found, strict=True)]
        return [np.asarray(t) for t in total]


# --------------------------------------------------------------------------- forward mode


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Forward mode: ``f`` at ``primals`` and its directional derivative along ``tangents``,
    as ``jax.jvp``.

    ``primals`` and ``tangents`` are tuples (or lists) with one entry per positional argument of
    ``f``: numbers, arrays or Values (read for their numbers). Each tangent has its primal's
    shape and float dtype (integers are converted). ``f`` takes Values and returns a Value, or a
    tuple of Values.

    Returns ``(output, output_tangent)`` as numpy arrays (tuples of them for a tuple output).
    Costs one recorded forward of ``f`` and one tangent pass through the recorded nodes, each
    op's jvp doing about the work of its forward. Raises TypeError for a non-tuple ``primals``,
    a tangent of another dtype or an ``f`` that returns no Value, ValueError for a tangent of
    another shape; each names the argument.

    >>> import numpy as np
    >>> from autonet import jvp
    >>> out, slope = jvp(lambda x: x ** 3, (2.0,), (1.0,))
    >>> float(out), float(slope)
    (8.0, 12.0)
    """
    primals = _arguments(primals, "primals", "jvp")
    tangents = _arguments(tangents, "tangents", "jvp")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one per primal")
    recorded = _Recorded(f, primals, "jvp")
    seeds = [
        _checked(t, leaf, "jvp", f"tangent {k}")
        for k, (t, leaf) in enumerate(zip(tangents, recorded.leaves, strict=True))
    ]
    pushed = recorded.push(seeds)
    return recorded.values(), pushed[0] if recorded.single else tuple(pushed)


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``f`` at ``primals`` and its jvp there as a function, as ``jax.linearize``: ``f`` runs once,
    and each call of the returned function is one tangent pass through its recorded graph.

    The function takes one tangent per primal (None: that argument does not move) and returns
    the output's tangent (a tuple for a tuple output), as ``jvp`` does.

    >>> import numpy as np
    >>> from autonet import linearize
    >>> out, f_jvp = linearize(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    >>> float(out), float(f_jvp(np.array([1.0, 0.0]))), float(f_jvp(np.array([0.0, 1.0])))
    (5.0, 2.0, 4.0)
    """
    recorded = _Recorded(f, primals, "linearize")

    def f_jvp(*tangents: Any) -> Any:
        if len(tangents) != len(recorded.leaves):
            raise TypeError(f"linearize: takes {len(recorded.leaves)} tangent(s), got {len(tangents)}")
        seeds = [
            None if t is None else _checked(t, leaf, "linearize", f"tangent {k}")
            for k, (t, leaf) in enumerate(zip(tangents, recorded.leaves, strict=True))
        ]
        pushed = recorded.push(seeds)
        return pushed[0] if recorded.single else tuple(pushed)

    return recorded.values(), f_jvp


# --------------------------------------------------------------------------- reverse mode


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., tuple[np.ndarray, ...]]]:
    """Reverse mode: ``f`` at ``primals`` and a function from an output cotangent to the
    cotangents of the primals, as ``jax.vjp``.

    ``vjp_fn(cotangent)`` takes an array of the output's shape and dtype (a tuple of them for a
    tuple output) and returns a tuple with one gradient per primal; it may be called many times
    (one backward pass each, through the graph ``f`` recorded once). Nothing is stored in any
    ``.grad``.

    >>> import numpy as np
    >>> from autonet import vjp
    >>> out, vjp_fn = vjp(lambda a, b: a * b, np.array([1.0, 2.0]), 3.0)
    >>> [g.tolist() for g in vjp_fn(np.array([1.0, 1.0]))]
    [[3.0, 3.0], 3.0]
    """
    recorded = _Recorded(f, primals, "vjp")
    picks = list(range(len(primals)))

    def vjp_fn(cotangent: Any) -> tuple[np.ndarray, ...]:
        given = [cotangent] if recorded.single else list(_arguments(cotangent, "cotangents", "vjp"))
        if len(given) != len(recorded.outputs):
            raise ValueError(f"vjp: {len(given)} cotangents for {len(recorded.outputs)} outputs")
        names = ["the cotangent"] if recorded.single else [f"cotangent {k}" for k in range(len(given))]
        checked = [
            _checked(u, out, "vjp", n) for u, out, n in zip(given, recorded.outputs, names, strict=True)
        ]
        return tuple(recorded.pull(checked, picks))

    return recorded.values(), vjp_fn


# --------------------------------------------------------------------------- Jacobians


def _picks(argnums: int | tuple[int, ...], count: int, who: str) -> tuple[list[int], bool]:
    many = isinstance(argnums, tuple)
    picks = list(argnums) if many else [argnums]
    for p in picks:
        if isinstance(p, bool) or not isinstance(p, int) or not -count <= p < count:
            raise ValueError(
                f"{who}: argnums {argnums!r} do not name positional arguments of a call with {count}"
            )
    return [p % count for p in picks], many


def _jacobians(recorded: _Recorded, picks: Sequence[int], mode: str) -> list[list[np.ndarray]]:
    """``J[o][j]``, the Jacobian of output ``o`` in argument ``picks[j]``, of shape out + in."""
    outputs, leaves = recorded.outputs, recorded.leaves
    size_in = sum(leaves[p].size for p in picks)
    size_out = sum(out.size for out in outputs)
    forward = mode == "forward" or (mode == "auto" and size_in < size_out)
    blocks = [[np.zeros((out.size, leaves[p].size), out.dtype) for p in picks] for out in outputs]
    if forward:  # one tangent pass per input element: columns
        for j, p in enumerate(picks):
            leaf = leaves[p]
            for k in range(leaf.size):
                seeds: list[np.ndarray | None] = [None] * len(leaves)
                basis = np.zeros(leaf.size, leaf.dtype)
                basis[k] = 1
                seeds[p] = basis.reshape(leaf.shape)
                for o, tangent in enumerate(recorded.push(seeds)):
                    blocks[o][j][:, k] = tangent.ravel()
    else:  # one backward pass per output element: rows
        for o, out in enumerate(outputs):
            for m in range(out.size):
                cotangents = [np.zeros(u.shape, u.dtype) for u in outputs]
                cotangents[o].flat[m] = 1
                for j, g in enumerate(recorded.pull(cotangents, picks)):
                    blocks[o][j][m] = g.ravel()
    return [
        [block.reshape(out.shape + leaves[p].shape) for block, p in zip(row, picks, strict=True)]
        for row, out in zip(blocks, outputs, strict=True)
    ]


def _jacobian_function(
    f: Callable[..., Any], argnums: int | tuple[int, ...], mode: str, who: str, constants: bool
) -> Callable[..., Any]:
    if not callable(f):
        raise TypeError(f"{who}: expected a function first, got {type(f).__name__}")
    if mode not in _MODES:
        raise ValueError(f"{who}: mode must be one of {_MODES}, got {mode!r}")

    def jacobian_of(*args: Any) -> Any:
        picks, many = _picks(argnums, len(args), who)
        recorded = _Recorded(f, args, who, constants)
        rows = [tuple(row) if many else row[0] for row in _jacobians(recorded, picks, mode)]
        return rows[0] if recorded.single else tuple(rows)

    return jacobian_of


def jacobian(
    f: Callable[..., Any], argnums: int | tuple[int, ...] = 0, mode: str = "auto"
) -> Callable[..., Any]:
    """The Jacobian of ``f`` as a function, as ``jax.jacfwd`` / ``jax.jacrev``.

    The returned function takes ``f``'s arguments (numbers, arrays or Values) and gives a numpy
    array of shape ``output.shape + argument.shape`` (a tuple over ``argnums`` when it is a tuple,
    and a tuple over outputs when ``f`` returns a tuple). ``mode="forward"`` builds it from one
    tangent pass per input element, ``"reverse"`` from one backward pass per output element,
    both through one recorded forward; ``"auto"`` (the default) takes forward mode when the
    inputs have fewer elements than the outputs, else reverse mode, the cheaper of the two.

    >>> import numpy as np
    >>> from autonet import jacobian
    >>> jacobian(lambda x: x * x)(np.array([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    return _jacobian_function(f, argnums, mode, "jacobian", constants=False)


def hessian(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The Hessian of a scalar ``f`` as a function, as ``jax.hessian``: forward mode over reverse
    mode (the forward-mode Jacobian of ``grad(f)``, whose graph ``create_graph`` records).

    The result has shape ``argument.shape + argument.shape``; for a tuple ``argnums`` it is a
    nested tuple, ``H[i][j]`` the block of arguments ``argnums[i]`` and ``argnums[j]``.

    >>> import numpy as np
    >>> from autonet import hessian
    >>> hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return _jacobian_function(grad(f, argnums), argnums, "forward", "hessian", constants=True)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """The Hessian of a scalar ``f`` at ``primals`` times ``tangents``, without forming the
    Hessian: forward mode over reverse mode, one recorded ``grad`` of ``f`` (a forward and a
    backward with ``create_graph``) and one tangent pass through it.

    ``primals`` and ``tangents`` are as in ``jvp``. Returns ``H v`` as a numpy array for one
    primal, a tuple (one per primal) for several.

    >>> import numpy as np
    >>> from autonet import hvp
    >>> hvp(lambda x: (x ** 3).sum(), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),)).tolist()
    [6.0, 12.0]
    """
    primals = _arguments(primals, "primals", "hvp")
    tangents = _arguments(tangents, "tangents", "hvp")
    if len(primals) != len(tangents):
        raise ValueError(f"hvp: {len(primals)} primals but {len(tangents)} tangents; give one per primal")
    count = len(primals)
    recorded = _Recorded(grad(f, tuple(range(count))), primals, "hvp", constants=True)
    seeds = [
        _checked(t, leaf, "hvp", f"tangent {k}")
        for k, (t, leaf) in enumerate(zip(tangents, recorded.leaves, strict=True))
    ]
    pushed = recorded.push(seeds)
    return pushed[0] if count == 1 else tuple(pushed)
