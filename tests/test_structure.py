"""The redesign's measured targets, kept: a short engine, short functions, a short walk.

A function's length counts every line from its ``def`` to its end, docstring included; a public
function whose reference runs long points to its module's docstring or its page in docs/.
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


def lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return node.end_lineno - node.lineno + 1


def test_the_engine_is_at_most_700_lines() -> None:
    assert len((PACKAGE / "engine.py").read_text().splitlines()) <= 700


def test_no_function_is_over_60_lines() -> None:
    long = [f"{p.relative_to(PACKAGE)}:{n.name} ({lines(n)})" for p, n in FUNCTIONS if lines(n) > 60]
    assert not long


@pytest.mark.parametrize("name", ["backward_pass", "_walk"])
def test_the_backward_walk_is_at_most_40_lines(name: str) -> None:
    (walk,) = [n for p, n in FUNCTIONS if p.name == "engine.py" and n.name == name]
    assert lines(walk) <= 40
