"""The command line's entry points: ``python -m autonet``, the ``autonet`` script, ``autonet.cli.main``;
and the old homes of the command handlers, which still answer with a ``DeprecationWarning``."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import autonet.__main__
from autonet.cli import build_parser, main
from autonet.cli.check import run_check_command
from autonet.cli.demo import run_demo
from autonet.cli.explore import run_explore_command
from autonet.cli.graph import run_graph_command

ROOT = Path(__file__).resolve().parents[2]

MOVED = [
    ("autonet.viz", "run_graph_command", "autonet.cli.graph", run_graph_command),
    ("autonet.gradcheck", "run_check_command", "autonet.cli.check", run_check_command),
    ("autonet.demo", "run_demo", "autonet.cli.demo", run_demo),
]


def test_the_installed_script_and_python_dash_m_run_the_same_main() -> None:
    # tomllib is 3.11+; the section is simple enough to read with a pattern on 3.10.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    scripts = re.search(r"^\[project\.scripts\]\n(.*?)(?:\n\[|\Z)", pyproject, re.M | re.S)
    assert scripts is not None and scripts.group(1).strip() == 'autonet = "autonet.cli:main"'
    assert autonet.__main__.main is main


def test_python_dash_m_autonet_passes_the_exit_status_through() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autonet", "check", "--op", "no_such_op"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "unknown op 'no_such_op'" in done.stderr
    missing = subprocess.run([sys.executable, "-m", "autonet"], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "COMMAND" in missing.stderr


def test_every_command_is_in_the_parser_with_its_handler() -> None:
    parser = build_parser()
    expected = {
        "demo": run_demo,
        "graph": run_graph_command,
        "explore": run_explore_command,
        "check": run_check_command,
    }
    required = {"demo": [], "graph": ["--expr", "a", "-o", "g.svg"], "explore": ["--expr", "a"], "check": []}
    for command, handler in expected.items():
        assert parser.parse_args([command, *required[command]]).handler is handler


@pytest.mark.parametrize(("old_module", "name", "new_module", "function"), MOVED)
def test_a_moved_handler_warns_and_is_the_new_function(old_module, name, new_module, function) -> None:
    module = importlib.import_module(old_module)
    with pytest.warns(DeprecationWarning, match=rf"{old_module}\.{name} moved to {new_module}\.{name}"):
        found = getattr(module, name)
    assert found is function
    with pytest.warns(DeprecationWarning, match=new_module):
        exec(f"from {old_module} import {name}", {})
    assert name not in module.__all__


@pytest.mark.parametrize("old_module", ["autonet.viz", "autonet.gradcheck", "autonet.demo"])
def test_other_missing_names_are_still_attribute_errors(old_module: str) -> None:
    module = importlib.import_module(old_module)
    with pytest.raises(AttributeError, match=rf"module '{old_module}' has no attribute 'run_everything'"):
        module.run_everything  # noqa: B018 - the attribute access is the test
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a star import takes __all__ only: no moved name, no warning
        exec(f"from {old_module} import *", {})
