"""The class style of draw_graph (style="class") and its scalar zoom (expand="scalars"): pictures
of the classic 2-2-1 network and of a 2-16-16-1 MLP that fit a 1280 px slide without shrinking
the text, names taken from the modules, one box per input, heat-map cells, a colour key, and
neuron-by-neuron views whose numbers are the recorded data and gradients."""

from __future__ import annotations

import html
import importlib.util
import re
import struct
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from autonet import Value, nn
from autonet.viz import draw_graph, notebook_bundle, save_graph

SLIDE_PX = 1280
MIN_FONT_PX = 14
PX_PER_PT = 96 / 72  # dot -Tpng draws at 96 dpi; Graphviz sizes text and SVG in points


class TwoTwoOne(nn.Module):
    """The tutorial's network: hidden neurons h1, h2 and output neuron o1, as it builds it."""

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.h1 = nn.Neuron(w[0:2], b[0])
        self.h2 = nn.Neuron(w[2:4], b[1])
        self.o1 = nn.Neuron(w[4:6], b[2])

    def forward(self, x: np.ndarray) -> Value:
        return self.o1([self.h1(x), self.h2(x)])


def tutorial_loss(backward: bool = True) -> tuple[TwoTwoOne, Value]:
    network = TwoTwoOne(np.array([0.5, -1.0, 1.5, 0.25, -0.75, 2.0]), np.array([0.1, -0.2, 0.3]))
    loss = nn.mse_loss(network(np.array([-2.0, -1.0])), 1.0)
    loss.label = "loss"
    if backward:
        loss.backward(retain_graph=True)
    return network, loss


def mlp_loss(sizes: list[int], dtype=np.float64, rows: int = 1) -> tuple[nn.MLP, Value]:
    model = nn.MLP(2, sizes, activation="sigmoid", output_activation="sigmoid", rng=0, dtype=dtype)
    x = np.tile(np.array([[0.2, 0.5]], dtype=dtype), (rows, 1))
    loss = nn.mse_loss(model(x), np.ones((rows, sizes[-1]), dtype=dtype))
    loss.label = "loss"
    loss.backward(retain_graph=True)
    return model, loss


# --------------------------------------------------------------------------- reading the picture


@dataclass
class Node:
    name: str
    label: str  # the HTML label's text, tags removed
    title: str  # the bold first line of a box ("" for ops and unnamed boxes)
    kind: set[str]
    cluster: str | None
    tooltips: list[str] = field(default_factory=list)

    def row(self, name: str) -> str:
        """The text of the ``data`` or ``grad`` row."""
        match = re.search(rf"\b{name} (\S+)", self.label)
        assert match, f"{self.name} has no {name} row: {self.label!r}"
        return match[1]


def nodes_of(graph) -> dict[str, Node]:
    found: dict[str, Node] = {}
    cluster = None
    for line in graph.body:
        line = line.strip()
        if line.startswith("subgraph cluster_"):
            cluster = ""
            continue
        if cluster == "" and (named := re.search(r'\blabel=("[^"]*"|\S+)', line)):
            cluster = named[1].strip('"')
            continue
        if line == "}":
            cluster = None
            continue
        match = re.match(r'^(\w+) \[label=(<.*>|"[^"]*"|\S+)(.*)\]$', line)
        if not match or match[1] in ("graph", "node", "edge"):
            continue
        label = match[2]
        title = re.search(r"<B>(.*?)</B>", label)
        tooltips = [html.unescape(t) for t in re.findall(r'TOOLTIP="([^"]*)"', label)]
        text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", label.strip('<>"')))).strip()
        kind = re.search(r'class=("[^"]*"|\S+)', match[3])
        found[match[1]] = Node(
            match[1],
            text,
            html.unescape(title[1]) if title else "",
            set(kind[1].strip('"').split()) if kind else set(),
            cluster or None,
            tooltips,
        )
    return found


def titled(graph, title: str) -> list[Node]:
    return [n for n in nodes_of(graph).values() if n.title == title]


