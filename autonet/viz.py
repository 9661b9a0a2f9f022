"""Draw the graph behind a Value with Graphviz: values with their data and gradients, ops by name.

``draw_graph(root)`` walks the recorded graph (an explicit stack, no recursion) and returns a
``graphviz.Digraph``: one record node per Value (label, shape, dtype, data and, once backward has
reached it, the gradient) and one small node per op, named after its registry entry with its
parameters (``sum(axis=1)``, ``getitem[:, 0]``, ``reshape(2, 3)``). ``save_graph(root, "g.svg")``
writes a picture, picking the format from the extension; ``.dot`` needs no Graphviz program.

The engine never imports this module, and this module imports the ``graphviz`` package only when
something is drawn, so ``import autonet`` stays light. Importing it teaches ``Value`` to show its
graph inline in Jupyter.

>>> from autonet import Value
>>> from autonet.viz import draw_graph
>>> x = Value(2.0, label="x")
>>> y = (x * x).tanh()
>>> y.backward(retain_graph=True)
>>> graph = draw_graph(y)
>>> "tanh" in graph.source and "grad" in graph.source
True
"""

from __future__ import annotations

import contextlib
import os
import secrets
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .engine import Value, stored_gradient
from .explorer import Explorer, explore

if TYPE_CHECKING:  # graphviz is imported when something is drawn, never at import time
    import graphviz

__all__ = ["FORMATS", "Explorer", "GraphvizNotFoundError", "draw_graph", "explore", "save_graph"]

FORMATS = ("svg", "png", "pdf", "dot")
"""The file formats ``save_graph`` writes (``dot`` is the Graphviz source and needs no program)."""

Roots = Value | Sequence[Value]

_INSTALL_HINT = (
    "install Graphviz, which provides the `dot` program: `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install -c conda-forge graphviz`, or see "
    "https://graphviz.org/download/ ; without it, save the DOT source with a .dot file name instead"
)


class GraphvizNotFoundError(RuntimeError):
    """Drawing needs Graphviz's ``dot`` program and it is missing (the message says how to get it)."""


# --------------------------------------------------------------------------- styles

# Fill colours tell the kinds of Value apart at a glance; the SVG also carries them as CSS classes.
_STYLE = {
    "parameter": {"fillcolor": "#cfe2f3", "style": "filled"},
    "leaf": {"fillcolor": "#d9ead3", "style": "filled"},
    "constant": {"fillcolor": "#eeeeee", "style": "filled,dashed", "fontcolor": "#444444"},
    "intermediate": {"fillcolor": "#ffffff", "style": "filled"},
}
_ROOT_STYLE = {"fillcolor": "#fce5cd", "style": "filled,bold", "penwidth": "2"}
_OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#fff2cc", "fontsize": "10", "class": "op"}
_MODULE_STYLE = {"shape": "Mrecord", "style": "filled", "fillcolor": "#d9d2e9", "class": "module"}


# --------------------------------------------------------------------------- text helpers


def _escape(text: str) -> str:
    """Make ``text`` literal inside a record label: backslash first, then the record syntax."""
    text = text.replace("\\", "\\\\")
    for char in '{}|<>"':
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _number(x: Any, precision: int) -> str:
    x = float(x)
    return format(0.0 if x == 0 else x, f".{precision}g")  # -0 would only puzzle a reader


def _array_lines(array: np.ndarray, max_elements: int, precision: int) -> list[str]:
    """The elements of a small array, one line per row, or a min/mean/max summary of a large one."""
    array = np.asarray(array)
    if array.size == 0:
        return ["(empty)"]
    if array.size > max_elements:
        values = array.astype(np.float64, copy=False)
        return [
            f"min {_number(values.min(), precision)} mean {_number(values.mean(), precision)} "
            f"max {_number(values.max(), precision)}"
        ]
    if array.ndim == 0:
        return [_number(array, precision)]
    text = np.array2string(
        array,
        separator=", ",
        threshold=max(max_elements, 1),
        max_line_width=10_000,
        formatter={"float_kind": lambda v: _number(v, precision)},
    )
    return text.split("\n")


