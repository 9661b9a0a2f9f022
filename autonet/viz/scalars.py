"""The scalar zoom of the class style, ``draw_graph(root, style="class", expand="scalars")``: each
layer drawn neuron by neuron, as micrograd and the classic tutorial picture a small network.

A layer is found in the recorded graph as ``linear(x, w, b)`` (``nn.Layer``) or as
``matmul(x, w)`` followed by ``+ bias`` (``nn.Neuron``), with the elementwise activation that
reads it, if any. Neuron ``j`` is then drawn as its scalars: each input times its weight
(``×``), the products and the bias added (``+``) into ``z``, and the activation; each number
and gradient is a slice of the layer's recorded data and gradients (a product's gradient is
``z``'s, since ``d z / d product = 1``). The neurons of one sample are drawn (a batch of one
row or a 1-d input), at most ``ClassOptions.max_neurons`` (64) in all.

>>> from autonet import nn
>>> from autonet.viz.classroom import ClassOptions, Scene
>>> layer = nn.Layer(2, 3, activation="tanh", rng=0)
>>> scene = Scene([layer([1.0, 2.0]).sum()], ClassOptions())
>>> zoom(scene)
>>> [label for label, _ in scene.clusters]
['Layer[0]', 'Layer[1]', 'Layer[2]']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import Value, stored_gradient
from .classroom import Box, Scene, Step, op_node

__all__ = ["LayerCall", "find_layers", "zoom"]


@dataclass
class LayerCall:
    """One layer found in the graph: ``x @ weights + bias`` into ``z``, then ``out`` (the
    activation's result, or ``z`` itself), and the Values the zoom draws in their place.

    >>> from autonet import nn
    >>> from autonet.viz.classroom import ClassOptions, Scene
    >>> (call,) = find_layers(Scene([nn.Neuron(2)([1.0, 2.0])], ClassOptions()))
    >>> call.nin, call.nout, call.activation
    (2, 1, 'sigmoid')
    """

    name: str
    x: Value
    weights: Value
    bias: Value | None
    z: Value
    out: Value
    activation: str | None
    inner: list[Value]

    @property
    def nin(self) -> int:
        """The number of inputs of each neuron."""
        return self.weights.shape[0]

    @property
    def nout(self) -> int:
        """The number of neurons."""
        return 1 if self.weights.ndim == 1 else self.weights.shape[1]


def _only_user(scene: Scene, value: Value) -> Value | None:
    users = scene.consumers.get(id(value), [])
    return users[0] if len(users) == 1 else None


def _layer_at(scene: Scene, value: Value) -> LayerCall | None:
    """The layer whose matrix product is ``value``, or None when ``value`` is not one."""
    name = value.op.name if value.op is not None else None
    if name == "linear" and len(value.parents) == 3:
        x, weights, bias = value.parents
        z, inner = value, [value]
    elif name == "matmul" and len(value.parents) == 2:
        (x, weights), bias, z, inner = value.parents, None, value, [value]
        user = _only_user(scene, value)
        if user is not None and user.op.name == "add" and len(user.parents) == 2:
            other = user.parents[1] if user.parents[0] is value else user.parents[0]
            if other.op is None and other.size == (1 if weights.ndim == 1 else weights.shape[-1]):
                bias, z, inner = other, user, [value, user]
    else:
        return None
    if weights.op is not None or weights.ndim not in (1, 2) or x.shape[-1:] != weights.shape[:1]:
        return None
    out, activation = z, None
    user = _only_user(scene, z)
    if user is not None and len(user.parents) == 1 and user.op.cases.family == "elementwise":
        out, activation = user, user.op.name
        inner.append(user)
    title = scene.title(out) or "neuron"
    return LayerCall(title, x, weights, bias, z, out, activation, inner)


def find_layers(scene: Scene) -> list[LayerCall]:
    """Every layer of the scene's graph, inputs first (see the module docstring)."""
    found = []
    for value in scene.order:
        call = _layer_at(scene, value)
        if call is not None:
            found.append(call)
    return found


def _check(calls: list[LayerCall], limit: int) -> None:
    for call in calls:
        if call.x.ndim > 2 or (call.x.ndim == 2 and call.x.shape[0] != 1):
            raise ValueError(
                f"draw_graph: expand='scalars' draws one sample neuron by neuron, but {call.name} reads a "
                f"batch of shape {call.x.shape}; draw the network on a single sample (one row)"
            )
    total = sum(call.nout for call in calls)
    if total > limit:
        counts = ", ".join(f"{call.name}: {call.nout}" for call in calls)
        raise ValueError(
            f"draw_graph: expand='scalars' draws at most {limit} neurons one by one, and this graph has "
            f"{total} ({counts}); draw a smaller network, or leave expand=None for one box per layer"
        )
    if not calls:
        raise ValueError(
            "draw_graph: expand='scalars' found no layer to expand (no linear, or matmul with a weight "
            "parameter, in the graph); leave expand=None"
        )


def zoom(scene: Scene) -> None:
    """Draw every layer of ``scene`` neuron by neuron (adds boxes, steps and one cluster per
    neuron, and replaces the layer's own Values). Raises ``ValueError`` for a batch of more than
    one sample, past ``max_neurons`` neurons, and when the graph has no layer."""
    calls = find_layers(scene)
    _check(calls, scene.options.max_neurons)
    for call in calls:
        inputs = _input_keys(scene, call)
        outputs = [_neuron(scene, call, j, inputs) for j in range(call.nout)]
        scene.elements[id(call.out)] = outputs
        scene.replace(call.inner)
        if call.nout == 1:
            scene.replace([call.out], by=outputs[0])
            if id(call.out) in scene.roots:
                scene.extra_boxes[outputs[0]].kind = "output"
    for call in calls:
        if call.nout > 1 and _read_elsewhere(scene, call):
            key = scene.keys[id(call.out)]
            scene.extra_boxes[key] = scene.box_of(call.out)
            scene.extra_steps.append(Step("stack", scene.elements[id(call.out)], key))
            scene.replace([call.out], by=key)


def _read_elsewhere(scene: Scene, call: LayerCall) -> bool:
    """Whether something that is not drawn neuron by neuron reads the layer's output."""
    if id(call.out) in scene.roots:
        return True
    return any(id(user) not in scene.replaced for user in scene.consumers.get(id(call.out), []))


def _slice(array: np.ndarray | None, index: int | tuple[int, int]) -> np.ndarray | None:
    if array is None:
        return None
    flat = np.asarray(array)
    return np.asarray(flat.reshape(-1)[index] if isinstance(index, int) else flat[index])


def _input_keys(scene: Scene, call: LayerCall) -> list[str]:
    """The boxes of the layer's inputs, one per element: the previous layer's neurons, the
    scalars a join put together, or new boxes ``x[0]``, ``x[1]`` ... for a vector."""
    if id(call.x) in scene.elements:
        return scene.elements[id(call.x)]
    joined = scene.joined(call.x)
    if len(joined) == call.nin and all(v.size == 1 for v in joined):
        return [scene.key_of(v) for v in joined]
    base = scene.key_of(call.x)
    box = scene.box_of(call.x)
    keys = []
    for i in range(call.nin):
        key = f"{base}_{i}"
        if key not in scene.extra_boxes:
            title = f"{box.title or 'x'}[{i}]"
            grad = _slice(box.grad, i)
            scene.extra_boxes[key] = Box(title, box.kind, _slice(box.data, i), grad, box.dtype)
        keys.append(key)
    scene.elements[id(call.x)] = keys
    return keys


def _short(label: str, neuron: str) -> str:
    """A parameter's name inside its neuron's cluster: ``h1.weights`` -> ``weights``."""
    for prefix in (neuron + ".", neuron.partition("[")[0] + "."):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return label or "w"


def _neuron(scene: Scene, call: LayerCall, j: int, inputs: list[str]) -> str:
    """Add neuron ``j`` of ``call`` to the scene; return the key of its output box."""
    name = call.name if call.nout == 1 else f"{call.name}[{j}]"
    base = f"{scene.keys[id(call.z)]}_n{j}"
    weights, w_grad = np.asarray(call.weights).reshape(call.nin, -1), stored_gradient(call.weights)
    w_grad = None if w_grad is None else np.asarray(w_grad).reshape(call.nin, -1)
    x_data = np.asarray(call.x).reshape(-1)
    z_grad = _slice(stored_gradient(call.z), j)
    w_name = _short(call.weights.label or "w", call.name)
    members, products = [], []
    for i in range(call.nin):
        index = f"[{i}]" if call.weights.ndim == 1 else f"[{i}, {j}]"
        w_key, p_key = f"{base}_w{i}", f"{base}_p{i}"
        scene.extra_boxes[w_key] = Box(w_name + index, "parameter", weights[i, j], _slice(w_grad, (i, j)))
        scene.extra_boxes[p_key] = Box("", "intermediate", np.asarray(x_data[i] * weights[i, j]), z_grad)
        scene.extra_steps.append(Step("×", [inputs[i], w_key], p_key))
        scene.layout_edges.append((inputs[i], w_key))  # a weight sits below the input it multiplies
        members += [w_key, p_key, op_node(scene.extra_steps[-1])]
        products.append(p_key)
    if call.bias is not None:
        b_key = f"{base}_b"
        b_name = _short(call.bias.label or "b", call.name) + ("" if call.bias.ndim == 0 else f"[{j}]")
        b_grad = _slice(stored_gradient(call.bias), j)
        scene.extra_boxes[b_key] = Box(b_name, "parameter", _slice(np.asarray(call.bias), j), b_grad)
        products.append(b_key)
        members.append(b_key)
        scene.layout_edges.append((inputs[0], b_key))
    z_key = f"{base}_z"
    z_title = "z" if call.activation else name
    scene.extra_boxes[z_key] = Box(z_title, "intermediate", _slice(np.asarray(call.z), j), z_grad)
    scene.extra_steps.append(Step("+", products, z_key))
    members += [z_key, op_node(scene.extra_steps[-1])]
    out_key = z_key
    if call.activation:
        out_key = f"{base}_a"
        a_grad = _slice(stored_gradient(call.out), j)
        scene.extra_boxes[out_key] = Box(name, "intermediate", _slice(np.asarray(call.out), j), a_grad)
        scene.extra_steps.append(Step(call.activation, [z_key], out_key))
        members += [out_key, op_node(scene.extra_steps[-1])]
    scene.clusters.append((name, members))
    return out_key