def png_width(graph) -> int:
    rendered = subprocess.run(["dot", "-Tpng"], input=graph.source.encode(), capture_output=True, check=True)
    png = rendered.stdout
    return struct.unpack(">I", png[16:20])[0]


def svg_font_sizes_px(graph) -> list[float]:
    svg = ET.fromstring(graph.pipe(format="svg"))
    transform = next(svg.iter("{http://www.w3.org/2000/svg}g")).get("transform", "")
    assert "scale(1 1)" in transform, f"the picture is scaled: {transform}"  # no shrinking to fit
    return [float(t.get("font-size")) * PX_PER_PT for t in svg.iter("{http://www.w3.org/2000/svg}text")]


# --------------------------------------------------------------------------- fitting a slide


@pytest.mark.parametrize("build", ["tutorial", "mlp 2-2-1", "mlp 2-16-16-1"])
def test_class_pictures_fit_a_1280_px_slide_with_legible_text(build: str) -> None:
    if build == "tutorial":
        loss = tutorial_loss()[1]
    else:
        loss = mlp_loss([2, 1] if build == "mlp 2-2-1" else [16, 16, 1])[1]
    default, picture = draw_graph(loss), draw_graph(loss, style="class")
    assert png_width(default) > SLIDE_PX  # left to right, the default picture does not fit
    assert png_width(picture) <= SLIDE_PX
    assert min(svg_font_sizes_px(picture)) >= MIN_FONT_PX


def test_the_scalar_zoom_of_the_221_network_fits_a_slide_too() -> None:
    for loss in (tutorial_loss()[1], mlp_loss([2, 1])[1]):
        picture = draw_graph(loss, style="class", expand="scalars")
        assert png_width(picture) <= SLIDE_PX
        assert min(svg_font_sizes_px(picture)) >= MIN_FONT_PX


# --------------------------------------------------------------------------- names, inputs, joins


def test_module_outputs_inputs_and_targets_are_named_and_the_shared_input_is_drawn_once() -> None:
    _, loss = tutorial_loss()
    picture = draw_graph(loss, style="class")
    titles = [n.title for n in nodes_of(picture).values() if n.title]
    for name in ("h1", "h2", "o1", "x", "target", "loss", "h1.weights", "h1.bias", "o1.weights"):
        assert titles.count(name) == 1, (name, titles)
    # The default picture draws the tutorial's input twice, once per hidden neuron.
    assert draw_graph(loss).source.count("shape (2,) float64|data [-2, -1]") == 2
    (x,) = titled(picture, "x")
    assert x.kind == {"value", "input"} and "-2" in x.label and "-1" in x.label


def test_joins_of_neuron_outputs_are_not_drawn_and_the_outputs_feed_the_next_neuron() -> None:
    _, loss = tutorial_loss()
    picture = draw_graph(loss, style="class")
    ops = [n.label for n in nodes_of(picture).values() if "op" in n.kind]
    assert not [op for op in ops if op.startswith(("reshape", "concatenate"))]
    assert "concatenate(axis=0)" in draw_graph(loss).source
    (h1,), (o1_weights,) = titled(picture, "h1"), titled(picture, "o1.weights")
    edges = re.findall(r"^\s*(\w+) -> (\w+)", picture.source, re.M)
    into = {head for tail, head in edges if tail == h1.name}
    assert into == {head for tail, head in edges if tail == o1_weights.name}  # the same matmul


def test_a_mlp_names_its_layers_and_their_pre_activations() -> None:
    _, loss = mlp_loss([16, 16, 1])
    titles = {n.title for n in nodes_of(draw_graph(loss, style="class")).values()}
    assert {"layers.0", "z_layers.0", "layers.1", "layers.2", "layers.0.w", "layers.2.b"} <= titles


def test_a_user_label_wins_over_the_automatic_name() -> None:
    network = TwoTwoOne(np.ones(6), np.zeros(3))
    out = network(np.array([1.0, 2.0]))
    out.label = "prediction"
    titles = {n.title for n in nodes_of(draw_graph(out, style="class")).values()}
    assert "prediction" in titles and "o1" not in titles