def _field(name: str, lines: list[str]) -> str:
    """One record field; several lines are left-justified (``\\l``) so matrix rows line up."""
    if len(lines) == 1:
        return _escape(f"{name} {lines[0]}")
    return "".join(_escape(line) + "\\l" for line in [f"{name} {lines[0]}", *lines[1:]])


def _literal(value: Any, precision: int) -> str:
    """A parameter written as Python source would write it (arrays summarised)."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return repr(value.tolist())
        return f"{value.dtype}[{'x'.join(str(n) for n in value.shape)}]"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return _number(value, precision)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v, precision) for v in value)
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
    return _literal(part, 6)


def _index_text(index: Any) -> str:
    """An index as it is written between brackets in Python source.

    >>> _index_text((slice(None), 0))
    ':, 0'
    >>> _index_text((Ellipsis, slice(1, None, 2), None))
    '..., 1::2, None'
    """
    if isinstance(index, tuple):
        return ", ".join(_index_part(p) for p in index) if index else "()"
    return _index_part(index)


def _op_text(value: Value, precision: int) -> str:
    """The op that made ``value``, with its parameters: ``sum(axis=1)``, ``getitem[:, 0]``, ``reshape(2, 3)``.

    Parameters are written as Python source would write them; index and condition arrays are summarised.
    """
    name = value.op.name
    params = value.params
    if not params:
        return name
    if "index" in params:
        rest = {k: v for k, v in params.items() if k != "index"}
        text = f"{name}[{_index_text(params['index'])}]"
        return text + (f" -> {_literal(tuple(rest['shape']), precision)}" if "shape" in rest else "")
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
        parts.append(f"{key}={_literal(param, precision)}")
    return f"{name}({', '.join(parts)})" if parts else name


# --------------------------------------------------------------------------- walking the graph


def _recorded_input_count(value: Value) -> int:
    # A released node keeps one weak reference per input: their number says how many there were.
    record = value.record
    return 0 if record is None else len(record.inputs)


def _parents(value: Value) -> tuple[Value, ...]:
    parents = value.parents
    if value.graph_released and len(parents) != _recorded_input_count(value):
        raise RuntimeError(
            f"draw_graph: the graph behind this {value.op.name} (shape {value.shape}) was released by "
            f"backward(), which freed {_recorded_input_count(value) - len(parents)} of the op's "
            f"{_recorded_input_count(value)} input(s); call backward(retain_graph=True), or draw the graph "
            "before calling backward()"
        )
    return parents


def _walk(roots: list[Value], limit: int | None) -> list[Value]:
    """Every Value behind ``roots``, inputs before their users, each once (an explicit stack).

    Raises the size error as soon as more than ``limit`` nodes would be drawn.
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
            raise _too_large(limit, f"more than {limit}")
        stack.append((value, True))
        for parent in reversed(_parents(value)):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def _too_large(limit: int, count: str) -> ValueError:
    return ValueError(
        f"draw_graph: the graph has {count} nodes, over the limit max_nodes={limit}; an unreadable picture "
        "would help nobody. Draw it with collapse='modules' (one node per module call), draw a smaller "
        "part (a single layer or loss), or raise max_nodes"
    )


@dataclass
class _Module:
    """One collapsed module call: the ops inside it, its outputs and the leaves only it uses."""

    scope: str
    outputs: list[Value] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    parameters: int = 0
    name: str = ""


