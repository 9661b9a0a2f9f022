"""Numerical gradients and the checks that compare them with autonet's reverse and forward modes.

``gradcheck`` compares every entry of the Jacobian that backward() computes (``mode="reverse"``),
that the jvps compute (``mode="forward"``), or both, with central differences in float64;
``gradgradcheck`` does the same for the gradient itself (second derivatives, through
``create_graph=True``); ``numerical_grad`` gives the central-difference
gradient alone. ``check_op`` checks one registered op on given cases and returns a report
(``OpCheck``); ``python -m autonet check`` (``autonet.cli.check``) runs it over every op.

This module never imports ``autonet.testing``: the cases are the caller's to draw.

>>> import numpy as np
>>> gradcheck(lambda x: (x * x).sum(), np.array([1.0, -2.0, 3.0]))
True
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ._state import no_grad, set_grad_enabled
from .engine import Value
from .functional import gradients
from .ops.registry import REGISTRY, Op
from .surface import call_op
from .transforms import linearize

__all__ = ["GradcheckError", "OpCase", "OpCheck", "check_op", "gradcheck", "gradgradcheck", "numerical_grad"]


class GradcheckError(AssertionError):
    """A reverse-mode gradient or a forward-mode derivative disagrees with central differences;
    the message names the mode, the input, the element, both values and the tolerance."""


MODES = ("reverse", "forward", "both")
"""What ``gradcheck`` compares with central differences: backward passes (vjps), tangent passes
(jvps), or both."""


@dataclass
class _Input:
    data: np.ndarray  # float64, read-only: the caller's numbers, never changed by the check
    differentiable: bool
    name: str


@dataclass
class _Report:
    """What one check found: the largest errors over every compared entry, and the first failure."""

    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    compared: int = 0
    failure: str | None = None

    def merge(self, other: _Report) -> None:
        self.max_abs_error = max(self.max_abs_error, other.max_abs_error)
        self.max_rel_error = max(self.max_rel_error, other.max_rel_error)
        self.compared += other.compared
        self.failure = self.failure or other.failure


# --------------------------------------------------------------------------- inputs and outputs


def _prepare_inputs(inputs: Sequence[Any], allow_float32: bool, who: str) -> list[_Input]:
    if len(inputs) == 1 and type(inputs[0]) is tuple and inputs[0]:
        if all(isinstance(x, (Value, np.ndarray)) for x in inputs[0]):
            inputs = inputs[0]  # PyTorch's spelling, gradcheck(fn, (x, y)): the tuple holds the inputs
    if not inputs:
        raise TypeError(f"{who}: give at least one input after the function")
    prepared = []
    for i, x in enumerate(inputs):
        label = x.label if isinstance(x, Value) else ""
        differentiable = x.requires_grad if isinstance(x, Value) else True
        raw = x.data if isinstance(x, Value) else x
        try:
            array = np.asarray(raw)
        except Exception as error:
            raise TypeError(f"{who}: input {i} is not a number, an array or a Value: {error}") from None
        kind = array.dtype.kind
        if kind == "f" and array.dtype != np.float64:
            if not allow_float32:
                raise TypeError(
                    f"{who}: input {i} has dtype {array.dtype}; central differences need float64 (a step of "
                    f"1e-6 is below {array.dtype}'s precision). Convert it with x.astype(np.float64), or "
                    "pass allow_float32=True to check it converted to float64"
                )
        elif kind not in "biuf":
            raise TypeError(f"{who}: input {i} must hold real numbers, got dtype {array.dtype}")
        data = np.array(array, dtype=np.float64)
        data.flags.writeable = False
        name = f"input {i}" + (f" {label!r}" if label else "") + f" (shape {data.shape})"
        prepared.append(_Input(data, differentiable, name))
    return prepared


def _leaves(inputs: Sequence[_Input], arrays: Sequence[np.ndarray] | None = None) -> list[Value]:
    arrays = [x.data for x in inputs] if arrays is None else arrays
    return [Value(a, requires_grad=x.differentiable) for x, a in zip(inputs, arrays, strict=True)]


def _called(fn: Callable[..., Any], leaves: Sequence[Value], who: str) -> Any:
    """``fn(*leaves)``, refusing a function that writes into its inputs: its gradient would be
    checked at numbers other than the ones given."""
    before = [leaf.numpy().copy() for leaf in leaves]
    result = fn(*leaves)
    for i, (leaf, numbers) in enumerate(zip(leaves, before, strict=True)):
        if not np.array_equal(leaf.numpy(), numbers, equal_nan=True):
            raise ValueError(
                f"{who}: the function changed input {i} in place (shape {numbers.shape}); a gradient "
                "check needs a function that leaves its inputs as they are: compute a new Value instead"
            )
    return result


def _as_outputs(result: Any, who: str) -> list[Any]:
    """The function's result as a list of outputs (a tuple or list gives several)."""
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    if not outputs:
        raise ValueError(f"{who}: the function returned an empty {type(result).__name__}")
    for k, out in enumerate(outputs):
        dtype = out.dtype if isinstance(out, Value) else np.asarray(out).dtype
        if dtype.kind == "f" and dtype != np.float64:
            raise TypeError(
                f"{who}: output {k} has dtype {dtype}; central differences need float64 outputs (does the "
                "function cast to a smaller float?)"
            )
        if dtype.kind not in "biuf":
            raise TypeError(
                f"{who}: output {k} must be a Value, an array or a number, got {type(out).__name__}"
            )
    return outputs


