"""Write docs/api.md from the docstrings: every public name, its signature and a one-line summary.

Run from anywhere:  python docs/make_api.py        (rewrites docs/api.md)
                    python docs/make_api.py --check (exit status 1 if docs/api.md is out of date)

The public names are each module's ``__all__``; classes also list their own public methods and
properties. A summary is the first sentence of the docstring; constants take theirs from the
string literal written under their assignment (``NAME = ...`` then ``\"\"\"what it is\"\"\"``).
tests/test_api_docs.py regenerates the page and fails when the committed one differs.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import itertools
import re
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

API_PAGE = Path(__file__).resolve().parent / "api.md"

# The sections of the page, in reading order: the modules whose __all__ is the public surface.
MODULES = [
    "autonet",
    "autonet.nn",
    "autonet.nn.functional",
    "autonet.nn.init",
    "autonet.nn.utils",
    "autonet.optim",
    "autonet.data",
    "autonet.viz",
    "autonet.monitor",
    "autonet.export",
    "autonet.gradcheck",
    "autonet.ops",
    "autonet.ops.cases",
    "autonet.ops.custom",
    "autonet.testing",
    "autonet.testing.cases",
    "autonet.testing.checks",
    "autonet.testing.strategies",
    "autonet.cli",
    "autonet.cli.demo",
    "autonet.cli.graph",
    "autonet.cli.explore",
    "autonet.cli.check",
]

# Classes whose members are listed under their own heading, because readers look them up often.
MEMBER_SECTIONS = {"autonet": ["Value"], "autonet.nn": ["Module"]}

NO_DOCSTRING = "(no docstring)"
_ABBREVIATION = re.compile(r"(?:\be\.g|\bi\.e|\betc|\bvs|\bcf)\.$")


def summary(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, on one line, in Markdown.

    >>> summary("Adds ``a`` and ``b``, e.g. 1 and 2. Then more.\\n\\nDetails.")
    'Adds `a` and `b`, e.g. 1 and 2.'
    """
    if not doc or not doc.strip():
        return NO_DOCSTRING
    paragraph = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    paragraph = paragraph.replace("``", "`")
    sentence = paragraph
    # End at the first ". " that closes a sentence (not "e.g. ", not inside `code`).
    for match in re.finditer(r"[.!?](?=\s)", paragraph):
        head = paragraph[: match.end()]
        if head.count("`") % 2 == 0 and not _ABBREVIATION.search(head):
            sentence = head
            break
    return sentence


def _module_name(obj: Any) -> str:
    return getattr(obj, "__module__", "") or ""


def _default(value: Any) -> str:
    """A default value as code: types and functions by name, everything else by repr."""
    if isinstance(value, type):
        module = _module_name(value)
        if module == "builtins":
            return value.__qualname__
        return f"{'np' if module.startswith('numpy') else module}.{value.__qualname__}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        return value.__qualname__
    return repr(value)


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation  # as written in the source (modules use `from __future__ import annotations`)
    return inspect.formatannotation(annotation)


def signature(obj: Callable[..., Any], name: str) -> str:
    """``name(parameters) -> return`` with the annotations as the source writes them.

    >>> def f(x: int, *, scale: float = 2.0) -> float: ...
    >>> signature(f, "f")
    'f(x: int, *, scale: float = 2.0) -> float'
    """
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"
    parts: list[str] = []
    star_written = False
    parameters = list(sig.parameters.values())
    for index, parameter in enumerate(parameters):
        kind = parameter.kind
        if kind is parameter.KEYWORD_ONLY and not star_written:
            parts.append("*")
            star_written = True
        text = parameter.name
        if kind is parameter.VAR_POSITIONAL:
            text, star_written = "*" + text, True
        elif kind is parameter.VAR_KEYWORD:
            text = "**" + text
        if parameter.annotation is not parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not parameter.empty:
            separator = " = " if parameter.annotation is not parameter.empty else "="
            text += separator + _default(parameter.default)
        parts.append(text)
        following = parameters[index + 1].kind if index + 1 < len(parameters) else None
        if kind is parameter.POSITIONAL_ONLY and following is not parameter.POSITIONAL_ONLY:
            parts.append("/")
    text = f"{name}({', '.join(parts)})"
    if sig.return_annotation is not sig.empty and not inspect.isclass(obj):
        text += f" -> {_annotation(sig.return_annotation)}"
    return text


def _assignment_docstrings(module: types.ModuleType) -> dict[str, str]:
    """``NAME -> docstring`` for module-level assignments followed by a string literal."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return {}
    found = {}
    body = ast.parse(source).body
    for statement, following in itertools.pairwise(body):
        if not (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            continue
        if isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets = [statement.target.id]
        else:
            continue
        for target in targets:
            found[target] = following.value.value
    return found


def _constant_doc(name: str, module: types.ModuleType) -> str | None:
    """The docstring written under ``name``'s assignment in ``module`` or in a module it re-exports from."""
    candidates = [module] + [
        m
        for key, m in sorted(sys.modules.items())
        if m is not None
        and key.startswith(module.__name__ + ".")
        and getattr(m, name, None) is getattr(module, name)
    ]
    for candidate in candidates:
        doc = _assignment_docstrings(candidate).get(name)
        if doc:
            return doc
    return None


