"""What both drawing styles share: walking the recorded graph, the text of numbers, arrays and
ops, and the Graphviz ``Digraph`` that says how to install Graphviz when ``dot`` is missing.

These names are public inside ``autonet.viz`` (its styles import them); users import
``autonet.viz``, whose ``__all__`` is the drawing API.

>>> from autonet import Value
>>> from autonet.viz.common import op_text, walk
>>> x = Value([1.0, 2.0], label="x")
>>> y = x.sum(axis=0)
>>> [v.label or op_text(v, 4) for v in walk([y], None)]
['x', 'sum(axis=0)']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..engine import Value

__all__ = [
    "INSTALL_HINT",
    "GraphvizNotFoundError",
    "Roots",
    "array_lines",
    "as_roots",
    "digraph_class",
    "escape",
    "explain_missing_dot",
    "index_text",
    "literal",
    "nohtml",
    "number",
    "op_text",
    "record_field",
    "too_large",
    "value_kind",
    "walk",
]

Roots = Value | Sequence[Value]

INSTALL_HINT = (
    "install Graphviz, which provides the `dot` program: `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install -c conda-forge graphviz`, or see "
    "https://graphviz.org/download/ ; without it, save the DOT source with a .dot file name instead"
)


class GraphvizNotFoundError(RuntimeError):
    """Drawing needs Graphviz's ``dot`` program and it is missing (the message says how to get it)."""


# --------------------------------------------------------------------------- text helpers


def escape(text: str) -> str:
    """Make ``text`` literal inside a record label: backslash first, then the record syntax.

    >>> escape("a|b") == "a" + chr(92) + "|b"
    True
    """
    text = text.replace("\\", "\\\\")
    for char in '{}|<>"':
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def number(x: Any, precision: int) -> str:
    """``x`` with ``precision`` significant digits (and 0 for -0).

    >>> number(2 / 3, 3), number(-0.0, 4)
    ('0.667', '0')
    """
    x = float(x)
    return format(0.0 if x == 0 else x, f".{precision}g")  # -0 would only puzzle a reader


def array_lines(array: np.ndarray, max_elements: int, precision: int) -> list[str]:
    """The elements of a small array, one line per row, or a min/mean/max summary of a large one.

    >>> array_lines(np.eye(2), 4, 3), array_lines(np.arange(5.0), 4, 3)
    (['[[1, 0],', ' [0, 1]]'], ['min 0 mean 2 max 4'])
    """
    array = np.asarray(array)
    if array.size == 0:
        return ["(empty)"]
    if array.size > max_elements:
        values = array.astype(np.float64, copy=False)
        return [
            f"min {number(values.min(), precision)} mean {number(values.mean(), precision)} "
            f"max {number(values.max(), precision)}"
        ]
    if array.ndim == 0:
        return [number(array, precision)]
    text = np.array2string(
        array,
        separator=", ",
        threshold=max(max_elements, 1),
        max_line_width=10_000,
        formatter={"float_kind": lambda v: number(v, precision)},
    )
    return text.split("\n")


def record_field(name: str, lines: list[str]) -> str:
    """One record field; several lines are left-justified (``\\l``) so matrix rows line up.

    >>> record_field("data", ["0.5"])
    'data 0.5'
    """
    if len(lines) == 1:
        return escape(f"{name} {lines[0]}")
    return "".join(escape(line) + "\\l" for line in [f"{name} {lines[0]}", *lines[1:]])