def _evaluate(
    fn: Callable[..., Any], inputs: Sequence[_Input], arrays: Sequence[np.ndarray], who: str
) -> np.ndarray:
    """The function's outputs at ``arrays``, flattened into one float64 vector (no graph recorded)."""
    with no_grad():
        outputs = _as_outputs(_called(fn, _leaves(inputs, arrays), who), who)
    return np.concatenate(
        [np.asarray(o.data if isinstance(o, Value) else o, dtype=np.float64).ravel() for o in outputs]
    )


def _numerical_jacobians(
    fn: Callable[..., Any], inputs: Sequence[_Input], eps: float, who: str
) -> tuple[list[np.ndarray | None], int]:
    """Central-difference Jacobians, one ``(outputs, input elements)`` matrix per differentiable input."""
    base = [x.data for x in inputs]
    size = _evaluate(fn, inputs, base, who).size
    jacobians: list[np.ndarray | None] = []
    for i, x in enumerate(inputs):
        if not x.differentiable:
            jacobians.append(None)
            continue
        jacobian = np.empty((size, x.data.size))
        for k in range(x.data.size):
            plus, minus = x.data.copy(), x.data.copy()
            plus.flat[k] += eps
            minus.flat[k] -= eps
            # The step actually taken, after rounding, gives a slightly better quotient than 2 * eps.
            step = plus.flat[k] - minus.flat[k]
            f_plus = _evaluate(fn, inputs, [*base[:i], plus, *base[i + 1 :]], who)
            f_minus = _evaluate(fn, inputs, [*base[:i], minus, *base[i + 1 :]], who)
            if f_plus.size != size or f_minus.size != size:
                raise ValueError(f"{who}: the function's output size changed when {x.name} moved by {eps}")
            jacobian[:, k] = (f_plus - f_minus) / step
        jacobians.append(jacobian)
    return jacobians, size


def _vjp(
    outputs: Sequence[Any], cotangents: Sequence[np.ndarray], leaves: Sequence[Value]
) -> list[np.ndarray]:
    """Reverse mode: the sum over outputs of cotangent^T d(output)/d(leaf), for each leaf."""
    total = [np.zeros(leaf.shape) for leaf in leaves]
    for out, u in zip(outputs, cotangents, strict=True):
        if not isinstance(out, Value) or not out.requires_grad or not u.any():
            continue  # an output the inputs do not reach has a zero Jacobian
        for k, g in enumerate(gradients(out, leaves, gradient=u, retain_graph=True)):
            total[k] = total[k] + np.asarray(g.data if isinstance(g, Value) else g, dtype=np.float64)
    return total


