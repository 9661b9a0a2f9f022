"""Drawing graphs: the DOT source follows the recorded graph exactly, labels carry shapes, data and
gradients, the real ``dot`` program renders valid SVG/PNG/PDF, and the limits and errors are clear."""

from __future__ import annotations

import importlib.util
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autonet
from autonet import Value, nn
from autonet.engine import stored_gradient
from autonet.viz import GraphvizNotFoundError, draw_graph, notebook_bundle, save_graph

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- reading DOT back


@dataclass
class Dot:
    nodes: dict[str, dict[str, str]]
    edges: list[tuple[str, str]]

    def labelled(self, text: str) -> list[str]:
        """Names of the nodes whose first label field is ``text`` (after undoing record escapes)."""
        return [name for name in self.nodes if self.fields(name)[0] == text]

    def kind(self, name: str) -> set[str]:
        return set(self.nodes[name].get("class", "").split())

    def fields(self, name: str) -> list[str]:
        label = self.nodes[name]["label"].strip("{}")
        return [unescape(f) for f in re.split(r"(?<!\\)\|", label)]


ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')


def parse(graph) -> Dot:
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for line in graph.body:
        line = line.strip()
        edge = re.fullmatch(r"(\w+) -> (\w+)", line)
        if edge:
            edges.append((edge[1], edge[2]))
            continue
        node = re.fullmatch(r"(\w+) \[(.*)\]", line)
        if node and node[1] not in ("graph", "node", "edge"):
            attrs = {k: v[1:-1] if v.startswith('"') else v for k, v in ATTR.findall(node[2])}
            nodes[node[1]] = attrs
    return Dot(nodes, edges)


def unescape(text: str) -> str:
    """Undo the DOT string escape of quotes and the record escapes, turning \\l line ends into newlines."""
    text = re.sub(r"\\l", "\n", text)
    return re.sub(r"\\(.)", r"\1", text)


def values_and_ops(roots: list[Value]) -> tuple[dict[int, Value], int, int]:
    """Every Value behind ``roots`` (by id), the number of ops and the number of op inputs."""
    seen: dict[int, Value] = {}
    stack = list(roots)
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen[id(v)] = v
        stack.extend(v.parents)
    ops = sum(1 for v in seen.values() if v.op is not None)
    inputs = sum(len(v.parents) for v in seen.values())
    return seen, ops, inputs


def micrograd_example() -> tuple[Value, ...]:
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    out = (a * b + c).tanh()
    out.label = "out"
    return a, b, c, out


def network_221(x: list[float], y: float) -> tuple[Value, dict[str, Value]]:
    """The 2-2-1 sigmoid network of the classic tutorial as an nn.MLP, with its squared error."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=1)
    loss = nn.mse_loss(model(np.array([x])), [[y]])
    loss.label = "loss"
    return loss, dict(model.named_parameters())


class ClassicNetwork(nn.Module):
    """The tutorial's network as three neurons h1, h2 and o1."""

    def __init__(self) -> None:
        self.h1 = nn.Neuron(np.array([0.0, 1.0]), 0.0)
        self.h2 = nn.Neuron(np.array([0.0, 1.0]), 0.0)
        self.o1 = nn.Neuron(np.array([0.0, 1.0]), 0.0)

    def forward(self, x: np.ndarray) -> Value:
        return self.o1(autonet.stack([self.h1(x), self.h2(x)]))


# --------------------------------------------------------------------------- structure


def test_the_micrograd_example_has_one_node_per_value_and_op_and_edges_follow_the_graph() -> None:
    *_, out = micrograd_example()
    dot = parse(draw_graph(out))
    values, ops, inputs = values_and_ops([out])
    assert len(values) == 6 and ops == 3
    assert len(dot.nodes) == len(values) + ops
    assert len(dot.edges) == inputs + ops
    (mul,) = dot.labelled("mul")
    (add,) = dot.labelled("add")
    (tanh,) = dot.labelled("tanh")
    name = {label: dot.labelled(label)[0] for label in "abc"}
    assert (name["a"], mul) in dot.edges and (name["b"], mul) in dot.edges and (name["c"], add) in dot.edges
    # mul -> its result -> add -> its result -> tanh -> out
    (product,) = [head for tail, head in dot.edges if tail == mul]
    assert (product, add) in dot.edges
    (total,) = [head for tail, head in dot.edges if tail == add]
    assert (total, tanh) in dot.edges and (tanh, dot.labelled("out")[0]) in dot.edges