def _kind(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, (types.UnionType, types.GenericAlias)):
        return "type alias"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "constant"


def _class_head(cls: type, name: str) -> str:
    bases = [b.__name__ for b in cls.__bases__ if b is not object and not b.__name__.startswith("_")]
    head = signature(cls, name)
    return f"class {head}" + (f"  (subclass of {', '.join(bases)})" if bases else "")


def _entry(name: str, obj: Any, module: types.ModuleType, with_members: bool = True) -> str:
    kind = _kind(obj)
    if kind == "module":
        return f"- **`{name}`** (module): {summary(obj.__doc__)}"
    if kind in ("class", "exception"):
        head = _class_head(obj, name) if kind == "class" else f"exception {name}({obj.__bases__[0].__name__})"
        text = f"- **`{head}`**  \n  {summary(obj.__doc__)}"
        if with_members and kind == "class":
            for member, attribute in _members(obj):
                text += "\n  " + _member_entry(obj, member, attribute).replace("\n", "\n  ")
        return text
    if kind == "function":
        return f"- **`{signature(obj, name)}`**  \n  {summary(obj.__doc__)}"
    if kind == "type alias":
        return f"- **`{name}`** (type alias): {summary(_constant_doc(name, module))}"
    text = repr(obj)
    description = type(obj).__name__ if len(text) > 60 or "\n" in text else text
    return f"- **`{name}`** (`{description}`): {summary(_constant_doc(name, module))}"


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """The class's public methods and properties in the order the source defines them: its own,
    then those it inherits from autonet's classes that have no entry of their own (``Value`` has
    ``Storage``'s ``data`` and ``grad``; a layer's ``Module`` methods are under ``Module``).

    A dataclass field whose default is a function (``Cases.params``) is a field, not a method:
    the signature already shows it.
    """
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    seen = set(fields)
    for klass in cls.__mro__:
        if klass is not cls and (not klass.__module__.startswith("autonet") or _documented(klass)):
            continue
        for name, attribute in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(attribute, (property, staticmethod, classmethod, types.FunctionType)):
                yield name, attribute


def _documented(cls: type) -> bool:
    """Whether ``cls`` has an entry of its own on the page."""
    return any(
        getattr(importlib.import_module(m), name, None) is cls
        for m in MODULES
        for name in getattr(importlib.import_module(m), "__all__", ())
    )


def _member_entry(cls: type, name: str, attribute: Any) -> str:
    doc = inspect.getdoc(getattr(cls, name))  # an override without a docstring inherits its base's
    if isinstance(attribute, property):
        return f"- **`.{name}`** (property): {summary(doc)}"
    function = attribute.__func__ if isinstance(attribute, (staticmethod, classmethod)) else attribute
    text = signature(function, name)
    if not isinstance(attribute, staticmethod):
        text = re.sub(r"^(\w+)\((?:self|cls)(?:: [^,)]+)?(?:, )?", r"\1(", text)
    return f"- **`.{text}`**  \n  {summary(doc)}"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")


def render() -> str:
    """The whole page as Markdown."""
    lines = [
        "# API reference",
        "",
        "Every public name of autonet: each module's `__all__`, with its signature and the first sentence",
        "of its docstring (the docstring has the rest, and a runnable example). This page is generated:",
        "run `python docs/make_api.py` after changing a public name or its docstring;",
        "`tests/test_api_docs.py` fails while it is out of date. The [tutorial](tutorial.md) shows",
        "these names at work.",
        "",
    ]
    sections: list[tuple[str, list[str]]] = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        body = [summary(module.__doc__), ""]
        for name in sorted(module.__all__, key=str.lower):
            obj = getattr(module, name)
            own_section = name in MEMBER_SECTIONS.get(module_name, [])
            body.append(_entry(name, obj, module, with_members=not own_section))
        sections.append((module_name, body))
        for class_name in MEMBER_SECTIONS.get(module_name, []):
            cls = getattr(module, class_name)
            members = [_member_entry(cls, name, attribute) for name, attribute in _members(cls)]
            sections.append((f"{module_name}.{class_name}", [summary(cls.__doc__), "", *members]))
    lines.append("Contents: " + ", ".join(f"[{title}](#{_anchor(title)})" for title, _ in sections) + ".")
    lines.append("")
    for title, body in sections:
        lines += [f"## {title}", "", *body, ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/api.md from the docstrings.")
    parser.add_argument("--check", action="store_true", help="only report whether docs/api.md is up to date")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = API_PAGE.read_text(encoding="utf-8") if API_PAGE.exists() else ""
        if current != page:
            print(f"{API_PAGE} is out of date: run python docs/make_api.py")
            return 1
        print(f"{API_PAGE} is up to date")
        return 0
    API_PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {API_PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
