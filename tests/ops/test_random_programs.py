"""Random programs of registered ops: their gradient matches central differences.

Hypothesis builds a small DAG of 5 to 20 registered ops over 1 to 3 inputs of broadcastable
shapes. Any earlier value may feed a later op, so values fan out and their gradients add up;
the program's result is a scalar (the sum of every value nothing else used).

The ops come from the registry (every op whose cases draw shapes, ``op.cases.shapes``), with their
parameters drawn for the shapes at hand. An operand outside an op's domain range is squashed
into it with a smooth tanh map; an op whose operand lands next to one of its kinks (or, for a
``distinct`` op, holds near-ties) is skipped at build time, as central differences across a kink
measure nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume, event, given
from hypothesis import strategies as st

from autonet import Value, call_op, no_grad
from autonet.gradcheck import gradcheck
from autonet.ops import REGISTRY, Domain, Op
from autonet.ops.registry import REAL
from autonet.testing import cases
from autonet.testing.strategies import HypothesisSource

PROGRAM_OPS = [name for name, op in REGISTRY.items() if op.cases.shapes is not None]
# Keep every intermediate small: the numerical side evaluates the program twice per input element.
MAX_ELEMENTS = 100
# A step of 1e-6 must not cross a kink even after amplification by the ops before it.
KINK_MARGIN = 0.01


def _squash(x: Value, domain: Domain) -> Value:
    """A smooth map of any real into the open interval (low, high)."""
    centre, half = (domain.low + domain.high) / 2, (domain.high - domain.low) / 2
    return ((x - centre) * (1 / half)).tanh() * half + centre


@dataclass
class Step:
    op: Op
    operands: list[int]
    squashed: list[bool]
    params: dict[str, Any]

    def __repr__(self) -> str:
        pairs = zip(self.operands, self.squashed, strict=True)
        args = ", ".join(f"squash(v{j})" if squashed else f"v{j}" for j, squashed in pairs)
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"{self.op.name}({args}{params})"


@dataclass
class Program:
    input_count: int
    steps: list[Step] = field(default_factory=list)

    def __call__(self, *inputs: Value) -> Value:
        pool = list(inputs)
        for step in self.steps:
            pool.append(_run_step(step, pool))
        used = {j for step in self.steps for j in step.operands}
        sinks = [v for i, v in enumerate(pool) if i not in used and i >= self.input_count]
        total = sinks[0].sum()
        for v in sinks[1:]:
            total = total + v.sum()
        return total

    def __repr__(self) -> str:
        lines = [f"v{self.input_count + i} = {step!r}" for i, step in enumerate(self.steps)]
        return "Program(\n  " + "\n  ".join(lines) + "\n)"


def _domain(op: Op, index: int) -> Domain:
    domains = cases.check_domains(op)
    return domains[0] if op.variadic else domains[index]


def _operands(step: Step, pool: list[Value]) -> list[Value]:
    return [
        _squash(pool[j], _domain(step.op, i)) if squashed else pool[j]
        for i, (j, squashed) in enumerate(zip(step.operands, step.squashed, strict=True))
    ]


def _run_step(step: Step, pool: list[Value]) -> Value:
    return call_op(step.op, *_operands(step, pool), **step.params)


def _clear_of_kinks(op: Op, operands: list[Value]) -> bool:
    for i, v in enumerate(operands):
        for point in _domain(op, i).avoid:
            if (np.abs(v.data - point) < KINK_MARGIN).any():
                return False
    if op.distinct:
        values = np.sort(np.concatenate([v.data.ravel() for v in operands]))
        if values.size > 1 and np.diff(values).min() < KINK_MARGIN:
            return False
    return True


@st.composite
def programs(draw: Any) -> tuple[Program, list[np.ndarray]]:
    source = HypothesisSource(draw)
    input_count = draw(st.integers(1, 3), label="inputs")
    shapes = cases.broadcastable_shapes(source, input_count)
    inputs = [cases.domain_array(source, REAL, s) for s in shapes]
    program = Program(input_count)
    pool = [Value(x, requires_grad=False) for x in inputs]
    wanted = draw(st.integers(5, 20), label="ops")
    attempts = 0
    while len(program.steps) < wanted and attempts < 10 * wanted:
        attempts += 1
        op = REGISTRY[draw(st.sampled_from(PROGRAM_OPS), label="op")]
        spec = op.cases
        arity = draw(st.integers(1, 3)) if op.variadic else len(op.domain)
        operands = [draw(st.integers(0, len(pool) - 1), label="operand")]
        for _ in range(arity - 1):
            fits = [j for j in range(len(pool)) if spec.accepts([pool[i].shape for i in [*operands, j]])]
            if not fits:
                break
            operands.append(draw(st.sampled_from(fits), label="operand"))
        shapes = [pool[j].shape for j in operands]
        if len(operands) != arity or not spec.accepts(shapes):
            continue
        try:
            params = spec.params(op, shapes, source)
        except cases.NotApplicable:
            continue
        squashed = []
        for i, j in enumerate(operands):
            domain, data = _domain(op, i), pool[j].data
            squashed.append(bool(data.size and (data.min() < domain.low or data.max() > domain.high)))
        step = Step(op, operands, squashed, params)
        with no_grad():
            args = _operands(step, pool)
            if not _clear_of_kinks(op, args):
                continue
            result = call_op(op, *args, **params)
        if not 0 < result.size <= MAX_ELEMENTS or not np.isfinite(result.data).all():
            continue
        program.steps.append(step)
        pool.append(result)
    assume(len(program.steps) >= 5)
    return program, inputs


@given(programs())
def test_random_program_gradient_matches_central_differences(case: tuple[Program, list[np.ndarray]]) -> None:
    program, inputs = case
    uses = [
        sum(j == i for step in program.steps for j in step.operands)
        for i in range(len(inputs) + len(program.steps))
    ]
    event(f"fan-out: a value feeds {'one op' if max(uses) < 2 else 'two or more ops'}")
    assert math.isfinite(program(*[Value(x) for x in inputs]).item())
    assert gradcheck(program, *inputs)