def test_gradients_appear_only_once_backward_has_reached_the_values() -> None:
    a, *_, out = micrograd_example()
    before = parse(draw_graph(out))
    assert not any(
        f.startswith("grad")
        for name in before.nodes
        for f in before.fields(name)
        if "value" in before.kind(name)
    )
    out.backward(retain_graph=True)
    after = parse(draw_graph(out))
    (node,) = after.labelled("a")
    assert after.fields(node) == ["a", "scalar float64", "data 2", f"grad {float(a.grad):.4g}"]
    assert float(a.grad) == pytest.approx(-3 * (1 - np.tanh(4.0) ** 2))
    assert after.fields(after.labelled("out")[0])[-1] == "grad 1"
    no_grads = parse(draw_graph(out, show_grad=False, show_data=False))
    assert no_grads.fields(no_grads.labelled("a")[0]) == ["a", "scalar float64"]


def test_a_value_used_several_times_is_drawn_once_with_one_edge_per_use() -> None:
    x = Value([1.0, 2.0], label="x")
    y = (x * x + x).sum()
    dot = parse(draw_graph(y))
    (node,) = dot.labelled("x")
    uses = [head for tail, head in dot.edges if tail == node]
    assert len(uses) == 3  # twice into mul, once into add
    assert len(set(uses)) == 2


def test_labels_carry_shapes_dtypes_and_small_data() -> None:
    w = Value(np.array([[1.5, -2.0], [0.25, 4.0]], dtype=np.float32), label="w")
    v = w.sum(axis=0)
    dot = parse(draw_graph(v, precision=3))
    assert dot.fields(dot.labelled("w")[0]) == [
        "w",
        "shape (2, 2) float32",
        "data [[1.5, -2],\n [0.25, 4]]\n",
    ]
    (result,) = [n for n in dot.nodes if "root" in dot.kind(n)]
    assert dot.fields(result) == ["shape (2,) float32", "data [1.75, 2]"]


@given(st.integers(5, 40), st.integers(0, 10_000))
def test_large_tensors_show_min_mean_max_instead_of_their_elements(size: int, seed: int) -> None:
    data = np.random.default_rng(seed).normal(size=size)
    x = Value(data, label="x")
    x.grad = data * 2
    fields = parse(draw_graph(x, max_elements=4, precision=6)).fields("v0")
    expected = [f"min {d.min():.6g} mean {d.mean():.6g} max {d.max():.6g}" for d in (data, data * 2)]
    assert fields[2:] == [f"data {expected[0]}", f"grad {expected[1]}"]
    shown = parse(draw_graph(x, max_elements=size)).fields("v0")
    assert shown[2].count(",") == size - 1


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda x: x.sum(axis=1), "sum(axis=1)"),
        (lambda x: x.sum(), "sum"),
        (lambda x: x.mean(axis=(0, 1), keepdims=True), "mean(axis=(0, 1), keepdims=True)"),
        (lambda x: x.max(axis=-1), "max(axis=1)"),
        (lambda x: x[:, 0], "getitem[:, 0]"),
        (lambda x: x[..., 1::2, None], "getitem[..., 1::2, None]"),
        (lambda x: x[np.array([0, 1, 1])], "getitem[[0, 1, 1]]"),
        (lambda x: x[np.arange(10) % 2], "getitem[int64[10]]"),
        (lambda x: x[x.data > 2], "getitem[[[False, False, True], [True, True, True]]]"),
        (lambda x: x.reshape(6)[np.arange(6) > 2], "getitem[[False, False, False, True, True, True]]"),
        (lambda x: x.reshape(3, 2), "reshape(3, 2)"),
        (lambda x: x.T, "transpose(1, 0)"),
        (lambda x: x.broadcast_to((4, 2, 3)), "broadcast_to(4, 2, 3)"),
        (lambda x: x.softmax(axis=0), "softmax(axis=0)"),
        (lambda x: x.clip(0.5, None), "clip(low=0.5)"),
        (lambda x: x.leaky_relu(0.1), "leaky_relu(negative_slope=0.1)"),
        (lambda x: x.astype(np.float32), "astype(dtype=float32)"),
        (lambda x: autonet.concatenate([x, x], axis=1), "concatenate(axis=1)"),
        (
            lambda x: autonet.where(np.array([True, False, True]), x, 0.0),
            "where(condition=[True, False, True])",
        ),
        (lambda x: x @ x.T, "matmul"),
    ],
)
def test_op_nodes_are_named_after_the_registry_op_and_its_parameters(build, name: str) -> None:
    x = Value(np.arange(1.0, 7.0).reshape(2, 3), label="x")
    dot = parse(draw_graph(build(x)))
    ops = {unescape(attrs["label"]) for attrs in dot.nodes.values() if attrs.get("class") == "op"}
    assert name in ops
    op_names = {re.split(r"[(\[]", label)[0] for label in ops}
    assert op_names <= set(autonet.ops.REGISTRY)


