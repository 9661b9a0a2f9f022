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

import inspect
import os
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._state import STATE
from ..engine import Value, stored_gradient
from . import classroom, scalars
from .common import (
    GraphvizNotFoundError,
    Roots,
    array_lines,
    as_roots,
    digraph_class,
    escape,
    explain_missing_dot,
    nohtml,
    op_text,
    record_field,
    too_large,
    value_kind,
    walk,
)
from .explorer import Explorer, explore

if TYPE_CHECKING:  # graphviz is imported when something is drawn, never at import time
    import graphviz

__all__ = ["FORMATS", "Explorer", "GraphvizNotFoundError", "draw_graph", "explore", "save_graph"]

FORMATS = ("svg", "png", "pdf", "dot")
"""The file formats ``save_graph`` writes (``dot`` is the Graphviz source and needs no program)."""


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


def _scope_of(value: Value) -> str | None:
    """The module path a Module tagged this Value with (``MLP.layers.0``), or None."""
    return value.scope or None


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
        tagged = {id(v): scope for v in order if v.op is not None and (scope := _scope_of(v)) is not None}
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


def _value_label(value: Value, *, show_data: bool, show_grad: bool, max_elements: int, precision: int) -> str:
    fields = []
    if value.label:
        fields.append(escape(value.label))
    shape = f"shape {value.shape}" if value.shape else "scalar"
    fields.append(escape(f"{shape} {value.dtype}"))
    if show_data:
        fields.append(record_field("data", array_lines(np.asarray(value), max_elements, precision)))
    grad = stored_gradient(value)
    if show_grad and grad is not None:
        fields.append(record_field("grad", array_lines(np.asarray(grad), max_elements, precision)))
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
    return "|".join(escape(f) for f in fields)


_STYLES = ("default", "class")
_EXPANSIONS = (None, "scalars")


def _check_options(options: dict[str, Any]) -> None:
    """Refuse a bad drawing option with an error naming it (``options`` holds them all)."""
    rankdir, style, expand = options["rankdir"], options["style"], options["expand"]
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL', 'BT' or None, got {rankdir!r}")
    if options["collapse"] not in ("none", "modules"):
        raise ValueError(f"draw_graph: collapse must be 'none' or 'modules', got {options['collapse']!r}")
    if style not in _STYLES:
        raise ValueError(f"draw_graph: style must be 'default' or 'class', got {style!r}")
    if expand not in _EXPANSIONS:
        raise ValueError(f"draw_graph: expand must be None or 'scalars', got {expand!r}")
    if expand is not None and style != "class":
        raise ValueError(
            f"draw_graph: expand={expand!r} is a view of the class style; pass style='class' too"
        )
    if style == "class" and options["node_ids"]:
        raise ValueError("draw_graph: node_ids works in the default style only; drop style='class'")
    if style == "class" and options["collapse"] != "none":
        raise ValueError("draw_graph: collapse='modules' works in the default style only; drop style='class'")
    for name, low in (("max_elements", 0), ("max_cells", 0), ("precision", 1), ("max_nodes", 1)):
        number = options[name]
        if isinstance(number, bool) or not isinstance(number, int) or number < low:
            raise ValueError(f"draw_graph: {name} must be an int >= {low}, got {number!r}")


