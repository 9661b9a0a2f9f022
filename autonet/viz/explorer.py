"""The backprop explorer: one self-contained HTML page that replays a graph's forward pass and then
its backward pass, node by node (``autonet.viz.explore``).

``explore(root)`` draws the graph with ``draw_graph`` *before* any backward (a plain backward
releases the graph), then runs ``backward_steps`` and records each step, checks every leaf's
gradient by central differences on the recorded forward, and writes it all into one HTML file:
the Graphviz SVG inline, the steps as JSON, a small script and its style. Nothing is fetched
when the page is viewed. In Jupyter the returned ``Explorer`` shows the page inline.

The page reads ``#step=N`` (and ``sample=I``, ``node=K``) from its address, and marks its
``<body>`` with ``data-ready``, ``data-step`` and ``data-errors`` once its script ran, which is
what the browser test reads.

>>> from autonet import Value
>>> from autonet.viz import explore
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> page = explore((a * b).tanh())
>>> page.steps, "<svg" in page.html, a.grad.round(4).item()
(6, True, -0.0)
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._state import no_grad
from ..engine import Value, run_op, stored_gradient
from ..gradcheck import numerical_grad
from ..steps import backward_steps
from ..vjp import edge_work
from .explorer_page import PAGE

__all__ = ["Explorer", "explore"]

_MAX_SHOWN = 400  # elements of an array written out in full; larger ones are summarised
_MAX_CHECKED = 2_000  # leaf elements checked by central differences (two forwards each)
_MAX_SAMPLES = 64  # batch sizes up to which each sample's part of a parameter's gradient is shown


class Explorer:
    """A backprop explorer page made by ``explore``: ``html`` is the whole page, ``save(path)``
    writes it, and Jupyter shows it inline (``_repr_html_``, in an iframe so its script runs).

    >>> from autonet import Value
    >>> from autonet.viz import explore
    >>> page = explore(Value(3.0, label="x") ** 2)
    >>> page.html.startswith("<!DOCTYPE html>"), page.steps
    (True, 3)
    """

    def __init__(self, html_text: str, forward: int, backward: int) -> None:
        self.html = html_text
        self.forward = forward  # the page's timeline: the ops of the forward pass,
        self.backward = backward  # then the nodes of the backward pass

    @property
    def steps(self) -> int:
        """How many steps the page replays: forward ones, then backward ones."""
        return self.forward + self.backward

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path.

        >>> import os, tempfile
        >>> from autonet import Value
        >>> from autonet.viz import explore
        >>> path = explore(Value(2.0) * 3.0).save(os.path.join(tempfile.mkdtemp(), "p.html"))
        >>> path.read_text().count("<svg")
        1
        """
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:640px;border:1px solid #ccc" sandbox="allow-scripts"></iframe>'
        )

    def __repr__(self) -> str:
        return f"Explorer({self.steps} steps, {len(self.html)} characters)"


# --------------------------------------------------------------------------- the graph


def _forward_order(root: Value) -> list[Value]:
    """Every Value behind ``root``, inputs before the Values made from them (an explicit stack)."""
    order: list[Value] = []
    seen = {id(root)}
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        value, expanded = stack.pop()
        if expanded:
            order.append(value)
            continue
        if value.graph_released:
            raise RuntimeError(
                "explore: the graph was released by backward(); build it again and pass it to explore "
                "before any backward (explore draws it, then runs the backward itself)"
            )
        stack.append((value, True))
        for parent in reversed(value.parents):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, False))
    return order


def _replay(order: list[Value], leaves: list[Value], arrays: tuple[Any, ...]) -> Value:
    """The recorded forward run again with ``arrays`` in place of ``leaves``' data."""
    swapped = {
        id(leaf): Value(np.asarray(a), requires_grad=False) for leaf, a in zip(leaves, arrays, strict=True)
    }
    made: dict[int, Value] = {}
    with no_grad():
        for value in order:
            if value.op is None:
                made[id(value)] = swapped.get(id(value), value)
            else:
                inputs = tuple(made[id(p)] for p in value.parents)
                made[id(value)] = run_op(value.op, inputs, value.params or None)
    return made[id(order[-1])]