def test_leaves_parameters_constants_and_roots_are_told_apart() -> None:
    w = Value(2.0, label="w")
    free = Value(3.0)
    data = Value(4.0, label="data", requires_grad=False)
    h = w * free + data
    out = h.tanh()
    dot = parse(draw_graph([out, h]))
    kinds = {unescape(dot.fields(n)[0]) if dot.fields(n)[0] else n: dot.kind(n) for n in dot.nodes}
    assert kinds["w"] == {"value", "parameter"}
    assert {"value", "leaf"} in [dot.kind(n) for n in dot.nodes]
    assert kinds["data"] == {"value", "constant"}
    roots = [n for n in dot.nodes if "root" in dot.kind(n)]
    assert len(roots) == 2
    fills = {frozenset(dot.kind(n)): dot.nodes[n].get("fillcolor") for n in dot.nodes}
    assert (
        len({fills[frozenset(k)] for k in ({"value", "parameter"}, {"value", "leaf"}, {"value", "constant"})})
        == 3
    )
    assert all(dot.nodes[r]["penwidth"] == "2" for r in roots)


def test_several_roots_share_the_graph_they_have_in_common() -> None:
    x = Value([1.0, 2.0], label="x")
    h = x.exp()
    first, second = h.sum(), (h * 2).mean()
    dot = parse(draw_graph([first, second, first]))
    values, ops, inputs = values_and_ops([first, second])
    assert len(dot.nodes) == len(values) + ops and len(dot.edges) == inputs + ops
    assert len(dot.labelled("exp")) == 1


# A random program: each step applies an op to earlier Values, so Values get reused at random.
STEPS = {
    "add": (2, lambda a, b: a + b),
    "mul": (2, lambda a, b: a * b),
    "sub": (2, lambda a, b: a - b),
    "tanh": (1, lambda a: a.tanh()),
    "exp": (1, lambda a: (a * 0.1).exp()),
    "sum": (1, lambda a: a.sum(axis=0, keepdims=True)),
    "getitem": (1, lambda a: a[::-1]),
}


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 10**6), st.integers(0, 10**6)),
        min_size=1,
        max_size=25,
    ),
    st.booleans(),
)
def test_any_graph_draws_one_node_per_value_and_op_and_one_edge_per_input(program, backward: bool) -> None:
    values = [Value([1.0, 2.0], label="p"), Value([0.5, -1.0]), Value([3.0, 3.0], requires_grad=False)]
    for name, i, j in program:
        arity, fn = STEPS[name]
        args = [values[i % len(values)], values[j % len(values)]][:arity]
        values.append(fn(*args))
    root = values[-1].sum()
    if backward and root.requires_grad:
        root.backward(retain_graph=True)
    dot = parse(draw_graph(root))
    seen, ops, inputs = values_and_ops([root])
    assert len(dot.nodes) == len(seen) + ops
    assert len(dot.edges) == inputs + ops
    # every op node has exactly one outgoing edge, to the Value it made
    op_names = [n for n in dot.nodes if dot.nodes[n].get("class") == "op"]
    assert len(op_names) == ops
    assert all(sum(1 for tail, _ in dot.edges if tail == n) == 1 for n in op_names)
    shown_grads = sum(
        1 for n in dot.nodes if any(f.startswith("grad ") for f in dot.fields(n)) and "value" in dot.kind(n)
    )
    assert shown_grads == sum(1 for v in seen.values() if stored_gradient(v) is not None)


