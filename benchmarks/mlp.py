"""Batched MLP training steps: relu hidden layers, softmax cross-entropy, plain SGD.

Every framework starts from the same weights (drawn here with numpy), sees the same batch and
takes the same steps, so after the run their losses must agree. One step is: clear the
gradients, forward, backward, ``p -= lr * grad`` for every parameter.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import _harness  # noqa: F401  (pins the thread counts before numpy loads)
import numpy as np

LEARNING_RATE = 0.05


@dataclass(frozen=True)
class Problem:
    sizes: tuple[int, ...]
    batch: int
    dtype: np.dtype

    @property
    def title(self) -> str:
        return f"MLP {'-'.join(map(str, self.sizes))}, batch {self.batch}, {np.dtype(self.dtype).name}"


BIG = Problem((784, 256, 128, 10), 128, np.dtype(np.float32))
SMALL = Problem((2, 16, 16, 10), 100, np.dtype(np.float64))


def make_data(problem: Problem, seed: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Weights (He-normal, zero biases), a batch of inputs, integer labels and their one-hot form."""
    rng = np.random.default_rng(seed)
    dtype = problem.dtype
    params = []
    for fan_in, fan_out in itertools.pairwise(problem.sizes):
        params.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(dtype))
        params.append(np.zeros(fan_out, dtype=dtype))
    x = rng.standard_normal((problem.batch, problem.sizes[0])).astype(dtype)
    labels = rng.integers(0, problem.sizes[-1], problem.batch)
    onehot = np.zeros((problem.batch, problem.sizes[-1]), dtype=dtype)
    onehot[np.arange(problem.batch), labels] = 1
    return params, x, labels, onehot


# --------------------------------------------------------------------------- the floor


def numpy_step(problem: Problem, seed: int) -> Callable[[], float]:
    """Forward and backward written out by hand in numpy: what any numpy framework builds on."""
    params, x, _, onehot = make_data(problem, seed)
    batch = problem.batch
    lr = LEARNING_RATE
    layers = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]

    def step() -> float:
        activations = [x]
        h = x
        for index, (w, b) in enumerate(layers):
            z = h @ w
            z += b
            h = np.maximum(z, 0) if index < len(layers) - 1 else z
            activations.append(h)
        logits = activations.pop()
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_probs = shifted - np.log(total)
        loss = -(log_probs * onehot).sum() / batch
        # d loss / d logits of softmax cross-entropy: (softmax - onehot) / batch.
        delta = exp / total
        delta -= onehot
        delta /= batch
        for index in range(len(layers) - 1, -1, -1):
            w, b = layers[index]
            h = activations[index]
            grad_w = h.T @ delta
            grad_b = delta.sum(axis=0)
            if index:
                delta = delta @ w.T
                delta *= h > 0
            w -= lr * grad_w
            b -= lr * grad_b
        return float(loss)

    return step


# --------------------------------------------------------------------------- autonet


def autonet_values_step(problem: Problem, seed: int, package: str = "autonet") -> Callable[[], float]:
    """The MLP built from raw autonet Values: ``x @ W + b``, relu, log_softmax, one-hot product."""
    autonet = importlib.import_module(package)

    arrays, x, _, onehot = make_data(problem, seed)
    params = [autonet.Value(a) for a in arrays]
    layers = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]
    inputs = autonet.Value(x, requires_grad=False)
    scale = -1.0 / problem.batch
    lr = LEARNING_RATE

    def step() -> float:
        for p in params:
            p.grad = None
        h = inputs
        for index, (w, b) in enumerate(layers):
            h = h @ w + b
            if index < len(layers) - 1:
                h = h.relu()
        loss = (h.log_softmax(axis=1) * onehot).sum() * scale
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.item()

    return step


def autonet_nn_available() -> bool:
    try:
        import autonet.nn
        import autonet.optim  # noqa: F401
    except ImportError:
        return False
    return True


def autonet_nn_step(problem: Problem, seed: int, package: str = "autonet") -> Callable[[], float]:
    """The same MLP as ``autonet.nn.MLP`` with its cross-entropy loss and ``autonet.optim.SGD``."""
    autonet = importlib.import_module(package)
    nn = importlib.import_module(f"{package}.nn")
    optim = importlib.import_module(f"{package}.optim")

    arrays, x, labels, _ = make_data(problem, seed)
    model = nn.MLP(problem.sizes[0], list(problem.sizes[1:]), activation="relu", dtype=problem.dtype)
    weights = [layer for layer in model.parameters()]
    if len(weights) != len(arrays):
        raise RuntimeError(f"nn.MLP has {len(weights)} parameters, expected {len(arrays)}")
    for p, a in zip(weights, arrays, strict=True):
        if p.shape != a.shape:
            raise RuntimeError(f"nn.MLP parameter of shape {p.shape} where {a.shape} was expected")
        p.data = a.copy()
    inputs = autonet.Value(x, requires_grad=False)
    optimizer = optim.SGD(weights, lr=LEARNING_RATE)

    def step() -> float:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def autonet_compiled_available() -> bool:
    try:
        import autonet

        return hasattr(autonet, "compile") and autonet_nn_available()
    except ImportError:
        return False


