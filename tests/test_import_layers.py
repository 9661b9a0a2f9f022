"""Imports flow one way (issue 13): ops and state at the bottom, then the engine, then nn, optim,
gradcheck and testing, then viz, the training monitor and the export, then the command line.

Every module of autonet/ is parsed with ``ast`` (nothing is imported), and every import is
counted wherever it is written: at module level, under ``if TYPE_CHECKING:``, or lazily inside a
function. Two kinds of lazy import are allowed upward, each named here:

- the engine's Jupyter hook, ``Value._repr_mimebundle_``, may import drawing when it is called;
- a module-level ``__getattr__`` that keeps a moved name reachable with a ``DeprecationWarning``
  may import the name's new home (``DEPRECATED_ALIASES``; delete the entry with the alias).

(This file is not tests/test_layers.py: tests/nn/test_layers.py has that name, and the test
folders are not packages, so two files of one name cannot both be collected.)
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autonet"

# Module that keeps a deprecated alias -> the module its __getattr__ may import for it.
DEPRECATED_ALIASES = {
    "autonet.viz": "autonet.cli.graph",
    "autonet.gradcheck": "autonet.cli.check",
    "autonet.demo": "autonet.cli.demo",
}


@dataclass(frozen=True)
class Import:
    """One import written in a module of autonet: who imports what, where, and at which line."""

    importer: str
    target: str
    functions: tuple[str, ...]  # the enclosing functions, outermost first; () at module level
    line: int

    def __str__(self) -> str:
        where = f" inside {'.'.join(self.functions)}()" if self.functions else ""
        return f"{self.importer} imports {self.target}{where} (line {self.line})"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``autonet/ops/arith.py`` -> ``autonet.ops.arith``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_paths(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


class _Finder(ast.NodeVisitor):
    """Collects the imports of one module, with the functions they sit in."""

    def __init__(self, importer: str, is_package: bool, known: set[str]) -> None:
        self.importer = importer
        self.package = importer if is_package else importer.rpartition(".")[0]
        self.known = known
        self.functions: list[str] = []
        self.found: list[Import] = []

    def _add(self, target: str, node: ast.AST) -> None:
        if target == "autonet" or target.startswith("autonet."):
            self.found.append(Import(self.importer, target, tuple(self.functions), node.lineno))

    def _absolute(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        base = self.package.split(".")[: len(self.package.split(".")) - (level - 1)]
        return ".".join([*base, module] if module else base)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node.module, node.level)
        targets = []
        for alias in node.names:
            # "from . import nn" imports the module autonet.nn; "from .engine import Value" a name.
            submodule = f"{base}.{alias.name}"
            targets.append(submodule if submodule in self.known else base)
        for target in dict.fromkeys(targets):  # one statement, one import of each module
            self._add(target, node)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("autonet.viz") and __import__("autonet.viz") import too.
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in ("import_module", "__import__") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                text = first.value
                level = len(text) - len(text.lstrip("."))
                self._add(self._absolute(text.lstrip(".") or None, level), node)
        self.generic_visit(node)


def imports_in(
    source: str, importer: str, is_package: bool = False, known: set[str] | None = None
) -> list[Import]:
    """Every import of an autonet module written in ``source`` (the code of module ``importer``)."""
    finder = _Finder(importer, is_package, known if known is not None else set(module_paths()))
    finder.visit(ast.parse(source))
    return finder.found


def all_imports() -> list[Import]:
    paths = module_paths()
    known = set(paths)
    found = []
    for name, path in paths.items():
        found += imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", known)
    return found


IMPORTS = all_imports()


def inside(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


def imports_from(layer: str) -> Iterator[Import]:
    return (i for i in IMPORTS if inside(i.importer, layer))


def _forbidden(layer: str, above: list[str]) -> list[Import]:
    """The imports from ``layer`` of anything ``above`` it, or of the whole package (which loads
    every layer: autonet/__init__.py imports viz and nn)."""
    return [
        i for i in imports_from(layer) if i.target == "autonet" or any(inside(i.target, a) for a in above)
    ]


def _deprecated_alias(i: Import) -> bool:
    return i.functions == ("__getattr__",) and DEPRECATED_ALIASES.get(i.importer) == i.target


# --------------------------------------------------------------------------- the rules


def test_ops_import_nothing_from_autonet_but_ops_and_state() -> None:
    outside = [
        i
        for i in imports_from("autonet.ops")
        if not (inside(i.target, "autonet.ops") or i.target == "autonet._state")
    ]
    assert not outside, "ops sit at the bottom:\n" + "\n".join(map(str, outside))


def test_state_imports_nothing_from_autonet() -> None:
    assert not list(imports_from("autonet._state"))


def test_the_engine_never_imports_drawing_networks_checks_testing_or_the_command_line() -> None:
    found = _forbidden(
        "autonet.engine", ["autonet.viz", "autonet.nn", "autonet.cli", "autonet.gradcheck", "autonet.testing"]
    )
    jupyter_hook = [
        i for i in found if inside(i.target, "autonet.viz") and i.functions[-1:] == ("_repr_mimebundle_",)
    ]
    # The hook draws on demand, so it may import viz when called; once, and nothing else may.
    assert len(jupyter_hook) <= 1, "\n".join(map(str, jupyter_hook))
    wrong = [i for i in found if i not in jupyter_hook]
    assert not wrong, "the engine sits below these:\n" + "\n".join(map(str, wrong))


@pytest.mark.parametrize(
    "helper",
    [
        "autonet.storage",
        "autonet.copying",
        "autonet.forward",
        "autonet.vjp",
        "autonet.arrays",
        "autonet.anomaly",
    ],
)
def test_the_engines_helpers_sit_below_it(helper: str) -> None:
    # Value's storage half, its copies and pickles, and the walk's per-edge work reach Values
    # through their public API (and Value.from_record), never through the engine module.
    above = ["autonet.engine", "autonet.surface", "autonet.nn", "autonet.viz", "autonet.cli"]
    wrong = _forbidden(helper, above)
    assert not wrong, f"{helper} sits below the engine:\n" + "\n".join(map(str, wrong))


def test_the_transforms_sit_beside_functional_above_the_engine() -> None:
    # jvp, jacobian, hessian ... build on the engine and functional (grad); gradcheck's forward mode
    # builds on them, and nothing below them (the engine, functional, the ops) reaches up to them.
    above = ["autonet.nn", "autonet.optim", "autonet.gradcheck", "autonet.testing", "autonet.viz"]
    wrong = _forbidden("autonet.transforms", [*above, "autonet.monitor", "autonet.cli"])
    assert not wrong, "\n".join(map(str, wrong))
    below = ["autonet.engine", "autonet.functional", "autonet.ops", "autonet.surface", "autonet.vjp"]
    users = [i for layer in below for i in imports_from(layer) if inside(i.target, "autonet.transforms")]
    assert not users, "\n".join(map(str, users))


def test_compile_sits_above_the_engine_and_nothing_below_imports_it() -> None:
    # autonet.compile traces through the engine's one switch (STATE.tracer), which the engine, the
    # walk, Storage and the optimizers consult without importing it; it needs no module or optimizer.
    above = ["autonet.nn", "autonet.optim", "autonet.gradcheck", "autonet.testing", "autonet.viz"]
    wrong = _forbidden("autonet.compiler", [*above, "autonet.monitor", "autonet.export", "autonet.cli"])
    assert not wrong, "\n".join(map(str, wrong))
    below = ["autonet.engine", "autonet.storage", "autonet.vjp", "autonet.ops", "autonet.surface"]
    below += ["autonet.functional", "autonet.transforms", "autonet.nn", "autonet.optim", "autonet._state"]
    users = [i for layer in below for i in imports_from(layer) if inside(i.target, "autonet.compiler")]
    assert not users, "\n".join(map(str, users))


def test_gradcheck_never_imports_testing_or_the_command_line() -> None:
    wrong = [
        i
        for i in _forbidden("autonet.gradcheck", ["autonet.testing", "autonet.cli"])
        if not _deprecated_alias(i)
    ]
    assert not wrong, "gradcheck takes its cases from the caller:\n" + "\n".join(map(str, wrong))


def test_nn_never_imports_drawing_or_the_command_line() -> None:
    wrong = _forbidden("autonet.nn", ["autonet.viz", "autonet.cli"])
    assert not wrong, "\n".join(map(str, wrong))


def test_optim_takes_parameters_not_modules() -> None:
    wrong = _forbidden("autonet.optim", ["autonet.nn", "autonet.viz", "autonet.cli"])
    assert not wrong, "\n".join(map(str, wrong))


def test_the_monitor_sits_above_nn_and_optim_and_nothing_below_imports_it() -> None:
    # The monitor watches a model (it may import nn and optim); only the command line, above
    # everything, may use it, and the package's __init__ does not load it.
    users = [
        i
        for i in IMPORTS
        if inside(i.target, "autonet.monitor")
        and not inside(i.importer, "autonet.monitor")
        and not inside(i.importer, "autonet.cli")
    ]
    assert not users, "nothing below the monitor imports it:\n" + "\n".join(map(str, users))
    beside_or_above = ["autonet.viz", "autonet.cli", "autonet.gradcheck", "autonet.testing"]
    wrong = _forbidden("autonet.monitor", beside_or_above)
    assert not wrong, "the monitor sits beside viz, below the command line:\n" + "\n".join(map(str, wrong))
    assert any(i.importer == "autonet.monitor" and inside(i.target, "autonet.nn") for i in IMPORTS)


def test_the_export_sits_above_nn_and_nothing_below_imports_it() -> None:
    # ONNX files and PyTorch layouts are made from a model (the export may import nn and the
    # engine); only the command line may use it, and the package's __init__ does not load it.
    users = [
        i
        for i in IMPORTS
        if inside(i.target, "autonet.export")
        and not inside(i.importer, "autonet.export")
        and not inside(i.importer, "autonet.cli")
    ]
    assert not users, "nothing below the export imports it:\n" + "\n".join(map(str, users))
    beside_or_above = [
        "autonet.viz",
        "autonet.monitor",
        "autonet.cli",
        "autonet.gradcheck",
        "autonet.testing",
    ]
    wrong = _forbidden("autonet.export", beside_or_above)
    assert not wrong, "the export sits beside viz, below the command line:\n" + "\n".join(map(str, wrong))
    assert any(i.importer == "autonet.export" and inside(i.target, "autonet.nn") for i in IMPORTS)


def test_only_the_command_line_imports_the_command_line() -> None:
    wrong = [
        i
        for i in IMPORTS
        if inside(i.target, "autonet.cli")
        and not inside(i.importer, "autonet.cli")
        and i.importer != "autonet.__main__"
        and not _deprecated_alias(i)
    ]
    assert not wrong, "nothing in the library depends on the command line:\n" + "\n".join(map(str, wrong))


def test_each_deprecated_alias_is_still_there_and_warns() -> None:
    # An entry of DEPRECATED_ALIASES whose alias was removed is an exception nobody needs.
    for importer, target in DEPRECATED_ALIASES.items():
        source = module_paths()[importer].read_text(encoding="utf-8")
        shims = [i for i in IMPORTS if i.importer == importer and _deprecated_alias(i)]
        assert shims, (
            f"{importer} no longer imports {target} in __getattr__: remove it from DEPRECATED_ALIASES"
        )
        assert "DeprecationWarning" in source


# --------------------------------------------------------------------------- the scanner itself


def test_every_module_is_scanned_and_every_target_exists() -> None:
    known = set(module_paths())
    assert {"autonet", "autonet.engine", "autonet.ops.arith", "autonet.cli", "autonet.cli.check"} <= known
    assert any(i.importer == "autonet.engine" and inside(i.target, "autonet.ops") for i in IMPORTS)
    unknown = [i for i in IMPORTS if i.target not in known]
    assert not unknown, "imports of no module (a typo, or the scanner resolved them wrongly):\n" + "\n".join(
        map(str, unknown)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from . import ops as _ops", [("autonet.ops", ())]),
        ("from .ops.registry import Op, register", [("autonet.ops.registry", ())]),
        ("from . import maximum", [("autonet", ())]),  # a name, not a module: the package is imported
        ("import autonet.viz", [("autonet.viz", ())]),
        ("import numpy as np\nimport os.path", []),
        (
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .nn import Module
            """,
            [("autonet.nn", ())],
        ),
        (
            """
            class Value:
                def _repr_mimebundle_(self):
                    def inner():
                        from .viz import draw_graph
            """,
            [("autonet.viz", ("_repr_mimebundle_", "inner"))],
        ),
        ("import importlib\nimportlib.import_module('autonet.cli')", [("autonet.cli", ())]),
        ("def f():\n    __import__('.viz')", [("autonet.viz", ("f",))]),
    ],
)
def test_the_scanner_finds_imports_of_every_form(
    source: str, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    found = imports_in(textwrap.dedent(source), "autonet.engine")
    assert [(i.target, i.functions) for i in found] == expected


def test_relative_imports_resolve_from_packages_and_their_modules() -> None:
    found = imports_in(
        "from .. import nn\nfrom ..viz import draw_graph\nfrom . import check", "autonet.cli", True
    )
    assert [i.target for i in found] == ["autonet.nn", "autonet.viz", "autonet.cli.check"]
    found = imports_in("from ..engine import Value\nfrom .init import resolve", "autonet.nn.layers")
    assert [i.target for i in found] == ["autonet.engine", "autonet.nn.init"]