# --------------------------------------------------------------------------- the check


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _compare(
    analytic: np.ndarray, numerical: np.ndarray, atol: float, rtol: float
) -> tuple[_Report, tuple[int, ...] | None]:
    difference = np.abs(analytic - numerical)
    tolerance = atol + rtol * np.abs(numerical)
    # NaN never passes: comparing with <= keeps it on the failing side.
    bad = ~(difference <= tolerance)
    relative = difference / np.maximum(np.abs(numerical), max(atol, 1e-12))
    if np.isnan(difference).any():
        report = _Report(math.inf, math.inf, int(analytic.size))
    else:
        report = _Report(
            float(difference.max(initial=0.0)), float(relative.max(initial=0.0)), int(analytic.size)
        )
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None
    return report, first


def _failure_message(
    who: str,
    what: str,
    x: _Input,
    element: tuple[int, ...],
    analytic: float,
    numerical: float,
    atol: float,
    rtol: float,
) -> str:
    headline = f"{who}: {what} with respect to {x.name} at index {element} is wrong"
    return _mismatch(headline, analytic, numerical, atol, rtol, "reverse")


def _mismatch(headline: str, analytic: float, numerical: float, atol: float, rtol: float, mode: str) -> str:
    """The report of one mismatch; ``mode`` ("reverse" or "forward") says which analytic side."""
    tolerance = atol + rtol * abs(numerical)
    return (
        f"{headline}\n"
        f"  analytic ({mode} mode):        {analytic!r}\n"
        f"  numerical (central difference): {numerical!r}\n"
        f"  |difference| {abs(analytic - numerical):.3g} > tolerance atol + rtol * |numerical| = "
        f"{atol:g} + {rtol:g} * {abs(numerical):.3g} = {tolerance:.3g}"
    )


def _output_place(flat: int, shapes: Sequence[tuple[int, ...]], names: Sequence[str]) -> str:
    for shape, name in zip(shapes, names, strict=True):
        size = math.prod(shape)
        if flat < size:
            return f"{name} at index {_index(flat, shape)}" if shape else name
        flat -= size
    raise AssertionError("flat output index out of range")


def _check_settings(
    eps: float, atol: float, rtol: float, projections: int | None, who: str, mode: str = "reverse"
) -> None:
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be one of {MODES}, got {mode!r}")
    if eps <= 0 or atol < 0 or rtol < 0:
        raise ValueError(
            f"{who}: eps must be positive and atol, rtol non-negative (got {eps}, {atol}, {rtol})"
        )
    if projections is not None and projections < 1:
        raise ValueError(
            f"{who}: projections must be None (full Jacobian) or a positive count, got {projections}"
        )


def _default_output_names(count: int) -> list[str]:
    return ["the output"] if count == 1 else [f"output {k}" for k in range(count)]


class _Against(NamedTuple):
    """What both modes are checked against: the inputs, their numerical Jacobians (one per input,
    rows the flattened outputs), the outputs' shapes and names, and the check's settings."""

    inputs: list[_Input]
    numerical: list[np.ndarray | None]
    shapes: list[tuple[int, ...]]
    names: list[str]
    atol: float
    rtol: float
    projections: int | None
    seed: int
    who: str


