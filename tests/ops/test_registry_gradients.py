"""Every registered op's gradient matches central differences, on inputs drawn in its declared domain.

The tests are parametrised over the registry itself, so registering an op adds it here (the test
id is the op's name). First order covers every entry; second order (through create_graph=True)
every entry marked twice differentiable, smooth or not: the domains keep inputs off the kinks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet import Value, call_op
from autonet.gradcheck import gradcheck, gradgradcheck
from autonet.ops import REGISTRY, Cases, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE
from autonet.testing import cases
from autonet.testing.strategies import op_inputs

ALL_OPS = list(REGISTRY)
TWICE_DIFFERENTIABLE = [name for name, op in REGISTRY.items() if op.twice_differentiable]


def _arguments(op: Op, inputs: tuple[np.ndarray, ...]) -> list[Any]:
    """Inputs the op does not differentiate go in as constants (Values that need no gradient)."""
    if op.differentiable_inputs is None:
        return list(inputs)
    return [
        x if i in op.differentiable_inputs else Value(x, requires_grad=False) for i, x in enumerate(inputs)
    ]


def _frozen(inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    for x in inputs:
        x.flags.writeable = False
    return inputs


@pytest.mark.parametrize("name", ALL_OPS)
def test_every_op_declares_domains_edges_and_cases(name: str) -> None:
    op = REGISTRY[name]
    domains = cases.check_domains(op)
    assert all(isinstance(d, Domain) and d.bounds[0] <= d.low < d.high <= d.bounds[1] for d in domains)
    assert cases.check_edges(op)
    assert isinstance(cases.check_cases(op), Cases)
    cases.require_cases(op)  # raises if the entry lacks what op_case needs


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_first_order_gradient_matches_central_differences(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op), label="inputs, params")
    inputs = _frozen(inputs)
    before = [x.copy() for x in inputs]
    assert gradcheck(lambda *xs: call_op(op, *xs, **params), *_arguments(op, inputs))
    for x, saved in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(x, saved)


@pytest.mark.parametrize("name", TWICE_DIFFERENTIABLE)
@given(data=st.data())
def test_second_order_gradient_matches_central_differences(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    inputs, params = data.draw(op_inputs(op), label="inputs, params")
    seed = data.draw(st.integers(0, 2**16), label="grad_outputs seed")
    assert gradgradcheck(lambda *xs: call_op(op, *xs, **params), *_arguments(op, _frozen(inputs)), seed=seed)


def test_every_smooth_op_is_checked_to_second_order() -> None:
    smooth = {name for name, op in REGISTRY.items() if op.smooth}
    assert smooth <= set(TWICE_DIFFERENTIABLE), "a smooth op should be twice differentiable"


def _probe_op(**fields: Any) -> Op:
    base: dict[str, Any] = {
        "name": "probe",
        "forward": np.exp,
        "vjps": (lambda g, out, x: g * out,),
        "jvps": (lambda t, out, x: t * out,),
        "domain": (Domain(),),
        "edges": (Edge("x = 0", (0.0,), grads=(1.0,), value=1.0),),
        "cases": ELEMENTWISE,
    }
    return Op(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"domain": ()}, "no input domain"),
        ({"edges": ()}, "declares no edges"),
        ({"cases": None}, "declares no cases"),
        ({"cases": "elementwise"}, "declares no cases"),
    ],
    ids=["no-domain", "no-edges", "no-cases", "cases-not-a-Cases"],
)
def test_a_registry_entry_without_domain_edge_or_cases_metadata_is_refused(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"probe.*{message}"):
        register(_probe_op(**fields))
    assert "probe" not in REGISTRY


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"domain": ()}, ValueError, "declares no input domain"),
        ({"domain": (None,)}, TypeError, "not a Domain"),
        ({"domain": (Domain(), Domain())}, ValueError, "1 vjps but 2 domains"),
        ({"cases": None}, ValueError, "probe: the registry entry declares no cases"),
        ({"cases": "elementwise"}, TypeError, "not a Cases"),
        ({"edges": ()}, ValueError, "declares no edges"),
        (
            {"edges": (Edge("x = 0", (0.0, 1.0), grads=(1.0, 1.0)),)},
            ValueError,
            "has 2 inputs, the op takes 1",
        ),
        ({"edges": (Edge("x = 0", (0.0,), grads=()),)}, ValueError, "0 gradients for 1 inputs"),
    ],
    ids=[
        "no-domain",
        "not-a-domain",
        "domain-count",
        "no-cases",
        "cases-not-a-Cases",
        "no-edges",
        "edge-inputs",
        "edge-grads",
    ],
)
def test_an_entry_the_suite_cannot_sample_fails_instead_of_being_skipped(
    fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    # The same checks run for every registered op above, so such an entry fails the suite.
    probe = _probe_op(**fields)
    with pytest.raises(error, match=message):
        op_inputs(probe)
    with pytest.raises(error, match=message):
        cases.op_case(probe, cases.RandomSource(np.random.default_rng(0)))