def _checked_leaves(order: list[Value], seed: np.ndarray) -> dict[int, np.ndarray]:
    """Central differences of ``sum(root * seed)`` for each leaf that requires grad (while the
    leaves hold no more than ``_MAX_CHECKED`` elements together), by position in ``order``."""
    positions = [i for i, v in enumerate(order) if v.op is None and v.requires_grad]
    leaves = [order[i] for i in positions]
    if not leaves or sum(v.size for v in leaves) > _MAX_CHECKED:
        return {}
    weights = Value(seed, requires_grad=False)

    def objective(*xs: Any) -> Value:
        return (_replay(order, leaves, tuple(np.asarray(x) for x in xs)) * weights).sum()

    with np.errstate(all="ignore"):
        found = numerical_grad(objective, *[np.array(v.data) for v in leaves], allow_float32=True)
    return dict(zip(positions, found, strict=True))


# --------------------------------------------------------------------------- the data the page shows


def _number(x: float) -> float | str:
    if not np.isfinite(x):
        return str(x)  # "inf", "-inf" or "nan": JSON has no spelling for them
    return float(f"{x:.6g}")


def _array(x: Any) -> dict[str, Any] | None:
    """An array as the page reads it: its shape and its values, or a summary of a large one."""
    if x is None:
        return None
    a = np.asarray(x, dtype=np.float64)
    if a.size > _MAX_SHOWN:
        finite = a[np.isfinite(a)]
        stats = [finite.min(), finite.mean(), finite.max()] if finite.size else [np.nan] * 3
        return {"shape": list(a.shape), "summary": [_number(s) for s in stats]}
    return {"shape": list(a.shape), "values": [_number(v) for v in a.ravel()]}


def _batch(order: list[Value]) -> tuple[int | None, set[int]]:
    """The batch size (the rows of the 2-d inputs that need no gradient, when there are several)
    and the positions of the Values that carry it: those made from a batch input whose first axis
    is that size. A Value of a model whose samples do not mix holds sample i in its row i."""
    rows = {v.shape[0] for v in order if v.op is None and not v.requires_grad and v.ndim == 2}
    if len(rows) != 1 or (n := rows.pop()) < 2:
        return None, set()
    carries: set[int] = set()
    for v in order:
        from_batch = v.op is None and not v.requires_grad and v.ndim == 2
        if from_batch or any(id(p) in carries for p in v.parents):
            carries.add(id(v))
    return n, {i for i, v in enumerate(order) if id(v) in carries and v.ndim and v.shape[0] == n}


def _node(value: Value, index: int, position: dict[int, int]) -> dict[str, Any]:
    """What the page shows of one Value before the backward: its name, op, inputs and data."""
    if value.op is not None:
        kind = "result"
    elif value.requires_grad:
        kind = "parameter" if value.label else "leaf"
    else:
        kind = "constant"
    op = value.op.name if value.op is not None else None
    return {
        "name": value.label or f"{op or 'value'} #{index}",
        "labelled": bool(value.label),
        "op": op,
        "kind": kind,
        "shape": list(value.shape),
        "data": _array(np.asarray(value)),
        "inputs": [position[id(p)] for p in value.parents],
    }


def _per_sample(step: Any, index: int, n: int) -> list[Any]:
    """Sample by sample, what a node that carries the batch sends to an input that does not (a
    parameter, whose gradient sums the samples): the vjp of the upstream's row i alone. The vjp
    is linear in the upstream, so the rows' parts add up to the contribution."""
    edge = edge_work(False, False)
    parts = []
    for i in range(n):
        masked = np.zeros_like(np.asarray(step.upstream))
        masked[i] = step.upstream[i]
        parts.append(_array(edge(step.value.record, step.value, index, masked)))
    return parts


def _backward(root: Value, gradient: Any, position: dict[int, int], n: int | None, carries: set[int]) -> list:
    """Run the backward through ``backward_steps`` and record each step for the page."""
    recorded = []
    for step in backward_steps(root, gradient):
        me = position[id(step.value)]
        inputs = []
        for index, entry in enumerate(step.inputs):
            product = None if entry.local is None else np.asarray(step.upstream) * entry.local
            sent = {
                "node": position[id(entry.value)],
                "local": _array(entry.local),
                "product": _array(product),
                "contribution": _array(entry.contribution),
            }
            summed = me in carries and sent["node"] not in carries  # the batch is summed here
            if n and n <= _MAX_SAMPLES and summed and entry.contribution is not None:
                sent["samples"] = _per_sample(step, index, n)
            inputs.append(sent)
        recorded.append({"node": me, "upstream": _array(step.upstream), "inputs": inputs})
    return recorded


