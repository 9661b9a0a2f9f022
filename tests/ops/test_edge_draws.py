"""At edge points Hypothesis draws itself, every registered op keeps two promises.

The cases come from ``op_inputs(op, edges=True)``: interior values mixed with exact zeros, kinks
and poles, the ends of each input's bounds, ties, constant rows, whole arrays of one value,
+-1e300 and dimensions of size 0. Parametrised over the registry, so a new op is covered.

1. A finite output and a finite, nonzero upstream gradient never give a nan gradient (through a
   plain backward or ``create_graph=True``): inf is allowed (sqrt at 0), nan is a bug such as
   ``inf * 0`` where an element has no influence.
2. Where central differences are meaningless, at a kink, the gradient of an op with kinks (not
   ``smooth``) is still a valid one: it lies between the one-sided difference quotients of
   ``sum(u * op(x))`` in each input element (for a positive upstream gradient ``u``, which keeps
   a sum of convex kinks convex). relu'(0) = 0 lies in [0, 1], a tie of maximum gives each side
   1/2, std of a constant row 0. Elements where a quotient is not finite (a pole, a bound of
   the domain) are skipped; the draws here leave out +-1e300, beside which a step of 1e-6
   vanishes, and values like 1e-161, whose squares are subnormal, with a few bits left.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autonet import Value, call_op, gradients, no_grad
from autonet.ops import REGISTRY, Op
from autonet.testing.strategies import op_inputs

# Edge draws meet overflow, log 0 and 0 / 0 on purpose; numpy warns about them.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ALL_OPS = list(REGISTRY)
# Ops with a kink somewhere (relu at 0, a tie of maximum, std of a constant slice): elsewhere the
# interior checks by central differences already cover the gradient.
KINKED = [name for name, op in REGISTRY.items() if not op.smooth]
STEP = 1e-6


def _upstream(data: st.DataObject, shape: tuple[int, ...], signs: bool) -> np.ndarray:
    magnitude = st.floats(0.5, 2.0)
    elements = st.one_of(magnitude, magnitude.map(lambda m: -m)) if signs else magnitude
    return data.draw(hnp.arrays(np.float64, shape, elements=elements), label="upstream gradient")


def _leaves(op: Op, inputs: tuple[np.ndarray, ...]) -> list[Value]:
    wanted = op.differentiable_inputs
    return [Value(x, requires_grad=wanted is None or i in wanted) for i, x in enumerate(inputs)]


def _describe(inputs: tuple[np.ndarray, ...], params: dict[str, Any]) -> str:
    return f"inputs {[x.tolist() for x in inputs]}, params {params}"


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_a_finite_output_never_gives_a_nan_gradient(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op, edges=True), label="inputs, params")
    leaves = _leaves(op, inputs)
    out = call_op(op, *leaves, **params)
    if not np.isfinite(out.data).all():
        event("the output is not finite: nothing is promised")
        return
    create_graph = data.draw(st.booleans(), label="create_graph")
    upstream = _upstream(data, out.shape, signs=True)
    out.backward(upstream, create_graph=create_graph, retain_graph=True)
    # Where the derivative is infinite (sqrt at 0, 0 ** 0.5) and broadcasting sums upstream
    # gradients of both signs into one element, inf - inf = nan is the true answer; a positive
    # upstream gradient shows those elements as +-inf.
    positive = gradients(out, leaves, np.abs(upstream))
    for i, leaf in enumerate(leaves):
        if leaf.requires_grad:
            grad = np.asarray(leaf.grad.data if isinstance(leaf.grad, Value) else leaf.grad)
            undefined = np.isinf(positive[i]) & (np.sign(upstream).min(initial=1) < 0)
            where = _describe(inputs, params)
            assert not (np.isnan(grad) & ~undefined).any(), (
                f"{name}: a finite output gave input {i} {grad.tolist()} at {where}"
            )


def _weighted_sum(op: Op, arrays: list[np.ndarray], params: dict[str, Any], u: np.ndarray) -> float:
    with no_grad(), np.errstate(all="ignore"):
        out = call_op(op, *[Value(a, requires_grad=False) for a in arrays], **params)
    return float(np.sum(out.data * u))


@pytest.mark.parametrize("name", KINKED)
@given(data=st.data())
def test_the_gradient_at_a_kink_lies_between_the_one_sided_quotients(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op, edges=True, huge=False), label="inputs, params")
    # Squares of values like 1e-161 are subnormal, with a few bits left: no quotient means much.
    assume(not any(((x != 0) & (np.abs(x) < 1e-100)).any() for x in inputs))
    leaves = _leaves(op, inputs)
    out = call_op(op, *leaves, **params)
    if not np.isfinite(out.data).all():
        event("the output is not finite: no quotient to compare with")
        return
    u = _upstream(data, out.shape, signs=False)
    out.backward(u)
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    base = _weighted_sum(op, arrays, params, u)
    for i, leaf in enumerate(leaves):
        if not leaf.requires_grad:
            continue
        grad, flat = np.asarray(leaf.grad).reshape(-1), arrays[i].reshape(-1)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + STEP
            up = _weighted_sum(op, arrays, params, u)
            flat[j] = saved - STEP
            down = _weighted_sum(op, arrays, params, u)
            flat[j] = saved
            right, left = (up - base) / STEP, (base - down) / STEP
            if not (np.isfinite(right) and np.isfinite(left) and np.isfinite(grad[j])):
                continue  # a pole or a bound of the domain: no two-sided neighbourhood to compare
            low, high = min(left, right), max(left, right)
            slack = 1e-4 * (1 + abs(low) + abs(high))
            assert low - slack <= grad[j] <= high + slack, (
                f"{name}: the gradient {grad[j]} of input {i} at element {j} lies outside the one-sided "
                f"quotients [{low}, {high}] at {_describe(inputs, params)}"
            )
