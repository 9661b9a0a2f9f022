"""The checks autonet runs on every registered op, as functions: for the suite and for your own ops.

autonet's test suite parametrises these over its registry, and ``check_user_op`` (one call) or
``op_checks`` (one pytest case per check) run the same ones on any op, yours included:

- **first order**: the op's Jacobian against central differences (``autonet.gradcheck.check_op``
  on cases drawn in the op's domain, inputs frozen read-only so that a forward or vjp writing
  into them fails);
- **second order**, for ops marked ``twice_differentiable``: the gradient of its gradient,
  through ``create_graph=True``;
- **forward mode**, for ops with jvps: each jvp against the same central differences
  (``check_op(..., mode="forward")``);
- **each declared edge** (``Edge``): the value and gradient declared there, through a plain
  backward and ``create_graph=True``, an edge that ``raises`` raising; for ``flat`` inputs an
  infinite or huge upstream gradient still gives exactly 0 where the declared gradient is 0;
- **edge draws**: inputs mixed with exact zeros, kinks, bounds, ties, constant rows, +-1e300 and
  size-0 dimensions: a finite output never gives a nan gradient;
- **kinks**, for ops not marked ``smooth``: on edge draws the gradient lies between the one-sided
  difference quotients (relu'(0) = 0 lies in [0, 1]).

Each function returns None when the op passes, else a message that names the op, the check and
the case.

>>> report = check_user_op("tanh", examples=2)
>>> report.passed, report.op
(True, 'tanh')
"""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._state import no_grad
from ..engine import Value
from ..functional import gradients
from ..gradcheck import check_op
from ..ops.custom import UserOp
from ..ops.registry import Edge, Op
from ..surface import call_op
from .cases import RandomSource, op_case, require_cases, resolve_op

__all__ = [
    "CheckResult",
    "OpCheckCase",
    "OpReport",
    "assert_op_correct",
    "check_user_op",
    "declared_edge_failure",
    "flat_edge_failure",
    "kink_failure",
    "nan_gradient_failure",
    "op_checks",
    "sample_cases",
]

STEP = 1e-6  # the step of the one-sided quotients at kinks


# --------------------------------------------------------------------------- cases


def sample_cases(
    op: Op | str, examples: int, seed: int = 0, order: int = 1, edges: bool = False, huge: bool = True
) -> Iterator[tuple[tuple[np.ndarray, ...], dict[str, Any]]]:
    """``examples`` random cases for ``op``, in its domain (or, with ``edges``, at its edges),
    drawn one at a time (as ``check_op`` takes them); ``python -m autonet check`` uses them.

    The draws depend on ``seed``, the op's name, ``order`` and ``edges`` only, so one op's cases
    do not change when other ops are checked with it, or when ops are added to the registry.

    >>> cases = list(sample_cases("log", 3, seed=1))
    >>> len(cases), all((inputs[0] > 0).all() for inputs, params in cases)
    (3, True)
    """
    entry = resolve_op(op)
    # The name enters as a checksum: Python's hash() of a string changes between runs.
    key = [seed, zlib.crc32(entry.name.encode()), order] + ([1] if edges else [])
    source = RandomSource(np.random.default_rng(key))
    for _ in range(examples):
        yield op_case(entry, source, edges=edges, huge=huge)


def _describe(inputs: Sequence[Any], params: Mapping[str, Any], names: Sequence[str] | None = None) -> str:
    names = names or [f"input {i}" for i in range(len(inputs))]
    shown = [
        f"{n} = {np.array2string(np.asarray(x), precision=6, separator=', ', threshold=30)}"
        for n, x in zip(names, inputs, strict=True)
    ]
    return f"{'; '.join(shown)}; params {dict(params)}"


def _leaves(op: Op, inputs: Sequence[Any]) -> list[Value]:
    """The inputs as Values; those the op does not differentiate need no gradient."""
    wanted = op.differentiable_inputs
    return [
        Value(np.array(x, dtype=np.float64), requires_grad=wanted is None or i in wanted)
        for i, x in enumerate(inputs)
    ]