def _check(
    fn: Callable[..., Any],
    inputs: list[_Input],
    *,
    eps: float,
    atol: float,
    rtol: float,
    projections: int | None,
    seed: int,
    who: str,
    output_names: Callable[[int], list[str]] | None = None,
    mode: str = "reverse",
) -> _Report:
    """Compare reverse mode, forward mode or both with central differences for ``fn`` at
    ``inputs``; never raises on a mismatch."""
    _check_settings(eps, atol, rtol, projections, who, mode)
    numerical, size = _numerical_jacobians(fn, inputs, eps, who)
    leaves = _leaves(inputs)
    with set_grad_enabled(True):
        outputs = _as_outputs(_called(fn, leaves, who), who)
    shapes = [tuple(np.shape(o.data if isinstance(o, Value) else o)) for o in outputs]
    if sum(math.prod(s) for s in shapes) != size:
        raise ValueError(f"{who}: the function returns a different number of elements on each call")
    names = output_names(len(outputs)) if output_names else _default_output_names(len(outputs))
    report = _Report()
    against = _Against(inputs, numerical, shapes, names, atol, rtol, projections, seed, who)
    if mode != "forward":
        _check_reverse(outputs, leaves, against, report)
    if mode != "reverse":
        _check_forward(fn, against, report)
    return report


def _check_reverse(outputs: list[Any], leaves: list[Value], against: _Against, report: _Report) -> None:
    """Reverse mode against central differences: one backward per output element (each a row of
    the Jacobian), then random mixes of all outputs, which also catch a vjp that is not linear in
    its output gradient. The mismatches go into ``report``."""
    inputs, numerical, shapes, names, atol, rtol, projections, seed, who = against
    size = sum(math.prod(s) for s in shapes)
    checked = [k for k, x in enumerate(inputs) if x.differentiable]
    wrt = [leaves[k] for k in checked]

    def split(vector: np.ndarray) -> list[np.ndarray]:
        bounds = np.cumsum([0, *(math.prod(s) for s in shapes)])
        return [vector[bounds[j] : bounds[j + 1]].reshape(s) for j, s in enumerate(shapes)]

    def compare_rows(cotangent: np.ndarray, describe: str) -> None:
        analytic = _vjp(outputs, split(cotangent), wrt)
        for k, grad in zip(checked, analytic, strict=True):
            expected = cotangent @ numerical[k]
            found, bad = _compare(grad.ravel(), expected, atol, rtol)
            report.merge(found)
            if bad is not None and report.failure is None:
                element = _index(bad[0], inputs[k].data.shape)
                report.failure = _failure_message(
                    who,
                    describe,
                    inputs[k],
                    element,
                    float(grad.ravel()[bad[0]]),
                    float(expected[bad[0]]),
                    atol,
                    rtol,
                )

    rng = np.random.default_rng(seed)
    if projections is None:
        for m in range(size):
            compare_rows(np.eye(1, size, m)[0], f"the gradient of {_output_place(m, shapes, names)}")
    for r in range(1 if projections is None else projections):
        cotangent = rng.standard_normal(size)
        compare_rows(
            cotangent, f"the gradient of the random projection u @ output (projection {r}, seed {seed})"
        )


def _check_forward(fn: Callable[..., Any], against: _Against, report: _Report) -> None:
    """Forward mode against central differences: one tangent pass per input element (each a
    column of the Jacobian), then random tangents along every input at once, which also catch a
    jvp that is not linear in its tangent. The mismatches go into ``report``."""
    inputs, numerical, shapes, names, atol, rtol, projections, seed, who = against

    def values_of(*xs: Value) -> tuple[Value, ...]:
        outputs = _as_outputs(_called(fn, xs, who), who)
        return tuple(o if isinstance(o, Value) else Value(o, requires_grad=False) for o in outputs)

    _, push = linearize(values_of, *[x.data for x in inputs])
    checked = [k for k, x in enumerate(inputs) if x.differentiable]

    def compare(
        tangents: list[np.ndarray | None], expected: np.ndarray, describe: Callable[[int], str]
    ) -> None:
        found = np.concatenate([np.asarray(t, dtype=np.float64).ravel() for t in push(*tangents)])
        result, bad = _compare(found, expected, atol, rtol)
        report.merge(result)
        if bad is not None and report.failure is None:
            m = bad[0]
            report.failure = _mismatch(
                describe(m), float(found[m]), float(expected[m]), atol, rtol, "forward"
            )

    if projections is None:
        _forward_columns(inputs, checked, numerical, compare, lambda m: _output_place(m, shapes, names), who)
    rng = np.random.default_rng(seed + 1)
    for r in range(1 if projections is None else projections):
        tangents = [None] * len(inputs)
        expected = np.zeros(sum(math.prod(s) for s in shapes))
        for k in checked:
            tangents[k] = rng.standard_normal(inputs[k].data.shape)
            expected = expected + numerical[k] @ tangents[k].ravel()

        def along(m: int, r: int = r) -> str:
            return (
                f"{who}: the derivative of {_output_place(m, shapes, names)} along a random tangent of "
                f"the inputs (projection {r}, seed {seed}) is wrong"
            )

        compare(tangents, expected, along)


