"""The teaching style of ``draw_graph(root, style="class")``: a picture to put on a slide.

What it changes against the default style, all from the same recorded graph:

- Values that modules returned are named after the module's attribute (``h1``, ``o1``,
  ``layers.0``; a layer's pre-activation is ``z_layers.0``), the data fed to them is ``x`` and
  the constant a loss compares with is ``target``; a label given by the user always wins.
- An input given to several modules (the tutorial passes one array to h1 and h2, and each
  makes its own constant) is drawn once: unnamed constants with equal data are one box.
- ``reshape`` and ``concatenate`` that only join module outputs (a ``Neuron`` given a list of
  other neurons' outputs) are not drawn: the outputs go straight to the op that reads them.
- A box shows its name, its shape only when it is not a scalar (and its dtype only when it is
  not float64), its data and gradient; small arrays are heat-map cells (blue negative, red
  positive, the number in the cell or in its tooltip), big ones a min/mean/max summary.
- The layout runs top to bottom, and a colour key says what the colours mean.

A ``Scene`` is the picture before it is drawn: the boxes (values) and steps (ops) and the
neuron clusters that ``autonet.viz.scalars`` adds when it zooms into layers; ``render`` turns
it into a Graphviz ``Digraph``.

>>> from autonet import Value
>>> x = Value(2.0, label="x")
>>> y = (x * x).tanh()
>>> y.backward(retain_graph=True)
>>> scene = Scene([y], ClassOptions())
>>> sorted(box.title for box in scene.boxes().values() if box.title)
['x']
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import Value, stored_gradient
from .common import digraph_class, number, op_text, walk

if TYPE_CHECKING:
    import graphviz

__all__ = ["COLOURS", "Box", "ClassOptions", "Scene", "Step", "heat_colour", "op_node", "render"]

COLOURS = {
    "parameter": "#cfe2f3",
    "input": "#eeeeee",
    "intermediate": "#ffffff",
    "output": "#fce5cd",
    "op": "#fff2cc",
    "grad": "#f4cccc",
}
"""The fill colours of the class style, by kind of box (``grad`` marks gradient rows)."""

_KEY = (
    ("parameter", "parameter (weights, bias)"),
    ("input", "input / constant"),
    ("op", "op"),
    ("intermediate", "value computed"),
    ("output", "output / loss"),
    ("grad", "grad: d output / d value"),
)
_SYMBOLS = {"mul": "×", "add": "+", "sub": "−", "div": "÷", "neg": "−", "matmul": "@", "pow": "**"}
_JOINS = ("reshape", "concatenate", "stack", "expand_dims")
_FONT = "13"  # points: 17 px at 96 dpi, legible from the back of a room


@dataclass(frozen=True)
class ClassOptions:
    """What ``draw_graph`` passes to the class style (it has checked every option).

    >>> ClassOptions().rankdir, ClassOptions().max_cells
    ('TB', 256)
    """

    rankdir: str = "TB"
    show_data: bool = True
    show_grad: bool = True
    max_elements: int = 4
    max_cells: int = 256
    precision: int = 4
    title: str | None = None
    max_nodes: int = 500
    max_neurons: int = 64


@dataclass
class Box:
    """One value in the picture: its title, kind (a key of ``COLOURS``), data and gradient.

    >>> Box("w", "parameter", np.array(0.5)).kind
    'parameter'
    """

    title: str
    kind: str
    data: np.ndarray | None
    grad: np.ndarray | None = None
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))


@dataclass
class Step:
    """One op in the picture: its text and the keys of its input boxes and of its result.

    >>> Step("+", ["a", "b"], "c").text
    '+'
    """

    text: str
    inputs: list[str]
    output: str


def heat_colour(v: float, scale: float) -> str:
    """The heat-map colour of ``v`` when ``scale`` is the largest magnitude: white at 0, blue
    for negative numbers, red for positive ones, grey for nan and infinities.

    >>> heat_colour(0.0, 1.0), heat_colour(1.0, 1.0), heat_colour(-1.0, 1.0)
    ('#ffffff', '#e07b6a', '#6baed6')
    """
    if not np.isfinite(v):
        return "#999999"
    t = 0.0 if scale == 0 else min(abs(v) / scale, 1.0)
    end = (0xE0, 0x7B, 0x6A) if v > 0 else (0x6B, 0xAE, 0xD6)
    return "#" + "".join(f"{round(255 + (c - 255) * t):02x}" for c in end)


class Scene:
    """The class-style picture of the graph behind ``roots``, before drawing.

    Every Value gets a key; ``key_of`` says which box draws it (merged inputs share one, a
    hidden join has none of its own). ``replace`` lets a zoom (``autonet.viz.scalars``) draw
    some Values its own way: it adds boxes, steps and clusters and says which box stands for
    each replaced Value, and ``elements`` for the scalars of a vector it drew element by element.

    >>> from autonet import Value
    >>> a = Value([1.0, 2.0], label="a")
    >>> scene = Scene([(a * 2).sum()], ClassOptions())
    >>> [step.text for step in scene.steps()]
    ['×', 'sum']
    """

    def __init__(self, roots: list[Value], options: ClassOptions) -> None:
        self.options = options
        self.order = walk(roots, None)
        self.roots = {id(r) for r in roots}
        self.keys = {id(v): f"v{i}" for i, v in enumerate(self.order)}
        self.consumers: dict[int, list[Value]] = {}
        for value in self.order:
            for parent in value.parents:
                self.consumers.setdefault(id(parent), []).append(value)
        self._same = self._merged_inputs()
        self._joins = {id(v) for v in self.order if self._is_join(v)}
        self.names = self._names()
        self.replaced: dict[int, str | None] = {}
        self.elements: dict[int, list[str]] = {}
        self.extra_boxes: dict[str, Box] = {}
        self.extra_steps: list[Step] = []
        self.clusters: list[tuple[str, list[str]]] = []
        self.layout_edges: list[tuple[str, str]] = []  # invisible: they only keep rows in order

    # ------------------------------------------------------------------ what is drawn where

    def _merged_inputs(self) -> dict[int, int]:
        """Unnamed constants (not scalars) with equal data, each to the first of them."""
        first: dict[tuple[Any, ...], int] = {}
        same: dict[int, int] = {}
        for value in self.order:
            if value.op is not None or value.requires_grad or value.label or not value.shape:
                continue
            data = np.asarray(value)
            key = (data.shape, data.dtype.str, data.tobytes())
            same[id(value)] = first.setdefault(key, id(value))
        return same

    def _is_join(self, value: Value) -> bool:
        """A reshape/concatenate that only puts module outputs (or other joins) together."""
        if value.op is None or value.op.name not in _JOINS or value.label or id(value) in self.roots:
            return False
        return all(p.scope or (p.op is not None and self._is_join(p)) for p in value.parents)

    def joined(self, value: Value) -> list[Value]:
        """The Values a hidden join puts together, in order (``[value]`` for anything else).

        >>> from autonet import Value
        >>> scene = Scene([Value(1.0)], ClassOptions())
        >>> len(scene.joined(Value(2.0)))
        1
        """
        if id(value) not in self._joins:
            return [value]
        return [inner for parent in value.parents for inner in self.joined(parent)]

    def _names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        taken: dict[str, int] = {}

        def give(value: Value, name: str) -> None:
            taken[name] = taken.get(name, 0) + 1
            names[id(value)] = name if taken[name] == 1 else f"{name} ({taken[name]})"

        for value in self.order:
            if value.label:
                names[id(value)] = value.label
            elif value.op is not None and value.scope:
                name = value.scope.partition(".")[2] or value.scope
                inner = any(u.scope == value.scope for u in self.consumers.get(id(value), ()))
                give(value, f"z_{name}" if inner else name)
            elif value.op is None and not value.requires_grad and self._is_target(value):
                give(value, "target")
            elif value.op is None and not value.requires_grad and self._same.get(id(value)) == id(value):
                give(value, "x")
        return names

    def _is_target(self, value: Value) -> bool:
        users = self.consumers.get(id(value), [])
        return any(u.op.cases.family == "loss" and u.parents[0] is not value for u in users)

    def key_of(self, value: Value) -> str:
        """The key of the box that draws ``value``.

        >>> from autonet import Value
        >>> x = Value(1.0)
        >>> Scene([x], ClassOptions()).key_of(x)
        'v0'
        """
        key = id(value)
        if key in self.replaced and self.replaced[key] is not None:
            return self.replaced[key]
        return self.keys[self._same.get(key, key)]

    def replace(self, values: Iterable[Value], by: str | None = None) -> None:
        """Draw ``values`` as the box ``by`` (or not at all, when nothing reads them any more)."""
        for value in values:
            self.replaced[id(value)] = by

    def title(self, value: Value) -> str:
        """The name ``value`` is drawn with (``""`` when it has none)."""
        return self.names.get(id(value), "")

    # ------------------------------------------------------------------ boxes and steps

    def _drawn(self, value: Value) -> bool:
        key = id(value)
        return key not in self.replaced and key not in self._joins and self._same.get(key, key) == key

    def box_of(self, value: Value) -> Box:
        """The box for one Value: its name, kind, data and gradient."""
        if id(value) in self.roots:
            kind = "output"
        elif value.op is not None:
            kind = "intermediate"
        else:
            kind = "parameter" if value.requires_grad else "input"
        return Box(self.title(value), kind, np.asarray(value), stored_gradient(value), value.dtype)

    def boxes(self) -> dict[str, Box]:
        """Every box to draw, by key."""
        found = {self.keys[id(v)]: self.box_of(v) for v in self.order if self._drawn(v)}
        return {**found, **self.extra_boxes}

    def steps(self) -> list[Step]:
        """Every op to draw, with the keys of its inputs (joins seen through) and result."""
        found = []
        for value in self.order:
            if value.op is None or not self._drawn(value):
                continue
            inputs = [self.key_of(inner) for p in value.parents for inner in self.joined(p)]
            text = _SYMBOLS.get(value.op.name) or op_text(value, self.options.precision)
            found.append(Step(text, inputs, self.keys[id(value)]))
        return found + self.extra_steps


# --------------------------------------------------------------------------- labels


def _cells(array: np.ndarray, options: ClassOptions, what: str) -> str:
    """An array as heat-map cells: numbers written in small ones, tooltips in bigger ones; a
    summary past ``max_cells`` elements or two axes."""
    array = np.asarray(array, dtype=np.float64)
    if array.size == 0:
        return "(empty)"
    if array.ndim == 0:
        return number(array, options.precision)
    rows = array.reshape(1, -1) if array.ndim == 1 else array
    if array.size > options.max_cells or rows.ndim > 2:
        return html.escape(
            f"min {number(array.min(), options.precision)}  mean {number(array.mean(), options.precision)}  "
            f"max {number(array.max(), options.precision)}"
        )
    finite = np.abs(array[np.isfinite(array)])
    scale = float(finite.max()) if finite.size else 0.0
    written = array.size <= options.max_elements
    lines = []
    for i, row in enumerate(rows):
        cells = []
        for j, v in enumerate(row):
            index = f"[{j}]" if array.ndim == 1 else f"[{i}, {j}]"
            text = number(v, options.precision)
            colour = heat_colour(float(v), scale)
            if written:
                cells.append(f'<TD BGCOLOR="{colour}">{text}</TD>')
            else:
                tip = html.escape(f"{what}{index} = {text}", quote=True)
                cells.append(
                    f'<TD BGCOLOR="{colour}" WIDTH="8" HEIGHT="8" FIXEDSIZE="TRUE" '
                    f'HREF="#" TOOLTIP="{tip}"></TD>'
                )
        lines.append("<TR>" + "".join(cells) + "</TR>")
    if written:
        table = 'CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" COLOR="#bbbbbb"'
    else:  # tiny cells without borders, parted by the table's grey showing through: half the SVG
        table = 'CELLBORDER="0" CELLSPACING="1" CELLPADDING="0" BGCOLOR="#cccccc"'
    return f'<TABLE BORDER="0" {table}>{"".join(lines)}</TABLE>'


def _box_label(box: Box, options: ClassOptions) -> str:
    rows = []
    if box.title:
        rows.append(f'<TR><TD COLSPAN="2"><B>{html.escape(box.title)}</B></TD></TR>')
    shape = () if box.data is None else box.data.shape
    about = []
    if shape:
        about.append("shape " + "×".join(str(n) for n in shape))
    if box.dtype != np.float64:
        about.append(str(box.dtype))
    if about:
        rows.append(f'<TR><TD COLSPAN="2"><FONT COLOR="#555555">{" ".join(about)}</FONT></TD></TR>')
    name = box.title or "value"
    if options.show_data and box.data is not None:
        rows.append(f'<TR><TD ALIGN="RIGHT">data</TD><TD>{_cells(box.data, options, name)}</TD></TR>')
    if options.show_grad and box.grad is not None:
        cells = _cells(box.grad, options, f"grad {name}")
        rows.append(f'<TR><TD ALIGN="RIGHT" BGCOLOR="{COLOURS["grad"]}">grad</TD><TD>{cells}</TD></TR>')
    if not rows:
        rows.append("<TR><TD> </TD></TR>")
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{"".join(rows)}</TABLE>>'


def _key_label() -> str:
    rows = ['<TR><TD COLSPAN="2"><B>colour key</B></TD></TR>']
    for kind, text in _KEY:
        rows.append(
            f'<TR><TD BGCOLOR="{COLOURS[kind]}" WIDTH="18" BORDER="1"> </TD><TD ALIGN="LEFT">{text}</TD></TR>'
        )
    heat = "".join(
        f'<TD BGCOLOR="{heat_colour(v, 1.0)}" WIDTH="9" BORDER="1"> </TD>' for v in (-1, -0.5, 0, 0.5, 1)
    )
    rows.append(
        f'<TR><TD><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>{heat}</TR></TABLE></TD>'
        '<TD ALIGN="LEFT">cells: − 0 + (hover for values)</TD></TR>'
    )
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{"".join(rows)}</TABLE>>'


# --------------------------------------------------------------------------- drawing


def render(scene: Scene) -> graphviz.Digraph:
    """The scene as a ``graphviz.Digraph``: boxes, op ellipses, neuron clusters and the colour key.

    >>> from autonet import Value
    >>> graph = render(Scene([Value(2.0, label="x") * 3], ClassOptions()))
    >>> "colour key" in graph.source
    True
    """
    options = scene.options
    steps = scene.steps()
    used = {key for step in steps for key in (*step.inputs, step.output)}
    # A box nothing reads any more (a vector a zoom drew element by element) is left out.
    boxes = {key: box for key, box in scene.boxes().items() if key in used or box.kind == "output"}
    if len(boxes) + len(steps) > options.max_nodes:
        raise ValueError(
            f"draw_graph: the class-style picture has {len(boxes) + len(steps)} nodes, over the limit "
            f"max_nodes={options.max_nodes}; draw a smaller part or a smaller network, leave expand=None "
            "(one box per layer), or raise max_nodes"
        )
    graph = digraph_class()(name="autonet", comment="drawn by autonet.viz.draw_graph (class style)")
    graph.attr(rankdir=options.rankdir, fontname="Helvetica", nodesep="0.2", ranksep="0.3")
    if options.title:
        graph.attr(label=options.title, labelloc="t", fontsize="16")
    graph.attr("node", fontname="Helvetica", fontsize=_FONT, margin="0.04,0.02")
    graph.attr("edge", arrowsize="0.6", color="#555555")
    ops = {op_node(step): step for step in steps}
    clustered = {key for _, keys in scene.clusters for key in keys}
    for index, (label, keys) in enumerate(scene.clusters):
        with graph.subgraph(name=f"cluster_{index}") as cluster:
            cluster.attr(label=label, style="rounded,dashed", color="#999999", fontsize=_FONT)
            for key in keys:
                _node(cluster, key, boxes, ops, options)
    for key in [*boxes, *ops]:
        if key not in clustered:
            _node(graph, key, boxes, ops, options)
    for name, step in ops.items():
        for tail in step.inputs:
            graph.edge(tail, name)
        graph.edge(name, step.output)
    for tail, head in scene.layout_edges:
        graph.edge(tail, head, style="invis")
    with graph.subgraph(name="key") as key:
        key.attr(rank="max")
        key.node("colour_key", _key_label(), shape="box", style="rounded", color="#999999", fontsize="11")
    return graph


def op_node(step: Step) -> str:
    """The name of the node that draws ``step`` (its result's key, prefixed).

    >>> op_node(Step("+", ["a", "b"], "v3"))
    'op_v3'
    """
    return f"op_{step.output}"


def _node(graph: Any, key: str, boxes: dict[str, Box], ops: dict[str, Step], options: ClassOptions) -> None:
    """Draw the box or the op called ``key``."""
    if key in ops:
        graph.node(
            key,
            ops[key].text,
            shape="ellipse",
            style="filled",
            fillcolor=COLOURS["op"],
            margin="0.02,0.01",
            **{"class": "op"},
        )
        return
    box = boxes[key]
    graph.node(
        key,
        _box_label(box, options),
        shape="box",
        style="rounded,filled",
        fillcolor=COLOURS[box.kind],
        penwidth="2" if box.kind == "output" else "1",
        **{"class": f"value {box.kind}"},
    )