class _Clusters:
    """Which module call each Value belongs to, and which Values a collapsed drawing hides.

    Walking back from each tagged Value (inputs first, so inner modules claim their ops before
    outer ones) collects the ops of its call, stopping at leaves and at Values of another module.
    Values tagged with the same module on one path (a layer tags its pre-activation and its
    output) belong to one call. A member stays visible when something outside its call uses it
    (the call's outputs) or it is a root; a leaf is hidden inside the only call that uses it when
    it is a parameter (or an unnamed scalar constant such as the 1 in ``1 - x``).
    """

    def __init__(self, order: list[Value], keep: set[int]) -> None:
        tagged = {id(v): scope for v in order if v.op is not None and (scope := v.scope)}
        self._union: dict[int, int] = {}
        owner: dict[int, int] = {}  # id(value) -> id of a tagged Value of the same call
        for value in order:
            key = id(value)
            if key not in tagged:
                continue
            self._union[key] = key
            owner[key] = key
            stack = [value]
            while stack:
                for parent in stack.pop().parents:
                    pkey = id(parent)
                    if parent.op is None:
                        continue
                    other = owner.get(pkey)
                    if other is None and pkey not in tagged:
                        owner[pkey] = key
                        stack.append(parent)
                    elif other is not None and tagged[self._find(other)] == tagged[key]:
                        self._union[self._find(other)] = self._find(key)  # one call, reached twice
        self.owner = {k: self._find(v) for k, v in owner.items()}
        users: dict[int, set[int | None]] = {}
        for value in order:
            mine = self.owner.get(id(value))
            for parent in value.parents:
                users.setdefault(id(parent), set()).add(mine)
        self.hidden: set[int] = set()
        self.absorbed: dict[int, int] = {}  # id(leaf) -> the call it is hidden in
        self.modules: dict[int, _Module] = {}
        for value in order:
            key = id(value)
            mine = self.owner.get(key)
            if value.op is None:
                callers = users.get(key, set())
                hideable = (value.requires_grad and value.label) or (
                    not value.requires_grad and value.size == 1 and not value.label
                )
                if hideable and len(callers) == 1 and None not in callers and key not in keep:
                    (call,) = callers
                    self.absorbed[key] = call
                    self.hidden.add(key)
                continue
            if mine is None:
                continue
            module = self.modules.setdefault(mine, _Module(tagged[mine]))
            module.ops.append(value.op.name)
            if key in keep or users.get(key, set()) - {mine} or key not in users:
                module.outputs.append(value)
            else:
                self.hidden.add(key)
        by_id = {id(v): v for v in order}
        for key, call in self.absorbed.items():
            if by_id[key].requires_grad:
                self.modules[call].parameters += by_id[key].size

    def _find(self, key: int) -> int:
        while self._union[key] != key:
            self._union[key] = self._union[self._union[key]]
            key = self._union[key]
        return key

    def hides(self, value: Value) -> bool:
        return id(value) in self.hidden

    def call_of(self, value: Value) -> int | None:
        """The call a hidden Value is drawn as (None when it is drawn itself)."""
        key = id(value)
        if key not in self.hidden:
            return None
        return self.absorbed.get(key, self.owner.get(key))


# --------------------------------------------------------------------------- drawing


def _kind(value: Value) -> str:
    if value.op is not None:
        return "intermediate"
    if not value.requires_grad:
        return "constant"
    return "parameter" if value.label else "leaf"


def _value_label(value: Value, *, show_data: bool, show_grad: bool, max_elements: int, precision: int) -> str:
    fields = []
    if value.label:
        fields.append(_escape(value.label))
    shape = f"shape {value.shape}" if value.shape else "scalar"
    fields.append(_escape(f"{shape} {value.dtype}"))
    if show_data:
        fields.append(_field("data", _array_lines(np.asarray(value), max_elements, precision)))
    grad = stored_gradient(value)
    if show_grad and grad is not None:
        fields.append(_field("grad", _array_lines(np.asarray(grad), max_elements, precision)))
    return "|".join(fields)


def _module_label(module: _Module) -> str:
    ops: list[str] = []
    for name in module.ops:
        if name not in ops:
            ops.append(name)
    shown = ", ".join(ops[:4]) + (", ..." if len(ops) > 4 else "")
    outputs = ", ".join(str(out.shape) for out in module.outputs)
    count = module.parameters
    fields = [
        module.scope,
        f"{count} parameter{'s' if count != 1 else ''}",
        f"{len(module.ops)} ops: {shown}",
        f"out {outputs}",
    ]
    return "|".join(_escape(f) for f in fields)