def _forward_columns(
    inputs: list[_Input],
    checked: list[int],
    numerical: list[np.ndarray | None],
    compare: Callable[..., None],
    place: Callable[[int], str],
    who: str,
) -> None:
    """One tangent pass per element of each checked input, compared with that column of the
    numerical Jacobian (``place(m)`` names output element ``m``)."""
    for k in checked:
        x = inputs[k]
        for e in range(x.data.size):
            tangents: list[np.ndarray | None] = [None] * len(inputs)
            tangents[k] = np.eye(1, x.data.size, e)[0].reshape(x.data.shape)
            element = _index(e, x.data.shape)

            def column(m: int, x: _Input = x, element: tuple[int, ...] = element) -> str:
                where = f"with respect to {x.name} at index {element}"
                return f"{who}: the derivative of {place(m)} {where} is wrong"

            compare(tangents, numerical[k][:, e], column)


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    projections: int | None = None,
    allow_float32: bool = False,
    seed: int = 0,
    mode: str = "reverse",
) -> bool:
    """Check the reverse-mode gradient of ``fn`` at ``inputs`` against central differences in float64.

    ``fn`` takes one ``Value`` per input and returns a Value (scalar or tensor) or a tuple of them.
    Inputs may be numbers, arrays or Values (or, as PyTorch spells it, one tuple of arrays or
    Values); a Value with ``requires_grad=False`` is a constant and is not checked. Each entry
    passes when ``|analytic - numerical| <= atol + rtol * |numerical|``.

    ``projections=None`` (the default) checks the full Jacobian: one backward pass per output
    element, plus one random combination of all outputs (which catches a vjp that is not linear in
    its output gradient). ``projections=k`` checks only ``k`` random combinations ``u @ output``:
    ``k`` backward passes whatever the output size, the cheap choice for large outputs. Either
    way the numerical side costs two calls of ``fn`` per input element.

    Inputs must be float64 (or ints): float32 is refused, because a step of 1e-6 is below its
    precision; ``allow_float32=True`` converts float32 inputs to float64 for the check. A function
    that writes into its inputs is refused with a ``ValueError``.

    ``mode="forward"`` checks forward mode instead (the ops' jvps, as ``autonet.jvp`` runs them):
    one tangent pass per input element (a column of the Jacobian each) plus one random tangent
    of all inputs, or ``projections`` random tangents only; ``mode="both"`` checks both modes
    against the same central differences. A forward-mode mismatch is reported the same way, as
    "analytic (forward mode)".

    Returns True when every entry matches. On a mismatch raises ``GradcheckError`` naming the
    mode, the input, the element, both values and the tolerance (or returns False when
    ``raise_exception=False``). Raises TypeError for float32 or non-numeric inputs, ValueError
    for an unknown ``mode``.

    >>> import numpy as np
    >>> gradcheck(lambda a, b: (a * b).tanh(), np.array([0.5, -1.0]), np.array([[2.0], [0.3]]))
    True
    >>> gradcheck(lambda x: x.softmax(), np.array([0.5, -1.0, 2.0]), mode="both")
    True
    """
    prepared = _prepare_inputs(inputs, allow_float32, "gradcheck")
    settings = {"eps": eps, "atol": atol, "rtol": rtol, "projections": projections, "seed": seed}
    report = _check(fn, prepared, who="gradcheck", mode=mode, **settings)
    if report.failure is not None:
        if raise_exception:
            raise GradcheckError(report.failure)
        return False
    return True


