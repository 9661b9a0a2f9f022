"""The redesign's measured targets, kept: a short engine, short functions, a short walk.

A function's length counts its lines without its docstring (documentation is welcome; logic that
needs more than 60 lines wants splitting into named steps).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autonet"
FUNCTIONS = [
    (path, node)
    for path in sorted(PACKAGE.rglob("*.py"))
    for node in ast.walk(ast.parse(path.read_text()))
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
]


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_the_engine_is_at_most_700_lines() -> None:
    assert len((PACKAGE / "engine.py").read_text().splitlines()) <= 700


def test_no_function_is_over_60_lines() -> None:
    long = [
        f"{p.relative_to(PACKAGE)}:{n.name} ({code_lines(n)})" for p, n in FUNCTIONS if code_lines(n) > 60
    ]
    assert not long


@pytest.mark.parametrize("name", ["backward_pass", "_walk"])
def test_the_backward_walk_is_at_most_40_lines(name: str) -> None:
    (walk,) = [n for p, n in FUNCTIONS if p.name == "engine.py" and n.name == name]
    assert code_lines(walk) <= 40