def test_no_dtype_row_for_float64_but_other_dtypes_are_named() -> None:
    _, loss = tutorial_loss()
    assert "float64" not in draw_graph(loss, style="class").source
    assert "scalar" not in draw_graph(loss, style="class").source
    _, loss32 = mlp_loss([2, 1], dtype=np.float32)
    assert "float32" in draw_graph(loss32, style="class").source


def test_the_picture_has_a_colour_key_for_each_kind_it_draws() -> None:
    _, loss = tutorial_loss()
    nodes = nodes_of(draw_graph(loss, style="class"))
    key = nodes["colour_key"].label
    for words in ("parameter", "input / constant", "op", "output / loss", "grad"):
        assert words in key
    kinds = {kind for n in nodes.values() for kind in n.kind}
    assert {"parameter", "input", "intermediate", "output", "op"} <= kinds


# --------------------------------------------------------------------------- heat maps


def test_small_matrices_are_heat_map_cells_with_their_values_and_big_ones_a_summary() -> None:
    w = Value(np.arange(12.0).reshape(3, 4) - 5, label="w")
    big = Value(np.linspace(-1, 1, 300), label="big")
    y = (Value(np.ones((2, 3)), requires_grad=False) @ w).sum() + big.sum()
    y.backward(retain_graph=True)
    picture = draw_graph(y, style="class")
    (box,) = titled(picture, "w")
    data_tips = [t for t in box.tooltips if t.startswith("w[")]
    grad_tips = [t for t in box.tooltips if t.startswith("grad w[")]
    assert len(data_tips) == len(grad_tips) == 12
    assert "w[1, 2] = 1" in data_tips and "grad w[1, 2] = 2" in grad_tips
    cells = re.findall(r'BGCOLOR="(#[0-9a-f]{6})"[^>]*TOOLTIP="w\[', picture.source)
    assert len(set(cells)) > 3  # coloured by value, not all alike
    (summary,) = titled(picture, "big")
    assert "min -1" in summary.label and "max 1" in summary.label and not summary.tooltips
    few = titled(draw_graph(y, style="class", max_cells=8), "w")[0]
    assert not few.tooltips and "mean" in few.label


def test_up_to_max_elements_the_numbers_are_written_in_the_cells() -> None:
    x = Value([0.5, -0.25], label="x")
    picture = draw_graph((x * 2).sum(), style="class")
    (box,) = titled(picture, "x")
    assert "0.5" in box.label and "-0.25" in box.label and not box.tooltips


# --------------------------------------------------------------------------- the scalar zoom


def test_the_scalar_zoom_draws_each_neuron_with_its_weights_inputs_bias_and_activation() -> None:
    network, loss = tutorial_loss()
    nodes = nodes_of(draw_graph(loss, style="class", expand="scalars"))
    clusters = {n.cluster for n in nodes.values() if n.cluster}
    assert clusters == {"h1", "h2", "o1"}
    for neuron in ("h1", "h2", "o1"):
        members = [n for n in nodes.values() if n.cluster == neuron]
        module = getattr(network, neuron)
        for i in range(2):
            (w,) = [n for n in members if n.title == f"weights[{i}]"]
            assert float(w.row("data")) == pytest.approx(module.weights.data[i], rel=1e-3)
            assert float(w.row("grad")) == pytest.approx(module.weights.grad[i], rel=1e-3)
        (bias,) = [n for n in members if n.title == "bias"]
        assert float(bias.row("grad")) == pytest.approx(float(module.bias.grad), rel=1e-3)
        ops = sorted(n.label for n in members if "op" in n.kind)
        assert ops == ["+", "sigmoid", "×", "×"]
    (x0,) = [n for n in nodes.values() if n.title == "x[0]"]
    assert x0.row("data") == "-2" and x0.cluster is None