def _first_derivative(
    fn: Callable[..., Any], inputs: list[_Input], grad_outputs: Any, seed: int, who: str
) -> tuple[Callable[..., Any], list[_Input]]:
    """The function ``(*inputs, *grad_outputs) -> d(grad_outputs . fn)/d(inputs)`` with its inputs.

    Its gradient is what a second-order check compares with central differences of it.
    """
    first = _evaluate_outputs(fn, inputs, who)
    shapes = [np.shape(o) for o in first]
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [rng.standard_normal(s) for s in shapes]
    elif len(first) == 1 and not isinstance(grad_outputs, (tuple, list)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(shapes):
        raise ValueError(f"{who}: {len(grad_outputs)} grad_outputs for {len(shapes)} outputs")
    cotangents = _prepare_inputs(grad_outputs, False, who)
    for k, (u, s) in enumerate(zip(cotangents, shapes, strict=True)):
        if u.data.shape != s:
            raise ValueError(
                f"{who}: grad_outputs[{k}] has shape {u.data.shape} but output {k} has shape {s}"
            )
        u.name = f"grad_outputs[{k}] (shape {s})"
    count = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if x.differentiable]

    def derivative(*args: Value) -> tuple[Value, ...]:
        xs, us = args[:count], args[count:]
        with set_grad_enabled(True):
            outputs = _as_outputs(fn(*xs), who)
            total: list[Any] = [Value(np.zeros(xs[i].shape), requires_grad=False) for i in wrt]
            for out, u in zip(outputs, us, strict=True):
                if isinstance(out, Value) and out.requires_grad:
                    grads = gradients(out, [xs[i] for i in wrt], gradient=u, create_graph=True)
                    total = [t + g for t, g in zip(total, grads, strict=True)]
        return tuple(total)

    return derivative, inputs + cotangents


def _evaluate_outputs(fn: Callable[..., Any], inputs: Sequence[_Input], who: str) -> list[np.ndarray]:
    with no_grad():
        outputs = _as_outputs(_called(fn, _leaves(inputs), who), who)
    return [np.asarray(o.data if isinstance(o, Value) else o, dtype=np.float64) for o in outputs]


def gradgradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    projections: int | None = None,
    allow_float32: bool = False,
    seed: int = 0,
    mode: str = "reverse",
) -> bool:
    """Check second derivatives: ``gradcheck`` applied to the gradient of ``fn`` itself.

    The gradient is ``d(u . fn(*inputs))/d(inputs)`` computed with ``create_graph=True``, where
    ``u`` is ``grad_outputs`` (one array per output; random normal from ``seed`` by default).
    Both the inputs and ``u`` are checked, so a vjp must be right in its output gradient too.
    Other arguments and the result are as in ``gradcheck``; ``mode="forward"`` checks the
    forward mode of that gradient (forward over reverse, as ``autonet.hvp`` computes).

    >>> import numpy as np
    >>> gradgradcheck(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]))
    True
    """
    prepared = _prepare_inputs(inputs, allow_float32, "gradgradcheck")
    derivative, all_inputs = _first_derivative(fn, prepared, grad_outputs, seed, "gradgradcheck")
    wrt = [x for x in prepared if x.differentiable]

    def names(count: int) -> list[str]:
        return [f"the gradient for {x.name}" for x in wrt]

    report = _check(
        derivative,
        all_inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        projections=projections,
        seed=seed,
        who="gradgradcheck",
        output_names=names,
        mode=mode,
    )
    if report.failure is not None:
        if raise_exception:
            raise GradcheckError(report.failure)
        return False
    return True