def autonet_compiled_step(problem: Problem, seed: int, package: str = "autonet") -> Callable[[], float]:
    """``autonet_nn_step``'s step (zero_grad, forward, cross-entropy, backward, SGD's step) under
    ``autonet.compile``: traced on the first call, replayed as flat numpy calls after."""
    autonet = importlib.import_module(package)
    nn = importlib.import_module(f"{package}.nn")
    optim = importlib.import_module(f"{package}.optim")

    arrays, x, labels, _ = make_data(problem, seed)
    model = nn.MLP(problem.sizes[0], list(problem.sizes[1:]), activation="relu", dtype=problem.dtype)
    weights = list(model.parameters())
    for p, a in zip(weights, arrays, strict=True):
        p.data = a.copy()
    inputs = autonet.Value(x, requires_grad=False)
    optimizer = optim.SGD(weights, lr=LEARNING_RATE)

    @autonet.compile
    def step() -> float:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


# --------------------------------------------------------------------------- peers


def torch_step(problem: Problem, seed: int) -> Callable[[], float]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    arrays, x, labels, _ = make_data(problem, seed)
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    layers = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]
    inputs = torch.from_numpy(x)
    targets = torch.from_numpy(labels)
    lr = LEARNING_RATE

    def step() -> float:
        for p in params:
            p.grad = None
        h = inputs
        for index, (w, b) in enumerate(layers):
            h = h @ w + b
            if index < len(layers) - 1:
                h = torch.relu(h)
        loss = F.cross_entropy(h, targets)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss.item()

    return step


def jax_step(problem: Problem, seed: int) -> Callable[[], float]:
    """``jax.jit`` of the whole update (``value_and_grad`` of the loss, then ``p - lr * g``), on
    the CPU with XLA's thread pool held to one thread."""
    import os

    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    import jax
    import jax.numpy as jnp

    if problem.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    arrays, x, _, onehot = make_data(problem, seed)
    inputs, targets = jnp.asarray(x), jnp.asarray(onehot)
    count = len(arrays) // 2
    batch = problem.batch
    lr = LEARNING_RATE

    def loss_of(params: list) -> Any:
        h = inputs
        for index in range(count):
            h = h @ params[2 * index] + params[2 * index + 1]
            if index < count - 1:
                h = jax.nn.relu(h)
        return -(jax.nn.log_softmax(h, axis=1) * targets).sum() / batch

    @jax.jit
    def update(params: list) -> tuple[Any, list]:
        loss, grads = jax.value_and_grad(loss_of)(params)
        return loss, [p - lr * g for p, g in zip(params, grads, strict=True)]

    state = [[jnp.asarray(a) for a in arrays]]

    def step() -> float:
        loss, state[0] = update(state[0])
        return float(loss)

    return step


def mygrad_step(problem: Problem, seed: int) -> Callable[[], float]:
    import mygrad as mg
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy

    arrays, x, labels, _ = make_data(problem, seed)
    params = [mg.Tensor(a) for a in arrays]
    layers = [(params[i], params[i + 1]) for i in range(0, len(params), 2)]
    lr = LEARNING_RATE

    def step() -> float:
        h = x
        for index, (w, b) in enumerate(layers):
            h = h @ w + b
            if index < len(layers) - 1:
                h = relu(h)
        loss = softmax_crossentropy(h, labels)
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.item()

    return step


def autograd_step(problem: Problem, seed: int) -> Callable[[], float]:
    import autograd.numpy as anp
    from autograd import value_and_grad
    from autograd.scipy.special import logsumexp

    arrays, x, _, onehot = make_data(problem, seed)
    batch = problem.batch
    lr = LEARNING_RATE

    def loss_of(params: list) -> float:
        h = x
        count = len(params) // 2
        for index in range(count):
            h = h @ params[2 * index] + params[2 * index + 1]
            if index < count - 1:
                h = anp.maximum(h, 0)
        log_probs = h - logsumexp(h, axis=1, keepdims=True)
        return -anp.sum(log_probs * onehot) / batch

    loss_and_grads = value_and_grad(loss_of)

    def step() -> float:
        loss, grads = loss_and_grads(arrays)
        for p, g in zip(arrays, grads, strict=True):
            p -= lr * g
        return float(loss)

    return step


FRAMEWORKS: dict[str, tuple[Callable[[Problem, int], Callable[[], float]], str | None, bool]] = {
    # name: (builder, module that must import, whether tracemalloc sees its memory)
    "numpy (by hand)": (numpy_step, None, True),
    "autonet (Values)": (autonet_values_step, "autonet", True),
    "autonet (nn.MLP)": (autonet_nn_step, "autonet.nn", True),
    "autonet (compiled nn.MLP)": (autonet_compiled_step, "autonet.nn", True),
    "PyTorch": (torch_step, "torch", False),
    "JAX (jit)": (jax_step, "jax", False),
    "MyGrad": (mygrad_step, "mygrad", True),
    "HIPS autograd": (autograd_step, "autograd", True),
}