def literal(value: Any, precision: int) -> str:
    """A parameter written as Python source would write it (arrays summarised).

    >>> literal((1, 2.5), 4), literal(np.zeros((3, 4)), 4), literal(np.dtype(np.float32), 4)
    ('(1, 2.5)', 'float64[3x4]', 'float32')
    """
    if isinstance(value, np.dtype):
        return str(value)  # astype's dtype: float32, as numpy prints it in an array's repr
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return repr(value.tolist())
        return f"{value.dtype}[{'x'.join(str(n) for n in value.shape)}]"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return number(value, precision)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, tuple):
        inner = ", ".join(literal(v, precision) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _index_part(part: Any) -> str:
    if part is Ellipsis:
        return "..."
    if part is None:
        return "None"
    if isinstance(part, slice):
        start = "" if part.start is None else str(part.start)
        stop = "" if part.stop is None else str(part.stop)
        text = f"{start}:{stop}"
        return text if part.step is None else f"{text}:{part.step}"
    return literal(part, 6)


def index_text(index: Any) -> str:
    """An index as it is written between brackets in Python source.

    >>> index_text((slice(None), 0))
    ':, 0'
    >>> index_text((Ellipsis, slice(1, None, 2), None))
    '..., 1::2, None'
    """
    if isinstance(index, tuple):
        return ", ".join(_index_part(p) for p in index) if index else "()"
    return _index_part(index)


def op_text(value: Value, precision: int) -> str:
    """The op that made ``value``, with its parameters: ``sum(axis=1)``, ``getitem[:, 0]``, ``reshape(2, 3)``.

    Parameters are written as Python source would write them; index and condition arrays are summarised.

    >>> from autonet import Value
    >>> op_text(Value([[1.0, 2.0]]).sum(axis=1), 4)
    'sum(axis=1)'
    """
    name = value.op.name
    params = value.params
    if not params:
        return name
    if "index" in params:
        rest = {k: v for k, v in params.items() if k != "index"}
        text = f"{name}[{index_text(params['index'])}]"
        return text + (f" -> {literal(tuple(rest['shape']), precision)}" if "shape" in rest else "")
    for key in ("shape", "axes"):
        if key in params and len(params) == 1 and params[key] is not None:
            return f"{name}({', '.join(str(int(n)) for n in params[key]) or '()'})"
    parts = []
    for key, param in params.items():
        if key == "keepdims" and not param:
            continue
        if param is None and key in ("axis", "low", "high"):
            continue
        if key == "axis" and isinstance(param, tuple) and len(param) == 1:
            param = param[0]
        parts.append(f"{key}={literal(param, precision)}")
    return f"{name}({', '.join(parts)})" if parts else name


# --------------------------------------------------------------------------- walking the graph


def walk(roots: list[Value], limit: int | None) -> list[Value]:
    """Every Value behind ``roots``, inputs before their users, each once (an explicit stack).

    Raises the size error as soon as more than ``limit`` nodes would be drawn.

    >>> from autonet import Value
    >>> x = Value(2.0, label="x")
    >>> [v.label for v in walk([(x * x).tanh()], None)][0]
    'x'
    """
    order: list[Value] = []
    seen: set[int] = set()
    drawn = 0
    stack: list[tuple[Value, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        value, expanded = stack.pop()
        if expanded:
            order.append(value)
            continue
        if id(value) in seen:
            continue
        seen.add(id(value))
        drawn += 1 if value.op is None else 2
        if limit is not None and drawn > limit:
            raise too_large(limit, f"more than {limit}")
        stack.append((value, True))
        for parent in reversed(value.parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def too_large(limit: int, count: str) -> ValueError:
    """The error for a graph of ``count`` nodes, over ``max_nodes=limit``, saying what to do.

    >>> "collapse='modules'" in str(too_large(10, "12"))
    True
    """
    return ValueError(
        f"draw_graph: the graph has {count} nodes, over the limit max_nodes={limit}; an unreadable picture "
        "would help nobody. Draw it with collapse='modules' (one node per module call), draw a smaller "
        "part (a single layer or loss), or raise max_nodes"
    )


def value_kind(value: Value) -> str:
    """What a Value is in a drawing: ``intermediate``, ``constant``, ``parameter`` or ``leaf``.

    >>> from autonet import Value
    >>> value_kind(Value(1.0, label="w")), value_kind(Value(1.0, requires_grad=False))
    ('parameter', 'constant')
    """
    if value.op is not None:
        return "intermediate"
    if not value.requires_grad:
        return "constant"
    return "parameter" if value.label else "leaf"


def as_roots(root: Roots) -> list[Value]:
    """``root`` (a Value or a list of Values) as a list without repeats; clear errors otherwise.

    >>> from autonet import Value
    >>> x = Value(1.0)
    >>> len(as_roots([x, x]))
    1
    """
    roots = [root] if isinstance(root, Value) else list(root) if isinstance(root, (list, tuple)) else None
    if roots is None or not all(isinstance(r, Value) for r in roots):
        bad = root if roots is None else next(r for r in roots if not isinstance(r, Value))
        raise TypeError(f"draw_graph: expected a Value or a list of Values, got {type(bad).__name__}")
    if not roots:
        raise ValueError("draw_graph: the list of roots is empty; pass at least one Value")
    unique: dict[int, Value] = {}
    for r in roots:
        unique.setdefault(id(r), r)
    return list(unique.values())


def nohtml(text: str) -> Any:
    """``text`` marked for graphviz as a plain label, even when it starts with ``<``.

    >>> str(nohtml("<a>"))
    '<a>'
    """
    import graphviz

    return graphviz.nohtml(text)


_DIGRAPH_CLASS: type | None = None


def digraph_class() -> type:
    """A ``graphviz.Digraph`` whose rendering errors say how to install Graphviz (made on first use).

    >>> digraph_class()(name="g").name
    'g'
    """
    global _DIGRAPH_CLASS
    if _DIGRAPH_CLASS is None:
        import graphviz

        class Graph(graphviz.Digraph):
            """A ``graphviz.Digraph`` drawn by autonet; a missing ``dot`` raises ``GraphvizNotFoundError``."""

            def pipe(self, *args: Any, **kwargs: Any) -> Any:
                with explain_missing_dot():
                    return super().pipe(*args, **kwargs)

            def render(self, *args: Any, **kwargs: Any) -> Any:
                with explain_missing_dot():
                    return super().render(*args, **kwargs)

        Graph.__module__ = __name__
        Graph.__qualname__ = "Graph"
        _DIGRAPH_CLASS = Graph
    return _DIGRAPH_CLASS


@contextlib.contextmanager
def explain_missing_dot() -> Iterator[None]:
    """Turn graphviz's "executable not found" into an error that says how to install Graphviz.

    >>> with explain_missing_dot():
    ...     pass
    """
    import graphviz

    try:
        yield
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(
            "rendering the graph needs Graphviz's `dot` program, which was not found on the PATH; "
            + INSTALL_HINT
        ) from error