def _grad_arrays(leaves: Sequence[Value]) -> list[np.ndarray | None]:
    found = []
    for v in leaves:
        grad = v.grad
        found.append(None if grad is None else np.asarray(grad.data if isinstance(grad, Value) else grad))
    return found


# --------------------------------------------------------------------------- edges


def _edge_grads(op: Op, edge: Edge, upstream: float, create_graph: bool) -> tuple[Value, list[Any]]:
    leaves = _leaves(op, edge.inputs)
    with np.errstate(all="ignore"):
        out = call_op(op, *leaves, **edge.params)
        out.backward(np.full(out.shape, upstream), create_graph=create_graph)
    return out, _grad_arrays(leaves)


def _mismatch(got: Any, declared: Any) -> str | None:
    got, declared = np.asarray(got, dtype=np.float64), np.asarray(declared, dtype=np.float64)
    if got.shape != declared.shape:
        return f"shape {got.shape}, declared {declared.shape}"
    try:
        np.testing.assert_allclose(got, declared, rtol=1e-12, atol=0, equal_nan=True)
    except AssertionError:
        return f"got {got.tolist()}, declared {declared.tolist()}"
    return None


def declared_edge_failure(op: Op | str, edge: Edge, create_graph: bool = False) -> str | None:
    """Whether ``op`` does at ``edge`` what the edge declares: the exception it ``raises``, or its
    ``value`` and, for an upstream gradient of ones, its ``grads`` (nan equal to nan; None: not
    pinned), through a plain backward or ``create_graph=True``. Gradients that are not pinned must
    still have their input's shape. None when it does, else what differs.

    >>> from autonet.ops import REGISTRY
    >>> relu = REGISTRY["relu"]
    >>> declared_edge_failure(relu, relu.edges[0]) is None
    True
    >>> print(declared_edge_failure(relu, Edge("x = 0", (0.0,), grads=(0.5,), value=0.0)))
    relu at x = 0 (plain backward): the gradient of input 0: got 0.0, declared 0.5
    """
    entry = resolve_op(op)
    where = f"{entry.name} at {edge.point} ({'create_graph' if create_graph else 'plain backward'})"
    if edge.raises is not None:
        try:
            call_op(entry, *_leaves(entry, edge.inputs), **edge.params)
        except edge.raises:
            return None
        except Exception as error:
            return (
                f"{where}: declared to raise {edge.raises.__name__}, raised {type(error).__name__}: {error}"
            )
        return f"{where}: declared to raise {edge.raises.__name__}, but returned"
    try:
        out, grads = _edge_grads(entry, edge, 1.0, create_graph)
    except Exception as error:
        return f"{where}: raised {type(error).__name__}: {error}"
    if edge.value is not None:
        wrong = _mismatch(out.data, edge.value)
        if wrong:
            return f"{where}: the value: {wrong}"
    for i, (got, declared) in enumerate(zip(grads, edge.grads, strict=True)):
        if got is None:
            continue  # an input the op does not differentiate
        if declared is None:
            if got.shape != np.shape(edge.inputs[i]):
                shape = np.shape(edge.inputs[i])
                return f"{where}: the gradient of input {i} has shape {got.shape}, the input {shape}"
            continue
        wrong = _mismatch(got, declared)
        if wrong:
            return f"{where}: the gradient of input {i}: {wrong}"
    return None


