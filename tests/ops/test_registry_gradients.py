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
from autonet.ops import REGISTRY, Domain, Op, register
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
def test_every_op_declares_domains_and_has_an_argument_generator(name: str) -> None:
    op = REGISTRY[name]
    domains = cases.check_domains(op)
    assert all(isinstance(d, Domain) and d.low < d.high for d in domains)
    cases.require_cases(op)  # raises if no kind generator and no declared samples


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
        "domain": (Domain(),),
    }
    return Op(**{**base, **fields})


def test_a_registry_entry_without_domain_metadata_is_refused() -> None:
    with pytest.raises(ValueError, match=r"probe.*no input domain"):
        register(_probe_op(domain=()))
    assert "probe" not in REGISTRY


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"domain": ()}, ValueError, "declares no input domain"),
        ({"domain": (None,)}, TypeError, "not a Domain"),
        ({"domain": (Domain(), Domain())}, ValueError, "1 vjps but 2 domains"),
        ({"kind": "mystery"}, LookupError, "no argument generator for op kind 'mystery'"),
    ],
    ids=["no-domain", "not-a-domain", "domain-count", "unknown-kind"],
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
