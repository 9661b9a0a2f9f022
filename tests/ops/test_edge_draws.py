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

Hypothesis draws the cases here; the checks are ``autonet.testing.checks``, which
``check_user_op`` runs on ops of users.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autonet import call_op, no_grad
from autonet.ops import REGISTRY
from autonet.testing import checks
from autonet.testing.strategies import op_inputs

# Edge draws meet overflow, log 0 and 0 / 0 on purpose; numpy warns about them.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ALL_OPS = list(REGISTRY)
# Ops with a kink somewhere (relu at 0, a tie of maximum, std of a constant slice): elsewhere the
# interior checks by central differences already cover the gradient.
KINKED = [name for name, op in REGISTRY.items() if not op.smooth]


def _upstream(data: st.DataObject, shape: tuple[int, ...], signs: bool) -> np.ndarray:
    magnitude = st.floats(0.5, 2.0)
    elements = st.one_of(magnitude, magnitude.map(lambda m: -m)) if signs else magnitude
    return data.draw(hnp.arrays(np.float64, shape, elements=elements), label="upstream gradient")


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_a_finite_output_never_gives_a_nan_gradient(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op, edges=True), label="inputs, params")
    with no_grad(), np.errstate(all="ignore"):
        out = call_op(op, *inputs, **params)
    if not np.isfinite(out.data).all():
        event("the output is not finite: nothing is promised")
        return
    create_graph = data.draw(st.booleans(), label="create_graph")
    upstream = _upstream(data, out.shape, signs=True)
    failure = checks.nan_gradient_failure(op, inputs, params, upstream, create_graph)
    assert failure is None, failure


@pytest.mark.parametrize("name", KINKED)
@given(data=st.data())
def test_the_gradient_at_a_kink_lies_between_the_one_sided_quotients(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op, edges=True, huge=False), label="inputs, params")
    # Squares of values like 1e-161 are subnormal, with a few bits left: no quotient means much.
    assume(not any(((x != 0) & (np.abs(x) < 1e-100)).any() for x in inputs))
    with no_grad(), np.errstate(all="ignore"):
        out = call_op(op, *inputs, **params)
    if not np.isfinite(out.data).all():
        event("the output is not finite: no quotient to compare with")
        return
    u = _upstream(data, out.shape, signs=False)
    failure = checks.kink_failure(op, inputs, params, u)
    assert failure is None, failure