def draw_graph(
    root: Roots,
    *,
    rankdir: str | None = None,
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 4,
    precision: int = 4,
    title: str | None = None,
    collapse: str = "none",
    max_nodes: int = 500,
    style: str = "default",
    expand: str | None = None,
    max_cells: int = 256,
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
    ``rankdir`` is ``"LR"`` (the default of this style), ``"TB"``, ``"RL"`` or ``"BT"``.

    ``collapse="modules"`` draws each module call (Values tagged by ``Module.__call__``) as one node
    with its parameter count and output shapes, hiding its interior ops and its own parameters.

    ``style="class"`` draws a picture for teaching (``autonet.viz.classroom``): top to bottom,
    module outputs named (``h1``, ``layers.0``), one box per input, arrays of up to
    ``max_cells`` elements as heat-map cells, and a colour key. With it, ``expand="scalars"``
    draws each layer neuron by neuron (``autonet.viz.scalars``, one sample, at most 64 neurons).

    ``node_ids`` gives drawn Values an ``id`` attribute (in SVG), so that a page can find them
    (the explorer does); default style only.

    Returns the Digraph (``.source`` is the DOT text; ``.render()``, ``save_graph`` and Jupyter draw
    it). Raises ``ValueError`` for a bad option (naming it) and past ``max_nodes`` nodes,
    ``RuntimeError`` where a backward freed the graph.

    >>> from autonet import Value
    >>> a, b = Value([1.0, 2.0], label="a"), Value([3.0, 4.0], label="b")
    >>> graph = draw_graph((a * b).sum())
    >>> sum(line.count("->") for line in graph.body)
    5
    >>> "colour key" in draw_graph((a * b).sum(), style="class").source
    True
    """
    if STATE.tracer is not None:  # autonet.compile is tracing: a replay would draw nothing
        STATE.tracer.refuse("drawing a graph (draw_graph)")
    options = dict(locals())
    del options["root"]
    _check_options(options)
    roots = as_roots(root)
    if style == "class":
        return _draw_class(roots, options)
    return _draw_default(roots, options)


def _draw_class(roots: list[Value], options: dict[str, Any]) -> graphviz.Digraph:
    settings = classroom.ClassOptions(
        rankdir=options["rankdir"] or "TB",
        **{k: options[k] for k in ("show_data", "show_grad", "max_elements", "max_cells", "precision")},
        title=options["title"],
        max_nodes=options["max_nodes"],
    )
    scene = classroom.Scene(roots, settings)
    if options["expand"] == "scalars":
        scalars.zoom(scene)
    return classroom.render(scene)


def _draw_default(roots: list[Value], options: dict[str, Any]) -> graphviz.Digraph:
    rankdir, collapse, max_nodes, precision = (
        options["rankdir"] or "LR",
        options["collapse"],
        options["max_nodes"],
        options["precision"],
    )
    order = walk(roots, None if collapse == "modules" else max_nodes)
    root_ids = {id(r) for r in roots}
    clusters = _Clusters(order, root_ids) if collapse == "modules" else None
    names: dict[int, str] = {id(v): f"v{i}" for i, v in enumerate(order)}
    visible = [v for v in order if clusters is None or not clusters.hides(v)]
    modules, owned = ({}, {}) if clusters is None else (clusters.modules, clusters.owner)
    total = len(visible) + len(modules) + sum(1 for v in visible if v.op is not None and id(v) not in owned)
    if total > max_nodes:
        raise too_large(max_nodes, str(total))
    graph = _new_digraph(rankdir, options["title"])
    # A record's fields run across the rank direction; braces turn them so they always stack.
    wrap = "{}" if rankdir in ("LR", "RL") else "{{{}}}"
    for key, module in modules.items():
        module.name = f"m{names[key][1:]}"
        graph.node(module.name, nohtml(wrap.format(_module_label(module))), **_MODULE_STYLE)
    shown = {k: options[k] for k in ("show_data", "show_grad", "max_elements", "precision")}
    for value in visible:
        label = _value_label(value, **shown)
        _draw_value(graph, value, names[id(value)], wrap.format(label), id(value) in root_ids)
    _draw_ops(graph, order, names, clusters, precision)
    for value, node_id in (options["node_ids"] or {}).items():  # DOT adds a repeated node's attributes
        if id(value) in names and not (clusters and clusters.hides(value)):
            graph.node(names[id(value)], id=node_id)
    return graph


def _new_digraph(rankdir: str, title: str | None) -> graphviz.Digraph:
    graph = digraph_class()(name="autonet", comment="drawn by autonet.viz.draw_graph")
    graph.attr(rankdir=rankdir, fontname="Helvetica", nodesep="0.25", ranksep="0.35")
    if title:
        graph.attr(label=title, labelloc="t", fontsize="16")
    graph.attr("node", shape="record", fontname="Helvetica", fontsize="11", height="0.3")
    graph.attr("edge", arrowsize="0.7", color="#555555")
    return graph


def _draw_value(graph: graphviz.Digraph, value: Value, name: str, label: str, is_root: bool) -> None:
    kind = value_kind(value)
    style = dict(_STYLE[kind])
    classes = ["value", kind]
    if is_root:
        style.update(_ROOT_STYLE)
        classes.append("root")
    graph.node(name, nohtml(label), **style, **{"class": " ".join(classes)})


def _draw_ops(
    graph: graphviz.Digraph,
    order: list[Value],
    names: dict[int, str],
    clusters: _Clusters | None,
    precision: int,
) -> None:
    """Each op as a small node between its inputs and its result; inside a collapsed module call,
    only the edges that cross the call's boundary."""
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
            graph.node(op_name, nohtml(escape(op_text(value, precision))), **_OP_STYLE)
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
        with explain_missing_dot():
            content = graph.pipe(format=fmt)
    _write_atomically(path, content)
    return path


# --------------------------------------------------------------------------- Jupyter


def notebook_bundle(value: Value, include: Any = None, exclude: Any = None, **options: Any) -> dict[str, Any]:
    """What Jupyter shows for a Value (``Value._repr_mimebundle_`` asks this): the SVG drawing of
    its graph, and its repr as text (the repr alone where the graph cannot be drawn).

    ``options`` go to ``draw_graph`` (``style="class"``, ``rankdir="TB"`` ...); with none, the
    defaults draw. A bad option raises its ``ValueError`` or ``TypeError`` instead of falling
    back to the repr, so a typo does not pass unseen.

    >>> from autonet import Value
    >>> sorted(notebook_bundle(Value(1.0), include=["text/plain"]))
    ['text/plain']
    >>> sorted(notebook_bundle(Value(1.0), include=["text/plain"], style="class"))
    ['text/plain']
    """
    signature = inspect.signature(draw_graph)
    signature.bind(value, **options)  # an unknown option is a TypeError that names it
    defaults = {k: p.default for k, p in signature.parameters.items() if k != "root"}
    _check_options({**defaults, **options})
    bundle: dict[str, Any] = {}
    try:
        bundle.update(draw_graph(value, **options)._repr_mimebundle_(include=include, exclude=exclude))
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
        from ..cli.graph import run_graph_command

        return run_graph_command
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