def _as_roots(root: Roots) -> list[Value]:
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


def _check_options(rankdir: str, collapse: str, max_elements: int, precision: int, max_nodes: int) -> None:
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if collapse not in ("none", "modules"):
        raise ValueError(f"draw_graph: collapse must be 'none' or 'modules', got {collapse!r}")
    for name, number, low in (
        ("max_elements", max_elements, 0),
        ("precision", precision, 1),
        ("max_nodes", max_nodes, 1),
    ):
        if isinstance(number, bool) or not isinstance(number, int) or number < low:
            raise ValueError(f"draw_graph: {name} must be an int >= {low}, got {number!r}")


def draw_graph(
    root: Roots,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 4,
    precision: int = 4,
    title: str | None = None,
    collapse: str = "none",
    max_nodes: int = 500,
    node_ids: Mapping[Value, str] | None = None,
) -> graphviz.Digraph:
    """The graph that produced ``root`` (a Value or a list of Values) as a ``graphviz.Digraph``.

    Each Value is a record node: its label (modules name their parameters, e.g. ``layers.0.w``),
    shape and dtype, its data and, once a backward pass has reached it, its gradient. Arrays with
    more than ``max_elements`` elements show min/mean/max instead; numbers keep ``precision``
    significant digits. Each op is a small node named after its registry entry with its
    parameters (``matmul``, ``sum(axis=1)``, ``getitem[:, 0]``). Parameters (labelled leaves that
    require grad) are blue, other leaves that require grad green, constants grey and dashed, roots
    orange and bold; a Value used several times is drawn once with several outgoing edges.

    ``collapse="modules"`` draws each module call (Values tagged by ``Module.__call__``) as one node
    with its parameter count and output shapes, hiding its interior ops and its own parameters.
    ``node_ids`` gives drawn Values an ``id`` attribute (in SVG), so that a page can find them.

    Returns the Digraph (``.source`` is the DOT text; ``.render()``, ``save_graph`` and Jupyter draw
    it). Raises ``ValueError`` past ``max_nodes`` nodes, ``RuntimeError`` where a backward freed the graph.

    >>> from autonet import Value
    >>> a, b = Value([1.0, 2.0], label="a"), Value([3.0, 4.0], label="b")
    >>> graph = draw_graph((a * b).sum())
    >>> sum(line.count("->") for line in graph.body)
    5
    """
    _check_options(rankdir, collapse, max_elements, precision, max_nodes)
    roots = _as_roots(root)
    order = _walk(roots, None if collapse == "modules" else max_nodes)
    root_ids = {id(r) for r in roots}
    clusters = _Clusters(order, root_ids) if collapse == "modules" else None
    names: dict[int, str] = {id(v): f"v{i}" for i, v in enumerate(order)}
    visible = [v for v in order if clusters is None or not clusters.hides(v)]
    modules, owned = ({}, {}) if clusters is None else (clusters.modules, clusters.owner)
    total = len(visible) + len(modules) + sum(1 for v in visible if v.op is not None and id(v) not in owned)
    if total > max_nodes:
        raise _too_large(max_nodes, str(total))
    graph = _new_digraph(rankdir, title)
    # A record's fields run across the rank direction; braces turn them so they always stack.
    wrap = "{}" if rankdir in ("LR", "RL") else "{{{}}}"
    for key, module in modules.items():
        module.name = f"m{names[key][1:]}"
        graph.node(module.name, _nohtml(wrap.format(_module_label(module))), **_MODULE_STYLE)
    for value in visible:
        label = _value_label(
            value, show_data=show_data, show_grad=show_grad, max_elements=max_elements, precision=precision
        )
        _draw_value(graph, value, names[id(value)], wrap.format(label), id(value) in root_ids)
    _draw_ops(graph, order, names, clusters, precision)
    for value, node_id in (node_ids or {}).items():  # DOT adds a repeated node's attributes to it
        if id(value) in names and not (clusters and clusters.hides(value)):
            graph.node(names[id(value)], id=node_id)
    return graph