def flat_edge_failure(op: Op | str, edge: Edge, upstream: float, create_graph: bool = False) -> str | None:
    """For each ``flat`` input of ``edge``: an upstream gradient of ``upstream`` everywhere (inf,
    1e300) still gives exactly 0 wherever the declared gradient is 0, never ``inf * 0 = nan``.
    None when it does (or the edge has no flat inputs), else what went wrong.

    >>> from autonet.ops import REGISTRY
    >>> relu = REGISTRY["relu"]
    >>> [flat_edge_failure(relu, edge, np.inf) for edge in relu.edges if edge.flat]
    [None]
    """
    entry = resolve_op(op)
    if not edge.flat:
        return None
    where = f"{entry.name} at {edge.point} ({'create_graph' if create_graph else 'plain backward'})"
    try:
        _, grads = _edge_grads(entry, edge, upstream, create_graph)
    except Exception as error:
        return f"{where}: raised {type(error).__name__}: {error}"
    for i in edge.flat:
        untouched = np.asarray(edge.grads[i]) == 0
        if not untouched.any():
            return f"{where}: input {i} is declared flat but has no zero gradient"
        got = np.broadcast_to(grads[i], untouched.shape)[untouched]
        if not (got == 0).all():
            return f"{where}: input {i} got {got.tolist()} from upstream {upstream}, not 0"
    return None


# --------------------------------------------------------------------------- edge draws


def nan_gradient_failure(
    op: Op | str,
    inputs: Sequence[np.ndarray],
    params: Mapping[str, Any],
    upstream: np.ndarray,
    create_graph: bool = False,
) -> str | None:
    """A finite output and a finite upstream gradient must not give a nan gradient (inf is
    allowed: sqrt at 0). Where the derivative is infinite and broadcasting sums upstream
    gradients of both signs into one element, inf - inf = nan is the true answer and passes.
    None when no nan appears (or the output is not finite: nothing is promised).

    >>> print(nan_gradient_failure("sqrt", [np.array([0.0, 4.0])], {}, np.ones(2)))
    None
    """
    entry = resolve_op(op)
    leaves = _leaves(entry, inputs)
    with np.errstate(all="ignore"):
        out = call_op(entry, *leaves, **params)
        if not np.isfinite(out.data).all():
            return None
        upstream = np.asarray(upstream, dtype=np.float64)
        out.backward(upstream, create_graph=create_graph, retain_graph=True)
        positive = gradients(out, leaves, np.abs(upstream))
    mixed_signs = np.sign(upstream).min(initial=1) < 0
    for i, grad in enumerate(_grad_arrays(leaves)):
        if grad is None:
            continue
        undefined = np.isinf(positive[i]) & mixed_signs
        if (np.isnan(grad) & ~undefined).any():
            mode = "create_graph" if create_graph else "plain backward"
            return (
                f"{entry.name}: a finite output gave input {i} the gradient {grad.tolist()} ({mode}) at "
                f"{_describe(inputs, params)}, upstream {upstream.tolist()}"
            )
    return None


def _weighted_sum(op: Op, arrays: list[np.ndarray], params: Mapping[str, Any], u: np.ndarray) -> float:
    with no_grad(), np.errstate(all="ignore"):
        out = call_op(op, *[Value(a, requires_grad=False) for a in arrays], **params)
    return float(np.sum(out.data * u))


def kink_failure(
    op: Op | str, inputs: Sequence[np.ndarray], params: Mapping[str, Any], upstream: np.ndarray
) -> str | None:
    """The gradient of ``sum(upstream * op(inputs))`` (``upstream`` positive) lies between the
    one-sided difference quotients in each input element, as a valid gradient at a kink does.
    Elements where a quotient is not finite (a pole, a bound) are skipped; inputs with values
    like 1e-161 (subnormal squares) or whose output is not finite pass, as nothing is compared.

    >>> print(kink_failure("relu", [np.array([0.0, -1.0, 2.0])], {}, np.ones(3)))
    None
    """
    entry = resolve_op(op)
    if any(((x != 0) & (np.abs(x) < 1e-100)).any() for x in map(np.asarray, inputs)):
        return None
    leaves = _leaves(entry, inputs)
    with np.errstate(all="ignore"):
        out = call_op(entry, *leaves, **params)
        if not np.isfinite(out.data).all():
            return None
        out.backward(np.asarray(upstream, dtype=np.float64))
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    base = _weighted_sum(entry, arrays, params, upstream)
    for i, leaf in enumerate(leaves):
        if not leaf.requires_grad:
            continue
        grad, flat = np.asarray(leaf.grad).reshape(-1), arrays[i].reshape(-1)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + STEP
            up = _weighted_sum(entry, arrays, params, upstream)
            flat[j] = saved - STEP
            down = _weighted_sum(entry, arrays, params, upstream)
            flat[j] = saved
            right, left = (up - base) / STEP, (base - down) / STEP
            if not (np.isfinite(right) and np.isfinite(left) and np.isfinite(grad[j])):
                continue  # a pole or a bound of the domain: no two-sided neighbourhood to compare
            low, high = min(left, right), max(left, right)
            slack = 1e-4 * (1 + abs(low) + abs(high))
            if not low - slack <= grad[j] <= high + slack:
                return (
                    f"{entry.name}: the gradient {grad[j]} of input {i} at element {j} lies outside the "
                    f"one-sided quotients [{low}, {high}] at {_describe(inputs, params)}"
                )
    return None