def test_record_special_characters_in_labels_stay_literal() -> None:
    name = 'odd {name} | <port> \\ "quoted"'
    x = Value(1.0, label=name)
    dot = parse(draw_graph(x * 2))
    assert dot.labelled(name)
    texts = [t.text for t in ET.fromstring(draw_graph(x * 2).pipe(format="svg")).iter(f"{SVG}text")]
    assert name in texts


def test_a_deep_chain_draws_without_recursion() -> None:
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):
        y = y * 1.0
    dot = parse(draw_graph(y, max_nodes=10_000))
    assert len(dot.nodes) == 1 + 3000 * 3  # x, then per step a constant, an op and its result


# --------------------------------------------------------------------------- limits and errors


def test_a_graph_over_the_size_limit_raises_a_clear_error_suggesting_collapse() -> None:
    y = Value(1.0, label="x")
    for _ in range(200):
        y = y.tanh()  # 1 + 2 * 200 = 401 nodes
    assert len(parse(draw_graph(y)).nodes) == 401
    with pytest.raises(ValueError, match=r"over the limit max_nodes=400.*collapse='modules'.*max_nodes"):
        draw_graph(y, max_nodes=400)
    for _ in range(50):
        y = y.tanh()
    with pytest.raises(ValueError, match="max_nodes=500"):
        draw_graph(y)
    assert len(parse(draw_graph(y, max_nodes=501)).nodes) == 501


def test_a_graph_draws_after_a_plain_backward_with_data_and_gradients() -> None:
    x = Value(2.0, label="x")
    y = (x * 3).tanh()  # nobody but the graph holds x * 3 (nor the constant 3)
    y.backward()
    assert y.graph_released
    graph = parse(draw_graph(y))
    assert len(graph.nodes) == 4 + 2  # x, 3, x * 3, y and the two ops
    source = draw_graph(y).source
    assert "grad 1" in source  # the root's seed
    assert f"grad {3 * (1 - np.tanh(6.0) ** 2):.4g}" in source  # x * 3's gradient, kept
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_roots_must_be_values() -> None:
    with pytest.raises(TypeError, match="expected a Value or a list of Values, got float"):
        draw_graph(1.0)
    with pytest.raises(TypeError, match="got ndarray"):
        draw_graph([Value(1.0), np.ones(2)])
    with pytest.raises(ValueError, match="empty"):
        draw_graph([])