def _nohtml(text: str) -> Any:
    import graphviz

    return graphviz.nohtml(text)


def _new_digraph(rankdir: str, title: str | None) -> graphviz.Digraph:
    graph = _digraph_class()(name="autonet", comment="drawn by autonet.viz.draw_graph")
    graph.attr(rankdir=rankdir, fontname="Helvetica", nodesep="0.25", ranksep="0.35")
    if title:
        graph.attr(label=title, labelloc="t", fontsize="16")
    graph.attr("node", shape="record", fontname="Helvetica", fontsize="11", height="0.3")
    graph.attr("edge", arrowsize="0.7", color="#555555")
    return graph


def _draw_value(graph: graphviz.Digraph, value: Value, name: str, label: str, is_root: bool) -> None:
    kind = _kind(value)
    style = dict(_STYLE[kind])
    classes = ["value", kind]
    if is_root:
        style.update(_ROOT_STYLE)
        classes.append("root")
    graph.node(name, _nohtml(label), **style, **{"class": " ".join(classes)})


def _draw_ops(
    graph: graphviz.Digraph,
    order: list[Value],
    names: dict[int, str],
    clusters: _Clusters | None,
    precision: int,
) -> None:
    """Each op as a small node between its inputs and its result (collapsed calls: crossing edges only)."""
    modules = {} if clusters is None else clusters.modules

    def node_of(value: Value) -> str:
        """The drawn node that stands for ``value``: itself, or the module call that hides it."""
        call = None if clusters is None else clusters.call_of(value)
        return names[id(value)] if call is None else modules[call].name

    edges: set[tuple[str, str]] = set()
    for value in order:
        if value.op is None:
            continue
        owner = None if clusters is None else clusters.owner.get(id(value))
        if owner is None:
            op_name = f"op{names[id(value)][1:]}"
            graph.node(op_name, _nohtml(_escape(_op_text(value, precision))), **_OP_STYLE)
            for parent in value.parents:
                # Every input is its own edge (x * x shows two), so the drawing follows the graph exactly.
                graph.edge(node_of(parent), op_name)
            graph.edge(op_name, names[id(value)])
            continue
        module_name = modules[owner].name
        for parent in value.parents:
            if clusters.owner.get(id(parent)) == owner:
                continue  # inside the call, even when it is also one of the call's outputs
            tail = node_of(parent)
            if tail != module_name and (tail, module_name) not in edges:
                edges.add((tail, module_name))
                graph.edge(tail, module_name)
        if not clusters.hides(value):
            graph.edge(module_name, names[id(value)])


_DIGRAPH_CLASS: type | None = None


def _digraph_class() -> type:
    """A ``graphviz.Digraph`` whose rendering errors say how to install Graphviz (made on first use)."""
    global _DIGRAPH_CLASS
    if _DIGRAPH_CLASS is None:
        import graphviz

        class Graph(graphviz.Digraph):
            """A ``graphviz.Digraph`` drawn by autonet; a missing ``dot`` raises ``GraphvizNotFoundError``."""

            def pipe(self, *args: Any, **kwargs: Any) -> Any:
                with _explain_missing_dot():
                    return super().pipe(*args, **kwargs)

            def render(self, *args: Any, **kwargs: Any) -> Any:
                with _explain_missing_dot():
                    return super().render(*args, **kwargs)

        Graph.__module__ = __name__
        Graph.__qualname__ = "Graph"
        _DIGRAPH_CLASS = Graph
    return _DIGRAPH_CLASS


@contextlib.contextmanager
def _explain_missing_dot() -> Iterator[None]:
    """Turn graphviz's "executable not found" into an error that says how to install Graphviz."""
    import graphviz

    try:
        yield
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(
            "rendering the graph needs Graphviz's `dot` program, which was not found on the PATH; "
            + _INSTALL_HINT
        ) from error