# --------------------------------------------------------------------------- one op, every check


@dataclass(frozen=True)
class CheckResult:
    """One check of one op: its name (``first order``, ``edge x = 0`` ...), whether it passed,
    how many cases it ran, the largest gradient error it measured (gradient checks only) and,
    for a failure, the readable message.

    >>> CheckResult("tanh", "first order", None, examples=3).passed
    True
    """

    op: str
    check: str
    message: str | None
    examples: int = 1
    max_abs_error: float = 0.0

    @property
    def passed(self) -> bool:
        """True when the check found nothing wrong."""
        return self.message is None

    def __str__(self) -> str:
        error = f"  max abs error {self.max_abs_error:.2e}" if self.max_abs_error else ""
        return f"{'pass' if self.passed else 'FAIL'}  {self.op}: {self.check} ({self.examples} cases){error}"


@dataclass(frozen=True)
class OpCheckCase:
    """One check of ``op_checks``, to parametrise a pytest test with: ``run()`` returns its
    ``CheckResult``, ``assert_passes()`` raises ``AssertionError`` with the message on a failure;
    ``str()`` is its test id.

    >>> case = op_checks("exp", examples=1)[0]
    >>> str(case), case.run().passed
    ('exp: entry', True)
    """

    op: str
    check: str
    run: Callable[[], CheckResult]

    def assert_passes(self) -> None:
        """Run the check; an ``AssertionError`` carries its message when it fails."""
        result = self.run()
        if not result.passed:
            raise AssertionError(result.message)

    def __str__(self) -> str:
        return f"{self.op}: {self.check}"