# --------------------------------------------------------------------------- rendering with dot


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_221_network_renders_to_valid_svg_png_pdf_and_dot(tmp_path: Path) -> None:
    loss, params = network_221([0.5, -1.0], 1.0)
    loss.backward(retain_graph=True)
    graph = draw_graph(loss, title="2-2-1 network")
    dot = parse(graph)
    values, ops, inputs = values_and_ops([loss])
    assert len(dot.nodes) == len(values) + ops == 11 + 5  # 11 Values, 5 ops (linear, sigmoid twice; mse)
    assert len(dot.edges) == inputs + ops
    for name, p in params.items():
        (node,) = dot.labelled(name)
        assert dot.kind(node) == {"value", "parameter"}
        assert f"shape {p.shape} float64" in dot.fields(node)
        grad_field = dot.fields(node)[-1]
        shown = [float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[-+]\d+)?", grad_field)]
        np.testing.assert_allclose(shown, p.grad.ravel(), rtol=1e-3)

    svg = save_graph(graph, tmp_path / "net.svg")
    tree = ET.parse(svg).getroot()
    assert tree.tag == f"{SVG}svg"
    drawn = [g for g in tree.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    assert len(drawn) == len(dot.nodes)
    texts = {t.text for t in tree.iter(f"{SVG}text")}
    assert {"layers.0.w", "layers.1.b", "loss", "linear", "sigmoid", "mse(reduction='mean')"} <= texts
    assert "2-2-1 network" in texts

    width, height = png_size(save_graph(loss, tmp_path / "net.png").read_bytes())
    assert width > 100 and height > 20
    assert save_graph(loss, tmp_path / "net.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "net.dot").exists() is False
    source = save_graph(loss, tmp_path / "net.dot").read_text()
    assert source == draw_graph(loss).source
    assert sorted(os.listdir(tmp_path)) == ["net.dot", "net.pdf", "net.png", "net.svg"]  # no temp files left


def test_format_comes_from_the_extension_or_the_override(tmp_path: Path) -> None:
    x = Value(1.0, label="x")
    assert png_size(save_graph(x, tmp_path / "picture.svg", format="png").read_bytes())[0] > 0
    assert save_graph(x, tmp_path / "graph.gv").read_text().startswith("// drawn by autonet")
    with pytest.raises(ValueError, match=r"extension '.jpg'.*svg, png, pdf, dot"):
        save_graph(x, tmp_path / "graph.jpg")
    with pytest.raises(ValueError, match="format 'bmp'"):
        save_graph(x, tmp_path / "graph.svg", format="bmp")
    with pytest.raises(TypeError, match="drawing options"):
        save_graph(draw_graph(x), tmp_path / "graph.svg", precision=2)


def test_top_to_bottom_layout_renders(tmp_path: Path) -> None:
    loss, _ = network_221([1.0, 0.0], 0.0)
    tree = ET.parse(save_graph(loss, tmp_path / "tb.svg", rankdir="TB")).getroot()
    width, height = (float(tree.get(k).removesuffix("pt")) for k in ("width", "height"))
    wide = ET.parse(save_graph(loss, tmp_path / "lr.svg")).getroot()
    assert height > width  # a chain of 11 ranks downwards is taller than wide
    assert float(wide.get("width").removesuffix("pt")) > float(wide.get("height").removesuffix("pt"))


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return tmp_path


def test_without_dot_rendering_says_how_to_install_graphviz_and_dot_still_works(no_dot: Path) -> None:
    x = Value(2.0, label="x")
    y = x * x
    old = no_dot / "graph.svg"
    old.write_text("previous picture")
    with pytest.raises(
        GraphvizNotFoundError, match=r"`dot` program.*install Graphviz.*apt-get install graphviz"
    ):
        save_graph(y, old)
    assert old.read_text() == "previous picture"  # a failed render leaves the old file alone
    with pytest.raises(GraphvizNotFoundError, match="install Graphviz"):
        save_graph(y, no_dot / "graph.png")
    assert not (no_dot / "graph.png").exists()
    with pytest.raises(GraphvizNotFoundError):
        draw_graph(y).render(no_dot / "rendered", format="svg")
    assert "mul" in draw_graph(y).source
    assert "mul" in save_graph(y, no_dot / "graph.dot").read_text()
    # graphviz's own render() writes its DOT source ("rendered") before it runs dot; nothing else is left
    assert sorted(p.name for p in no_dot.iterdir()) == ["empty-bin", "graph.dot", "graph.svg", "rendered"]


# --------------------------------------------------------------------------- Jupyter and imports


def shown_in_jupyter(obj: object, include: list[str] | None = None) -> dict[str, str]:
    """What a notebook shows for ``obj``: IPython's display formatter calls the object's
    ``_repr_mimebundle_(include=..., exclude=...)``, a name of IPython's display protocol, not an
    autonet internal. Calling it as IPython does tests the behaviour without needing IPython."""
    return obj._repr_mimebundle_(include=include, exclude=None)  # type: ignore[attr-defined]


def test_values_and_drawings_show_inline_in_jupyter_as_svg() -> None:
    *_, out = micrograd_example()
    bundle = shown_in_jupyter(out)
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    assert bundle["text/plain"] == repr(out)
    texts = {t.text for t in ET.fromstring(bundle["image/svg+xml"]).iter(f"{SVG}text")}
    assert {"a", "b", "c", "out", "tanh"} <= texts
    assert set(shown_in_jupyter(out, include=["text/plain"])) == {"text/plain"}
    assert "image/svg+xml" in shown_in_jupyter(draw_graph(out))
    # The hook on Value and the public notebook_bundle are one answer.
    assert notebook_bundle(out) == bundle


def test_jupyter_draws_a_value_after_a_plain_backward() -> None:
    *_, out = micrograd_example()
    out.backward()
    bundle = shown_in_jupyter(out)
    assert out.graph_released and "image/svg+xml" in bundle
    texts = {t.text for t in ET.fromstring(bundle["image/svg+xml"]).iter(f"{SVG}text")}
    assert {"a", "b", "c", "out", "tanh"} <= texts
    assert any(t.startswith("grad") for t in texts)


def test_jupyter_falls_back_to_the_repr_when_the_graph_cannot_be_drawn(no_dot: Path) -> None:
    y = Value(1.0, label="x").tanh()
    assert shown_in_jupyter(y) == {"text/plain": repr(y)}


def test_the_engine_never_imports_graphviz_and_drawing_does() -> None:
    code = (
        "import sys\n"
        "import autonet.engine\n"
        "assert 'graphviz' not in sys.modules, 'the engine imported graphviz'\n"
        "import autonet, autonet.viz\n"
        "assert 'graphviz' not in sys.modules, 'importing autonet.viz imported graphviz'\n"
        "graph = autonet.viz.draw_graph(autonet.Value(1.0) * 2)\n"
        "assert 'graphviz' in sys.modules and type(graph).__mro__[1].__module__.startswith('graphviz')\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    engine_source = Path(autonet.engine.__file__).read_text()
    assert "graphviz" not in engine_source


# --------------------------------------------------------------------------- collapsing modules


def tagged_two_layer_network() -> tuple[Value, Value, list[Value]]:
    """Two 'layers' tagged by hand as Module.__call__ tags them, then an untagged loss."""
    rng = np.random.default_rng(0)
    params = [
        Value(rng.normal(size=(3, 4)), label="layers.0.w"),
        Value(np.zeros(4), label="layers.0.b"),
        Value(rng.normal(size=(4, 2)), label="layers.1.w"),
        Value(np.zeros(2), label="layers.1.b"),
    ]
    x = Value(rng.normal(size=(5, 3)), label="x", requires_grad=False)
    h = (x @ params[0] + params[1]).tanh()
    h.scope = "MLP.layers.0"
    out = 1 - (h @ params[2] + params[3]).sigmoid()
    out.scope = "MLP.layers.1"
    loss = (out * out).mean()
    loss.label = "loss"
    return loss, out, params


def test_collapsed_modules_hide_their_ops_and_parameters() -> None:
    loss, _, params = tagged_two_layer_network()
    loss.backward(retain_graph=True)
    full = parse(draw_graph(loss))
    dot = parse(draw_graph(loss, collapse="modules"))
    modules = [n for n in dot.nodes if dot.kind(n) == {"module"}]
    assert len(modules) == 2
    first, second = (dot.fields(m) for m in modules)
    assert first == ["MLP.layers.0", "16 parameters", "3 ops: matmul, add, tanh", "out (5, 4)"]
    assert second == ["MLP.layers.1", "10 parameters", "4 ops: matmul, add, sigmoid, sub", "out (5, 2)"]
    assert not any(dot.labelled(p.label) for p in params)  # parameters live inside their module
    # x -> layer 0 -> h -> layer 1 -> out -> mul -> ... -> loss
    (x,) = dot.labelled("x")
    assert [head for tail, head in dot.edges if tail == x] == [modules[0]]
    (h,) = [head for tail, head in dot.edges if tail == modules[0]]
    assert (h, modules[1]) in dot.edges
    (o,) = [head for tail, head in dot.edges if tail == modules[1]]
    assert dot.fields(o)[0] == "shape (5, 2) float64" and dot.fields(o)[-1].startswith("grad")
    assert len(dot.labelled("mul")) == 1 and len(dot.labelled("mean")) == 1
    # the constant 1 of "1 - sigmoid" is hidden too; the visible rest is the loss part of the full drawing
    assert len(dot.nodes) == 2 + 3 + 2 + 2  # modules; x, h, out; the mul and mean ops and their results
    assert len(full.nodes) > len(dot.nodes)


def test_values_tagged_by_one_module_on_one_path_are_one_call() -> None:
    # A layer tags its pre-activation and its output; a recurrent cell reached through itself merges too.
    x = Value([[1.0, 2.0]], label="x", requires_grad=False)
    w = Value(np.eye(2) * 0.5, label="layer.w")
    pre = x @ w
    pre.scope = "Net.layer"
    out = pre.tanh()
    out.scope = "Net.layer"
    dot = parse(draw_graph(out.sum(), collapse="modules"))
    (module,) = [n for n in dot.nodes if dot.kind(n) == {"module"}]
    assert dot.fields(module) == ["Net.layer", "4 parameters", "2 ops: matmul, tanh", "out (1, 2)"]
    assert len(dot.nodes) == 1 + 2 + 1 + 1  # module; x and out; sum and its result


def test_one_module_used_twice_side_by_side_is_two_nodes_and_shared_parameters_stay_visible() -> None:
    w = Value(np.eye(2) * 0.5, label="encoder.w")
    codes = []
    for data in ([[1.0, 2.0]], [[3.0, 4.0]]):
        code = (Value(data, requires_grad=False) @ w).tanh()
        code.scope = "Siamese.encoder"
        codes.append(code)
    dot = parse(draw_graph((codes[0] - codes[1]).sum(), collapse="modules"))
    modules = [n for n in dot.nodes if dot.kind(n) == {"module"}]
    assert len(modules) == 2
    (weight,) = dot.labelled("encoder.w")
    assert sorted(head for tail, head in dot.edges if tail == weight) == sorted(modules)
    assert all(dot.fields(m)[:2] == ["Siamese.encoder", "0 parameters"] for m in modules)


def test_two_outputs_of_one_call_are_one_module_node() -> None:
    x = Value([1.0, -2.0, 3.0], label="x", requires_grad=False)
    w = Value(2.0, label="split.w")
    shared = x * w
    low, high = shared[:1].tanh(), shared[1:].exp()
    low.scope = high.scope = "Split"
    dot = parse(draw_graph([low, high], collapse="modules"))
    (module,) = [n for n in dot.nodes if dot.kind(n) == {"module"}]
    assert dot.fields(module)[1] == "1 parameter"
    assert dot.fields(module)[3] == "out (1,), (2,)"
    assert len([head for tail, head in dot.edges if tail == module]) == 2
    assert [n for n in dot.nodes if "root" in dot.kind(n)] and len(dot.nodes) == 1 + 1 + 2


def test_collapsing_keeps_big_networks_under_the_size_limit() -> None:
    rng = np.random.default_rng(0)
    h = Value(rng.normal(size=(1, 4)), requires_grad=False)
    for i in range(120):
        w = Value(rng.normal(size=(4, 4)) * 0.3, label=f"layers.{i}.w")
        b = Value(np.zeros(4), label=f"layers.{i}.b")
        h = (h @ w + b).tanh()
        h.scope = f"MLP.layers.{i}"
    with pytest.raises(ValueError, match="collapse='modules'"):
        draw_graph(h)
    dot = parse(draw_graph(h, collapse="modules"))
    assert len(dot.nodes) == 1 + 120 * 2
    with pytest.raises(ValueError, match="max_nodes=200"):
        draw_graph(h, collapse="modules", max_nodes=200)


def test_a_real_mlp_collapses_into_one_node_per_layer() -> None:
    loss, params = network_221([0.5, -1.0], 1.0)
    loss.backward(retain_graph=True)
    dot = parse(draw_graph(loss, collapse="modules"))
    modules = {dot.fields(n)[0]: dot.fields(n)[1:] for n in dot.nodes if dot.kind(n) == {"module"}}
    assert modules == {
        "MLP.layers.0": ["6 parameters", "2 ops: linear, sigmoid", "out (1, 2)"],
        "MLP.layers.1": ["3 parameters", "2 ops: linear, sigmoid", "out (1, 1)"],
    }
    assert not any(dot.labelled(name) for name in params)
    assert len(dot.nodes) == 2 + 3 + 2 + 1  # layers; input, hidden, output; target and loss; the mse op


def test_the_tutorial_network_of_neurons_collapses_into_its_three_neurons() -> None:
    network = ClassicNetwork()
    loss = nn.mse_loss(network(np.array([-2.0, -1.0])), 1.0)
    loss.backward(retain_graph=True)
    full = parse(draw_graph(loss))
    names = {"h1.weights", "h1.bias", "h2.weights", "h2.bias", "o1.weights", "o1.bias"}
    assert names <= {full.fields(n)[0] for n in full.nodes}
    dot = parse(draw_graph(loss, collapse="modules"))
    modules = {dot.fields(n)[0]: n for n in dot.nodes if dot.kind(n) == {"module"}}
    assert sorted(modules) == ["ClassicNetwork.h1", "ClassicNetwork.h2", "ClassicNetwork.o1"]
    assert all(dot.fields(n)[1] == "3 parameters" for n in modules.values())
    # each hidden neuron's output feeds the output neuron
    for hidden in ("ClassicNetwork.h1", "ClassicNetwork.h2"):
        (out,) = [head for tail, head in dot.edges if tail == modules[hidden]]
        assert (out, modules["ClassicNetwork.o1"]) in dot.edges


def test_a_value_inside_a_module_that_is_used_outside_stays_visible() -> None:
    x = Value([1.0, 2.0], label="x", requires_grad=False)
    w = Value([0.5, -0.5], label="block.w")
    inner = x * w  # computed inside the block, but also read by the caller
    out = inner.tanh()
    out.scope = "Block"
    total = (out + inner).sum()
    dot = parse(draw_graph(total, collapse="modules"))
    (module,) = [n for n in dot.nodes if dot.kind(n) == {"module"}]
    assert dot.fields(module)[3] == "out (2,), (2,)"
    assert len([head for tail, head in dot.edges if tail == module]) == 2
    (add,) = [n for n in dot.nodes if dot.nodes[n].get("label") == "add"]
    assert len([tail for tail, head in dot.edges if head == add]) == 2


def test_saved_files_get_the_usual_permissions(tmp_path: Path) -> None:
    plain = tmp_path / "plain.dot"
    plain.write_text("x")
    saved = save_graph(Value(1.0), tmp_path / "saved.dot")
    assert saved.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    saved.chmod(0o640)
    save_graph(Value(2.0), saved)
    assert saved.stat().st_mode & 0o777 == 0o640  # rewriting keeps the file's mode


def test_the_pictures_in_the_docs_are_up_to_date(tmp_path: Path) -> None:
    images = Path(__file__).resolve().parent.parent / "docs" / "img"
    spec = importlib.util.spec_from_file_location("make_images", images / "make_images.py")
    make_images = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_images)
    fresh = make_images.make_images(tmp_path)
    assert {p.name for p in fresh} == {p.name for p in images.glob("*.svg")}
    for path in fresh:
        texts = [t.text for t in ET.parse(path).getroot().iter(f"{SVG}text")]
        committed = [t.text for t in ET.parse(images / path.name).getroot().iter(f"{SVG}text")]
        assert committed == texts, f"docs/img/{path.name} is stale: run python docs/img/make_images.py"


def test_gradients_made_with_create_graph_show_and_can_be_drawn_themselves() -> None:
    x = Value(2.0, label="x")
    y = x**3
    y.backward(create_graph=True)
    dot = parse(draw_graph(y))
    assert dot.fields(dot.labelled("x")[0])[-1] == "grad 12"
    gradient_graph = parse(draw_graph(x.grad))  # 3 * x**2 * 1, recorded as ops
    values, ops, _ = values_and_ops([x.grad])
    assert ops >= 2 and len(gradient_graph.nodes) == len(values) + ops
    assert dot.labelled("x") and gradient_graph.labelled("x")


def test_empty_and_non_finite_data_are_shown_plainly() -> None:
    empty = Value(np.zeros((0, 3)), label="empty")
    odd = Value([np.nan, np.inf, -np.inf, -0.0], label="odd")
    dot = parse(draw_graph([empty, odd]))
    assert dot.fields(dot.labelled("empty")[0])[-1] == "data (empty)"
    assert dot.fields(dot.labelled("odd")[0])[-1] == "data [nan, inf, -inf, 0]"


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "graph.dot"
    target.write_text("old")

    def broken_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_graph(Value(1.0), target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.dot"]