# --------------------------------------------------------------------------- the page


def _svg(root: Value, order: list[Value], title: str | None, max_nodes: int) -> str:
    """The graph drawn by Graphviz as inline SVG, each Value's node with the id ``n<position>``."""
    from . import draw_graph  # the package imports this module before it defines draw_graph

    ids = {value: f"n{i}" for i, value in enumerate(order)}
    # Top to bottom: the page gives the drawing about 60% of its width, and a chain of ops drawn
    # left to right would shrink its text to a few pixels there.
    graph = draw_graph(root, show_grad=False, title=title, max_nodes=max_nodes, node_ids=ids, rankdir="TB")
    svg = graph.pipe(format="svg").decode("utf-8")
    return svg[svg.index("<svg") :]  # no XML declaration or doctype inside an HTML page


def explore(
    root: Value,
    path: str | os.PathLike[str] | None = None,
    *,
    gradient: Any = None,
    title: str | None = None,
    max_nodes: int = 300,
) -> Explorer:
    """Draw the graph behind ``root``, run its backward step by step, and make the explorer page.

    The page replays the forward pass (each op's result) and then the backward pass (each node's
    upstream gradient, and per input the local derivative, their product and the contribution
    sent, as ``backward_steps`` gives them) with Next / Previous / Play and the arrow keys,
    highlighting the current node. Clicking a node shows its chain-rule sum: the contributions
    of its consumers adding up to its gradient, and for a leaf the central-difference check
    beside it. When the graph has 2-d inputs that need no gradient (a batch of samples), the
    page picks one sample to trace: the rows of that sample, and each sample's part of a
    parameter's gradient.

    Call it before any backward: it runs the backward itself (afterwards ``.grad`` holds the
    gradients, and the graph is released, as after ``root.backward(gradient)``). ``path``
    writes the page there too. Returns an ``Explorer`` (``.html``, ``.save(path)``, shown inline
    by Jupyter). Raises ``RuntimeError`` for a released graph or a root that needs no gradient,
    ``GraphvizNotFoundError`` without Graphviz, and what ``backward`` raises.

    >>> from autonet import Value
    >>> x = Value([1.0, -2.0], label="x")
    >>> page = explore((x * x).sum())
    >>> page.steps, x.grad.tolist()
    (5, [2.0, -4.0])
    """
    if not isinstance(root, Value):
        raise TypeError(f"explore: expected a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError("explore: this Value does not require grad, so it has no backward to show")
    order = _forward_order(root)
    position = {id(v): i for i, v in enumerate(order)}
    svg = _svg(root, order, title, max_nodes)
    seed = np.ones(root.shape) if gradient is None else np.asarray(gradient, dtype=np.float64)
    checks = _checked_leaves(order, seed)
    n, carries = _batch(order)
    nodes = [_node(v, i, position) for i, v in enumerate(order)]
    backward = _backward(root, gradient, position, n, carries)
    for i, value in enumerate(order):
        nodes[i]["grad"] = _array(stored_gradient(value))
        nodes[i]["numeric"] = _array(checks.get(i))
        nodes[i]["batched"] = i in carries
    data = {
        "title": title or "",
        "nodes": nodes,
        "forward": [i for i, v in enumerate(order) if v.op is not None],
        "backward": backward,
        "batch": n,
    }
    page = Explorer(_html(svg, data), len(data["forward"]), len(backward))
    if path is not None:
        page.save(path)
    return page


def _html(svg: str, data: dict[str, Any]) -> str:
    # "</" inside the JSON would end its <script> element early.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(data["title"] or "autonet backprop explorer")
    parts = {"TITLE": title, "SVG": svg, "DATA": payload}
    return re.sub(r"\{\{(TITLE|SVG|DATA)\}\}", lambda m: parts[m.group(1)], PAGE)  # one pass
