"""``autonet.gradcheck.check_op``: one registered op, checked on the caller's cases, as a report.

The report is what ``python -m autonet check`` prints; it never raises for a wrong gradient or a
failing op, so one bad op cannot stop a table of them."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from autonet.gradcheck import OpCheck, check_op
from autonet.ops import REGISTRY, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE

X = np.array([0.5, -1.0, 2.0])
SIN_EDGES = (Edge("x = 0", (0.0,), grads=(1.0,), value=0.0),)


@pytest.fixture
def sin_off_by_constant() -> Iterator[str]:
    op = register(
        Op(
            "sin_off_by_constant",
            np.sin,
            (lambda g, out, x: g * np.cos(x) + 0.1,),
            (Domain(),),
            jvps=(lambda t, out, x: t * np.cos(x),),
            cases=ELEMENTWISE,
            edges=SIN_EDGES,
        )
    )
    try:
        yield op.name
    finally:
        del REGISTRY[op.name]


def test_a_right_op_passes_with_tiny_errors_and_counts_its_examples() -> None:
    result = check_op("tanh", [((X,), {}), ((X[:2],), {}), ((np.zeros((2, 2)),), {})])
    assert isinstance(result, OpCheck)
    assert result.passed and result.message is None
    assert (result.name, result.order, result.examples) == ("tanh", 1, 3)
    assert 0 <= result.max_abs_error < 1e-8 and 0 <= result.max_rel_error < 1e-6
    assert result.seconds > 0


def test_an_op_entry_and_its_name_give_the_same_report() -> None:
    cases = [((np.arange(6.0).reshape(2, 3),), {"axis": 1, "keepdims": True})]
    by_name, by_entry = check_op("logsumexp", cases), check_op(REGISTRY["logsumexp"], cases)
    assert dataclasses.replace(by_name, seconds=0) == dataclasses.replace(by_entry, seconds=0)


def test_second_order_checks_the_gradient_itself() -> None:
    result = check_op("exp", [((X,), {})], order=2, seed=3)
    assert result.passed and result.order == 2


def test_a_wrong_gradient_fails_with_the_mismatch_the_op_and_its_case(sin_off_by_constant: str) -> None:
    result = check_op(sin_off_by_constant, [((X,), {}), ((X[:1],), {})])
    assert not result.passed and result.examples == 2  # a mismatch does not stop the examples
    assert "analytic (reverse mode)" in result.message
    assert "op sin_off_by_constant, params {}, input shapes [(3,)]" in result.message
    assert result.max_abs_error > 0.05


def test_an_exception_in_the_op_stops_the_check_and_is_the_message() -> None:
    result = check_op(
        "reshape", [((X,), {"shape": (3,)}), ((X,), {"shape": (2, 2)}), ((X,), {"shape": (3,)})]
    )
    assert not result.passed and result.examples == 2
    assert result.message.startswith("ValueError: ") and "(params {'shape': (2, 2)})" in result.message


def test_an_exception_while_drawing_a_case_is_reported_like_one_in_the_op() -> None:
    def cases() -> Iterator[tuple[tuple[np.ndarray, ...], dict[str, Any]]]:
        yield (X,), {}
        raise LookupError("no argument generator for this op")

    result = check_op("sin", cases())
    assert not result.passed and result.examples == 2
    assert result.message == "LookupError: no argument generator for this op (params {})"


def test_no_cases_is_a_pass_of_zero_examples() -> None:
    result = check_op("cos", [])
    assert result.passed and result.examples == 0 and result.max_abs_error == 0.0


def test_tolerances_can_be_tightened_until_the_check_fails() -> None:
    assert check_op("sqrt", [((X + 3,), {})], atol=0.0, rtol=1e-3).passed
    assert not check_op("sqrt", [((X + 3,), {})], atol=0.0, rtol=1e-16, eps=1e-3).passed


def test_unknown_names_and_orders_are_errors_not_reports() -> None:
    with pytest.raises(KeyError, match="no op named 'tanhh'"):
        check_op("tanhh", [])
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        check_op("tanh", [], order=3)


def test_the_report_is_frozen() -> None:
    result = check_op("exp", [((X,), {})])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.examples = 7  # type: ignore[misc]


def test_gradcheck_never_imports_the_testing_package() -> None:
    script = (
        "import sys, numpy as np\n"
        "from autonet.gradcheck import check_op\n"
        "assert check_op('exp', [((np.ones(2),), {})]).passed\n"
        "print(sorted(m for m in sys.modules if m.startswith(('autonet.testing', 'autonet.cli'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