def numerical_grad(
    fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6, allow_float32: bool = False
) -> list[np.ndarray]:
    """The central-difference gradient of a scalar function: ``(f(x + eps) - f(x - eps)) / 2 eps`` each.

    Returns one float64 array per input, shaped like it (as ``autonet.gradients`` does).
    Raises ValueError if ``fn`` does not return a single scalar, TypeError for float32 inputs
    (unless ``allow_float32``).

    >>> import numpy as np
    >>> [g.round(6).tolist() for g in numerical_grad(lambda x: (x ** 2).sum(), np.array([1.0, -3.0]))]
    [[2.0, -6.0]]
    """
    prepared = _prepare_inputs(inputs, allow_float32, "numerical_grad")
    for x in prepared:
        x.differentiable = True
    jacobians, size = _numerical_jacobians(fn, prepared, eps, "numerical_grad")
    if size != 1:
        raise ValueError(
            f"numerical_grad: the function must return one scalar, it returned {size} elements; reduce it "
            "(e.g. .sum()) or use gradcheck, which checks whole Jacobians"
        )
    return [j.reshape(x.data.shape) for j, x in zip(jacobians, prepared, strict=True) if j is not None]


# --------------------------------------------------------------------------- one registered op

OpCase = tuple[Sequence[Any], Mapping[str, Any]]
"""One example for ``check_op``: the op's inputs (arrays) and its parameters (``{"axis": 1}``)."""


@dataclass(frozen=True)
class OpCheck:
    """What ``check_op`` found for one registered op: how many examples it ran, the largest
    errors over every compared entry, the time it took and, for a failure, what went wrong.

    ``mode`` is what was checked (``"reverse"``, ``"forward"`` or ``"both"``). ``message`` is None
    when every example passed; otherwise it is the first mismatch (as
    ``GradcheckError`` words it, with the op's parameters and input shapes) or the exception
    that stopped the check. ``passed`` says which.

    >>> import numpy as np
    >>> report = check_op("exp", [((np.array([0.5, -1.0]),), {})])
    >>> report.name, report.passed, report.examples, report.max_abs_error < 1e-5
    ('exp', True, 1, True)
    """

    name: str
    order: int
    examples: int
    max_abs_error: float
    max_rel_error: float
    seconds: float
    message: str | None = None
    mode: str = "reverse"

    @property
    def passed(self) -> bool:
        """True when every example matched central differences and nothing raised."""
        return self.message is None