def test_the_scalar_zoom_of_a_layer_slices_its_matrix_and_gradients() -> None:
    model, loss = mlp_loss([2, 1])
    nodes = nodes_of(draw_graph(loss, style="class", expand="scalars"))
    assert {n.cluster for n in nodes.values() if n.cluster} == {"layers.0[0]", "layers.0[1]", "layers.1"}
    w, b = model.layers[0].w, model.layers[0].b
    for j in range(2):
        members = [n for n in nodes.values() if n.cluster == f"layers.0[{j}]"]
        for i in range(2):
            (box,) = [n for n in members if n.title == f"w[{i}, {j}]"]
            assert float(box.row("grad")) == pytest.approx(w.grad[i, j], rel=1e-3)
        (bias,) = [n for n in members if n.title == f"b[{j}]"]
        assert float(bias.row("grad")) == pytest.approx(b.grad[j], rel=1e-3)
        (out,) = [n for n in members if n.title == f"layers.0[{j}]"]
        hidden = model.layers[0]([0.2, 0.5]).data[j]
        assert float(out.row("data")) == pytest.approx(hidden, rel=1e-3)


def test_the_scalar_zoom_works_before_backward_without_gradients() -> None:
    _, loss = tutorial_loss(backward=False)
    source = draw_graph(loss, style="class", expand="scalars").source
    assert "weights[1]" in source and ">grad<" not in source


def test_the_scalar_zoom_refuses_a_batch_too_many_neurons_and_a_graph_without_layers() -> None:
    _, batch = mlp_loss([2, 1], rows=5)
    with pytest.raises(ValueError, match=r"expand='scalars' draws one sample.*batch of shape \(5, 2\)"):
        draw_graph(batch, style="class", expand="scalars")
    _, wide = mlp_loss([64, 1])
    with pytest.raises(ValueError, match=r"at most 64 neurons.*65 \(layers\.0: 64, layers\.1: 1\)"):
        draw_graph(wide, style="class", expand="scalars")
    with pytest.raises(ValueError, match="found no layer"):
        draw_graph(Value(2.0, label="a") * 3, style="class", expand="scalars")


# --------------------------------------------------------------------------- options and other paths


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "fancy"}, "style must be 'default' or 'class'"),
        ({"style": "class", "expand": "vectors"}, "expand must be None or 'scalars'"),
        ({"expand": "scalars"}, "pass style='class' too"),
        ({"style": "class", "collapse": "modules"}, "collapse='modules' works in the default style only"),
        ({"style": "class", "max_cells": -1}, "max_cells must be an int >= 0"),
        ({"style": "class", "rankdir": "UP"}, "rankdir must be"),
    ],
)
def test_bad_class_options_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        draw_graph(Value(1.0) * 2, **kwargs)


def test_save_graph_and_jupyter_take_the_class_style(tmp_path) -> None:
    _, loss = tutorial_loss()
    path = save_graph(loss, tmp_path / "class.png", style="class", expand="scalars")
    assert path.read_bytes().startswith(b"\x89PNG")
    bundle = notebook_bundle(loss, style="class")
    assert "colour key" in bundle["image/svg+xml"] and bundle["text/plain"].startswith("Value(")
    assert "colour key" not in notebook_bundle(loss)["image/svg+xml"]  # the defaults are unchanged
    with pytest.raises(ValueError, match="style must be"):
        notebook_bundle(loss, style="slides")
    with pytest.raises(TypeError, match="colour"):
        notebook_bundle(loss, colour=True)


def test_a_class_picture_too_big_for_max_nodes_says_what_to_do() -> None:
    _, loss = mlp_loss([16, 16, 1])
    with pytest.raises(ValueError, match=r"max_nodes=500; .*leave expand=None"):
        draw_graph(loss, style="class", expand="scalars")


def test_the_class_pictures_in_the_docs_are_up_to_date(tmp_path) -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    spec = importlib.util.spec_from_file_location("make_class_pictures", docs / "make_class_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.make_pictures(tmp_path)
    committed = docs / "img" / "class"
    assert {p.name for p in fresh} == {p.name for p in committed.glob("*.svg")}
    for path in fresh:
        texts = [t.text for t in ET.parse(path).getroot().iter("{http://www.w3.org/2000/svg}text")]
        shown = [
            t.text for t in ET.parse(committed / path.name).getroot().iter("{http://www.w3.org/2000/svg}text")
        ]
        assert shown == texts, f"docs/img/class/{path.name} is stale: run python docs/make_class_pictures.py"