# --------------------------------------------------------------------------- files


def _format_of(path: Path, override: str | None) -> str:
    fmt = (override or path.suffix.lstrip(".")).lower()
    if fmt == "gv":
        fmt = "dot"
    if fmt not in FORMATS:
        given = (
            f"format {override!r}" if override else f"extension {path.suffix or '(none)'!r} of {str(path)!r}"
        )
        raise ValueError(
            f"save_graph: cannot tell the picture format from the {given}; use one of {', '.join(FORMATS)}"
        )
    return fmt


def _write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it, so a failure never leaves half a file."""
    directory = path.absolute().parent
    if not directory.is_dir():
        raise FileNotFoundError(
            f"save_graph: the directory {str(directory)!r} for {str(path)!r} does not exist; create it first"
        )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as stream:  # a plain open: the usual permissions, not mkstemp's 0600
            stream.write(content)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)  # rewriting a file keeps its mode
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def save_graph(
    root: Roots | graphviz.Digraph,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,  # noqa: A002 - the word graphviz users know
    **options: Any,
) -> Path:
    """Draw ``root`` (Values, or a Digraph from ``draw_graph``) and write it to ``path``; return the path.

    The format comes from the extension (``.svg``, ``.png``, ``.pdf``, ``.dot``) unless ``format``
    overrides it; other keyword arguments go to ``draw_graph``. ``.dot`` writes the Graphviz
    source and needs no Graphviz program; the others raise ``GraphvizNotFoundError`` (saying how
    to install Graphviz) when ``dot`` is missing. The file is written atomically: a failed render
    leaves any old file untouched.

    >>> import os, tempfile
    >>> from autonet import Value
    >>> x = Value(3.0, label="x")
    >>> path = save_graph(x * x, os.path.join(tempfile.mkdtemp(), "square.dot"))
    >>> path.read_text().startswith("// drawn by autonet")
    True
    """
    import graphviz

    path = Path(path)
    fmt = _format_of(path, format)
    if isinstance(root, graphviz.Digraph):
        if options:
            raise TypeError(
                f"save_graph: drawing options {sorted(options)} apply to Values, not to a ready Digraph"
            )
        graph = root
    else:
        graph = draw_graph(root, **options)
    if fmt == "dot":
        content = graph.source.encode("utf-8")
    else:
        with _explain_missing_dot():
            content = graph.pipe(format=fmt)
    _write_atomically(path, content)
    return path


# --------------------------------------------------------------------------- Jupyter


def notebook_bundle(value: Value, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """What Jupyter shows for a Value (``Value._repr_mimebundle_`` asks this): the SVG drawing of
    its graph, and its repr as text (the repr alone where the graph cannot be drawn).

    >>> from autonet import Value
    >>> sorted(notebook_bundle(Value(1.0), include=["text/plain"]))
    ['text/plain']
    """
    bundle: dict[str, Any] = {}
    try:
        bundle.update(draw_graph(value)._repr_mimebundle_(include=include, exclude=exclude))
    except (GraphvizNotFoundError, ValueError, RuntimeError):
        pass  # too large, released, or no Graphviz: the text repr still says what the Value is
    if (include is None or "text/plain" in include) and not (exclude and "text/plain" in exclude):
        bundle["text/plain"] = repr(value)
    return bundle


# --------------------------------------------------------------------------- moved names


def __getattr__(name: str) -> Any:
    """Names that moved away, still reachable for a while with a ``DeprecationWarning``."""
    if name == "run_graph_command":
        warnings.warn(
            "autonet.viz.run_graph_command moved to autonet.cli.graph.run_graph_command; "
            "import it from there (this alias will be removed)",
            DeprecationWarning,
            stacklevel=2,
        )
        # The command sits above drawing; only this deprecated alias reaches up to it.
        from .cli.graph import run_graph_command

        return run_graph_command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