def _registered(op: Op | str) -> Op:
    if isinstance(op, Op):
        return op
    if op not in REGISTRY:
        raise KeyError(f"check_op: no op named {op!r}; known ops: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[op]


def _op_arguments(op: Op, inputs: Sequence[Any]) -> list[Any]:
    """The inputs for a check: inputs the op does not differentiate become constants."""
    if op.differentiable_inputs is None:
        return list(inputs)
    return [
        x if i in op.differentiable_inputs else Value(x, requires_grad=False) for i, x in enumerate(inputs)
    ]


def _check_case(
    op: Op, case: OpCase, order: int, seed: int, example: int, tolerances: dict[str, float], mode: str
) -> _Report:
    """The ``example``-th case of ``check_op``: the op's Jacobian (order 1) or its gradient's (order 2)."""
    inputs, params = case
    who = "gradcheck" if order == 1 else "gradgradcheck"
    prepared = _prepare_inputs(_op_arguments(op, inputs), False, who)

    def fn(*xs: Value) -> Value:
        return call_op(op, *xs, **params)

    if order == 2:
        fn, prepared = _first_derivative(fn, prepared, None, seed + example, who)
    report = _check(fn, prepared, **tolerances, projections=None, seed=seed, who=who, mode=mode)
    if report.failure is not None:
        shapes = [np.shape(x) for x in inputs]
        report.failure += f"\n  op {op.name}, params {dict(params)}, input shapes {shapes}"
    return report


def _drawn(cases: Iterable[OpCase]) -> Iterator[OpCase | Exception]:
    """The cases one by one; an exception raised while drawing one comes last, as an item."""
    iterator = iter(cases)
    while True:
        try:
            case = next(iterator)
        except StopIteration:
            return
        except Exception as error:
            yield error
            return
        yield case


def _crash(error: Exception, params: Mapping[str, Any]) -> str:
    return f"{type(error).__name__}: {error} (params {dict(params)})"


def check_op(
    op: Op | str,
    cases: Iterable[OpCase],
    *,
    order: int = 1,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    mode: str = "reverse",
) -> OpCheck:
    """Gradient-check one registered op (an ``Op`` or its name) on each of ``cases`` and report.

    Each case is ``(inputs, params)``: ``call_op(op, *inputs, **params)`` is checked as
    ``gradcheck`` does (the full Jacobian), or with ``order=2`` as ``gradgradcheck`` does. Inputs
    the op does not differentiate (``Op.differentiable_inputs``) are held constant. ``seed``
    drives the random projections and, for order 2, the output gradients (``seed + k`` for the
    k-th case, counted from 0). ``cases`` may be a generator: it is drawn one case at a time, so an exception
    while drawing one is reported like an exception in the op. autonet draws cases in the op's
    domain with ``autonet.testing.cases.op_case``; ``python -m autonet check`` does exactly that.
    ``mode`` is ``gradcheck``'s: ``"forward"`` checks the op's jvps, ``"both"`` vjps and jvps.

    Returns an ``OpCheck`` and never raises for a wrong gradient or a failing op: an exception
    stops the check at that example and becomes its ``message``. Raises ``KeyError`` for an
    unknown name and ``ValueError`` for an order other than 1 or 2 or an unknown mode.

    >>> import numpy as np
    >>> check_op("tanh", [((np.array([0.5, -1.0]),), {}), ((np.zeros((2, 2)),), {})]).passed
    True
    >>> report = check_op("sum", [((np.ones((2, 3)),), {"axis": 1})], order=2)
    >>> report.order, report.examples, report.message
    (2, 1, None)
    >>> check_op("softmax", [((np.array([0.5, -1.0, 2.0]),), {"axis": -1})], mode="forward").passed
    True
    """
    entry = _registered(op)
    if order not in (1, 2):
        raise ValueError(f"check_op: order must be 1 or 2, got {order!r}")
    if mode not in MODES:
        raise ValueError(f"check_op: mode must be one of {MODES}, got {mode!r}")
    tolerances = {"eps": eps, "atol": atol, "rtol": rtol}
    start = time.perf_counter()
    report = _Report()
    examples, message = 0, None
    for example, case in enumerate(_drawn(cases)):
        examples = example + 1
        if isinstance(case, Exception):
            message = _crash(case, {})
            break
        try:
            report.merge(_check_case(entry, case, order, seed, example, tolerances, mode))
        except Exception as error:  # a report is wanted: a crash is one more way to fail
            message = _crash(error, case[1])
            break
    errors, failure = (report.max_abs_error, report.max_rel_error), message or report.failure
    return OpCheck(entry.name, order, examples, *errors, time.perf_counter() - start, failure, mode)


def __getattr__(name: str) -> Any:
    """Names that moved away, still reachable for a while with a ``DeprecationWarning``."""
    if name == "run_check_command":
        warnings.warn(
            "autonet.gradcheck.run_check_command moved to autonet.cli.check.run_check_command; "
            "import it from there (this alias will be removed)",
            DeprecationWarning,
            stacklevel=2,
        )
        # The command sits above gradcheck; only this deprecated alias reaches up to it.
        from .cli.check import run_check_command

        return run_check_command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