@dataclass(frozen=True)
class OpReport:
    """What ``check_user_op`` found: one ``CheckResult`` per check; ``str()`` is a readable
    report, one line per check and then each failure's message.

    >>> report = check_user_op("exp", examples=1)
    >>> report.passed, [r.check for r in report.results][:3]
    (True, ['entry', 'first order', 'second order'])
    """

    op: str
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed, in order."""
        return tuple(r for r in self.results if not r.passed)

    def __str__(self) -> str:
        failed = self.failures
        verdict = "all passed" if not failed else f"{len(failed)} of {len(self.results)} failed"
        lines = [f"checks of op {self.op!r}: {verdict}", *(f"  {r}" for r in self.results)]
        for r in failed:
            lines += ["", f"{self.op}: {r.check} failed:", r.message or ""]
        return "\n".join(lines)


def _entry(op: Any) -> Op:
    if isinstance(op, UserOp):
        return op.entry
    if isinstance(op, (Op, str)):
        return resolve_op(op)
    raise TypeError(f"check_user_op: expected an op (autonet.op's result, an Op or a name), got {op!r}")


def _frozen(case: tuple[Sequence[np.ndarray], Mapping[str, Any]]) -> tuple[tuple[np.ndarray, ...], dict]:
    inputs, params = case
    frozen = tuple(np.array(x, dtype=np.float64) for x in inputs)
    for x in frozen:
        x.flags.writeable = False
    return frozen, dict(params)


def _gradient_check(op: Op, order: int, examples: int, seed: int, mode: str = "reverse") -> CheckResult:
    check = ("first order" if order == 1 else "second order") if mode == "reverse" else "forward mode"
    cases = [_frozen(c) for c in sample_cases(op, examples, seed, order)]
    largest = 0.0
    # One case at a time, so that a failure names the case it happened in.
    for number, (inputs, params) in enumerate(cases, start=1):
        before = [x.copy() for x in inputs]
        result = check_op(op, [(inputs, params)], order=order, seed=seed + number - 1, mode=mode)
        largest = max(largest, result.max_abs_error)
        if result.message is not None:
            message = (
                f"{op.name}: the {check} gradient check failed on case {number} of {len(cases)}, "
                f"max abs error {result.max_abs_error:.3g} (max rel error {result.max_rel_error:.3g})\n"
                f"  case {number}: {_describe(inputs, params, _input_names(op, len(inputs)))}\n"
                f"{result.message}"
            )
            return CheckResult(op.name, check, message, number, largest)
        for i, (x, y) in enumerate(zip(inputs, before, strict=True)):
            if not np.array_equal(x, y, equal_nan=True):
                message = f"{op.name}: the {check} check changed input {i} ({_describe(inputs, params)})"
                return CheckResult(op.name, check, message, number, largest)
    return CheckResult(op.name, check, None, len(cases), largest)


def _input_names(op: Op, count: int) -> list[str]:
    """The forward's parameter names where it has a signature (an op of yours), else input i."""
    try:
        names = [
            p.name
            for p in inspect.signature(op.prepare or op.forward).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    if len(names) < count:
        return [f"input {i}" for i in range(count)]
    return [f"input {i} ({n})" for i, n in enumerate(names[:count])]


def _edge_check(op: Op, edge: Edge) -> CheckResult:
    problems = []
    for create_graph in (False, True):
        problems.append(declared_edge_failure(op, edge, create_graph))
        for upstream in (np.inf, 1e300):
            problems.append(flat_edge_failure(op, edge, upstream, create_graph))
    found = [p for p in problems if p is not None]
    return CheckResult(op.name, f"edge {edge.point}", "\n".join(found) or None, 2)


def _upstream(rng: np.random.Generator, shape: tuple[int, ...], signs: bool) -> np.ndarray:
    u = rng.uniform(0.5, 2.0, size=shape)
    return u * rng.choice([-1.0, 1.0], size=shape) if signs else u


def _draw_check(op: Op, examples: int, seed: int, kinks: bool) -> CheckResult:
    rng = np.random.default_rng([seed, zlib.crc32(op.name.encode()), 3 if kinks else 4])
    count, message = 0, None
    for inputs, params in sample_cases(op, examples, seed, order=3, edges=True, huge=not kinks):
        count += 1
        try:
            with np.errstate(all="ignore"):
                shape = np.shape(call_op(op, *inputs, **params).data)
            if kinks:
                message = kink_failure(op, inputs, params, _upstream(rng, shape, signs=False))
            else:
                upstream = _upstream(rng, shape, signs=True)
                message = nan_gradient_failure(op, inputs, params, upstream, create_graph=count % 2 == 0)
        except Exception as error:
            message = f"{op.name}: raised {type(error).__name__}: {error} at {_describe(inputs, params)}"
        if message is not None:
            break
    name = "kinks (one-sided quotients)" if kinks else "edge draws (no nan gradient)"
    return CheckResult(op.name, name, message, count)


def _entry_check(op: Op) -> CheckResult:
    try:
        require_cases(op)
        for i, d in enumerate(op.domain):
            if not d.bounds[0] <= d.low < d.high <= d.bounds[1]:
                raise ValueError(f"{op.name}: domain {i} {d} needs bounds[0] <= low < high <= bounds[1]")
    except (TypeError, ValueError) as error:
        return CheckResult(op.name, "entry", str(error))
    return CheckResult(op.name, "entry", None)


def op_checks(op: Any, *, examples: int = 8, seed: int = 0, draws: int = 20) -> list[OpCheckCase]:
    """The checks ``check_user_op`` runs, one ``OpCheckCase`` each, for a parametrised pytest test:

        @pytest.mark.parametrize("check", autonet.testing.op_checks(cube), ids=str)
        def test_cube(check):
            check.assert_passes()

    ``op`` is what ``autonet.op`` returned, an ``Op`` or a registered name; ``examples`` cases per
    gradient check, ``draws`` per edge-draw check, from ``seed``.

    >>> [str(case) for case in op_checks("relu")][:3]
    ['relu: entry', 'relu: first order', 'relu: second order']
    """
    entry = _entry(op)
    if examples < 1 or draws < 1:
        raise ValueError(f"op_checks: examples and draws must be at least 1, got {examples} and {draws}")
    checks: list[tuple[str, Callable[[], CheckResult]]] = [("entry", lambda: _entry_check(entry))]
    checks.append(("first order", lambda: _gradient_check(entry, 1, examples, seed)))
    if entry.twice_differentiable:
        checks.append(("second order", lambda: _gradient_check(entry, 2, examples, seed)))
    if entry.jvps is not None:  # None: an op declared without forward mode
        checks.append(("forward mode", lambda: _gradient_check(entry, 1, examples, seed, "forward")))
    for edge in entry.edges if isinstance(entry.edges, tuple) else ():
        checks.append((f"edge {edge.point}", lambda edge=edge: _edge_check(entry, edge)))
    checks.append(("edge draws (no nan gradient)", lambda: _draw_check(entry, draws, seed, kinks=False)))
    if not entry.smooth:
        checks.append(("kinks (one-sided quotients)", lambda: _draw_check(entry, draws, seed, kinks=True)))
    return [OpCheckCase(entry.name, name, _guarded(entry, name, run)) for name, run in checks]


def _guarded(op: Op, name: str, run: Callable[[], CheckResult]) -> Callable[[], CheckResult]:
    def guarded() -> CheckResult:
        if name != "entry":
            entry = _entry_check(op)
            if not entry.passed:
                return CheckResult(op.name, name, f"not run: the entry is incomplete: {entry.message}", 0)
        try:
            return run()
        except Exception as error:  # a report is wanted: a crash is one more way to fail
            return CheckResult(op.name, name, f"{op.name}: {name}: {type(error).__name__}: {error}", 0)

    return guarded


def check_user_op(op: Any, *, examples: int = 8, seed: int = 0, draws: int = 20) -> OpReport:
    """Run on ``op`` the checks autonet runs on its own ops, and report: first- and second-order
    gradients against central differences, each declared edge in both backward modes, no nan
    gradient at edge draws, and valid gradients at kinks (see the module's docstring).

    ``op`` is what ``autonet.op`` returned, an ``Op`` or a registered name (autonet's own work
    too). Never raises for a failing op: the ``OpReport`` says what failed, naming the op, the
    input, the errors and the case; ``assert_op_correct`` raises instead.

    >>> import autonet
    >>> @autonet.op(vjp=lambda g, out, x: g * 2 * x)  # right: d(x^3)/dx is 3 x^2
    ... def bad_cube(x):
    ...     return x ** 3
    >>> report = check_user_op(bad_cube, examples=2)
    >>> report.passed, [r.check for r in report.failures][:1]
    (False, ['first order'])
    >>> bad_cube.unregister()
    """
    return OpReport(
        _entry(op).name,
        tuple(case.run() for case in op_checks(op, examples=examples, seed=seed, draws=draws)),
    )


def assert_op_correct(op: Any, *, examples: int = 8, seed: int = 0, draws: int = 20) -> OpReport:
    """``check_user_op`` for a test: returns the report when every check passes, and raises
    ``AssertionError`` with the whole readable report when one fails.

    >>> assert_op_correct("softplus", examples=2).passed
    True
    """
    report = check_user_op(op, examples=examples, seed=seed, draws=draws)
    if not report.passed:
        raise AssertionError(str(report))
    return report
