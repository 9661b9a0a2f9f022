"""``python -m autonet check``: a table of every op's gradient check, exit status 1 on any failure."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from autonet.cli import main
from autonet.ops import REGISTRY, Cases, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE

COLUMNS = ["op", "order", "examples", "max abs error", "max rel error", "result"]
# register() wants every op to say what it does at its edges and how its arguments are drawn; the
# probes here are exp at heart.
EXP_EDGES = (Edge("size-0 input", (np.zeros(0),), grads=(np.zeros(0),)), Edge("x = 0", (0.0,), grads=(1.0,)))


def _rows(output: str) -> dict[tuple[str, int], list[str]]:
    """Table rows keyed by (op, order)."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[1].isdigit() and parts[0] in REGISTRY:
            rows[(parts[0], int(parts[1]))] = parts
    return rows


def test_checks_every_registered_op_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert all(column in out.splitlines()[0] for column in COLUMNS)
    rows = _rows(out)
    assert {name for name, order in rows} == set(REGISTRY)
    for _name, order, examples, max_abs, max_rel, verdict in rows.values():
        assert order == "1" and examples == "2" and verdict == "pass"
        assert float(max_abs) <= 1e-5 and float(max_rel) < 1e-3
    assert "all passed" in out and " s: " in out


def test_op_selects_the_ops_to_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--op", "tanh", "--op", "matmul", "--examples", "3", "--seed", "7"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(rows) == {("tanh", 1), ("matmul", 1)}
    assert rows[("tanh", 1)][2] == "3"


def test_second_order_adds_rows_for_twice_differentiable_ops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--op", "exp", "--op", "softmax", "--second-order", "--examples", "2"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(rows) == {("exp", 1), ("exp", 2), ("softmax", 1), ("softmax", 2)}


def test_the_same_seed_gives_the_same_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--op", "logsumexp", "--seed", "3"])
    first = _rows(capsys.readouterr().out)
    main(["check", "--op", "logsumexp", "--seed", "3"])
    assert _rows(capsys.readouterr().out) == first


def test_an_unknown_op_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--op", "tanh", "--op", "tanhh"]) == 2
    captured = capsys.readouterr()
    assert "unknown op 'tanhh'" in captured.err and "known ops:" in captured.err and "tanh" in captured.err
    assert captured.out == ""


@pytest.fixture
def broken_op() -> Iterator[str]:
    op = register(
        Op(
            "exp_with_wrong_sign",
            np.exp,
            (lambda g, out, x: -g * out,),
            (Domain(),),
            jvps=(lambda t, out, x: t * out,),
            cases=ELEMENTWISE,
            edges=EXP_EDGES,
        )
    )
    try:
        yield op.name
    finally:
        del REGISTRY[op.name]


def test_a_wrong_gradient_fails_the_command(broken_op: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--op", broken_op, "--op", "exp"]) == 1
    out = capsys.readouterr().out
    broken_row = next(line for line in out.splitlines() if line.startswith(broken_op))
    assert broken_row.split()[-1] == "FAIL"
    assert "analytic (reverse mode)" in out and "1 failed: exp_with_wrong_sign (order 1)" in out


def test_runs_as_a_module_without_hypothesis() -> None:
    # The command ships with autonet: it must not need the test extra.
    blocker = "import sys; sys.modules['hypothesis'] = None; from autonet.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", blocker, "check", "--op", "sigmoid", "--op", "getitem"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "sigmoid" in done.stdout and "all passed" in done.stdout


def test_an_op_the_command_cannot_sample_fails_it(capsys: pytest.CaptureFixture[str]) -> None:
    op = register(
        Op(
            "exp_without_samples",
            np.exp,
            (lambda g, out, x: g * out,),
            (Domain(),),
            jvps=(lambda t, out, x: t * out,),
            # Cases whose written-out samples are none at all: nothing to check the op on.
            cases=Cases("mystery", samples=lambda rng, dtype: []),
            edges=EXP_EDGES,
        )
    )
    try:
        assert main(["check", "--op", op.name]) == 1
    finally:
        del REGISTRY[op.name]
    out = capsys.readouterr().out
    assert "FAIL" in out and "exp_without_samples: cases.samples returned no cases" in out


def test_mode_forward_checks_the_jvps(capsys: pytest.CaptureFixture[str]) -> None:
    op = register(
        Op(
            "exp_with_a_wrong_jvp",
            np.exp,
            (lambda g, out, x: g * out,),
            (Domain(),),
            jvps=(lambda t, out, x: -t * out,),
            cases=ELEMENTWISE,
            edges=EXP_EDGES,
        )
    )
    try:
        assert main(["check", "--op", op.name]) == 0  # reverse mode, the default, is right
        assert main(["check", "--op", op.name, "--mode", "forward"]) == 1
    finally:
        del REGISTRY[op.name]
    out = capsys.readouterr().out
    assert "analytic (forward mode)" in out and "1 failed: exp_with_a_wrong_jvp (order 1)" in out
