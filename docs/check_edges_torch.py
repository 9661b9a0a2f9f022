"""Check every declared edge against PyTorch (float64): python docs/check_edges_torch.py

For each registered op and each of its ``Edge`` declarations, this runs the same point through
the op's PyTorch counterpart (``TORCH`` below) and compares the value and the gradient for an
upstream gradient of ones with the declaration. It prints one line per edge where PyTorch
disagrees, and fails (exit status 1) where that contradicts the edge's ``torch`` flag: an edge
marked ``torch=True`` that PyTorch does not reproduce, or one marked ``torch=False`` that it does.
This is how the "same as torch" column of docs/edges.md is measured.

It needs PyTorch (``pip install -e ".[bench]"``); the test suite never imports it, but checks
that ``TORCH`` has an entry for every registered op.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autonet.ops import REGISTRY, Edge

torch: Any = None  # imported by main(), so that the suite can read TORCH without PyTorch

# Libraries' exp, log and erf differ in the last bits, and PyTorch keeps some constants in
# float32 (binary_cross_entropy's 1e-12 is 9.99999996e-13): agreement is to 1e-7.
RTOL = 1e-7


def _dims(x: Any, axis: Any) -> Any:
    if axis is None:
        return tuple(range(x.dim()))
    return axis


def _reduce(fn: str) -> Any:
    def reduce(x: Any, axis: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        return getattr(torch, fn)(x, dim=_dims(x, axis), keepdim=keepdims, **kw)

    return reduce


def _extreme(name: str) -> Any:
    def extreme(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        # torch.max(x) is the full reduction; torch.amax the one along axes.
        return getattr(torch, name)(x) if axis is None else getattr(torch, f"a{name}")(x, axis, keepdims)

    return extreme


def _moment(name: str, x: Any, axis: Any, keepdims: bool, ddof: int) -> Any:
    # The full reduction without dim=: PyTorch's gradient with no degrees of freedom depends on
    # whether dims are given (+inf everywhere without, 2 (x - mean) / (n - ddof) with them).
    if axis is None and not keepdims:
        return getattr(torch, name)(x, correction=ddof)
    return getattr(torch, name)(x, dim=_dims(x, axis), correction=ddof, keepdim=keepdims)


def _index(index: Any) -> Any:
    parts = index if isinstance(index, tuple) else (index,)
    converted = tuple(torch.as_tensor(p) if isinstance(p, np.ndarray) else p for p in parts)
    return converted if isinstance(index, tuple) else converted[0]


def _scatter_add(g: Any, index: Any, shape: Any) -> Any:
    out = torch.zeros(shape, dtype=g.dtype)
    if isinstance(index, np.ndarray):
        return out.index_put((torch.as_tensor(index),), g, accumulate=True)
    out[_index(index)] = g
    return out


def _loss(fn: Any, x: Any, reduction: str) -> Any:
    losses = fn(x)
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


def _functional() -> Any:
    return torch.nn.functional


TORCH: dict[str, Any] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda x: -x,
    "exp": lambda x: torch.exp(x),
    "log": lambda x: torch.log(x),
    "log1p": lambda x: torch.log1p(x),
    "expm1": lambda x: torch.expm1(x),
    "sqrt": lambda x: torch.sqrt(x),
    "abs": lambda x: torch.abs(x),
    "tanh": lambda x: torch.tanh(x),
    "sigmoid": lambda x: torch.sigmoid(x),
    "relu": lambda x: torch.relu(x),
    "leaky_relu": lambda x, negative_slope=0.01: _functional().leaky_relu(x, negative_slope),
    "softplus": lambda x: _functional().softplus(x),
    "erf": lambda x: torch.erf(x),
    "sin": lambda x: torch.sin(x),
    "cos": lambda x: torch.cos(x),
    "clip": lambda x, low=None, high=None: torch.clamp(x, low, high),
    "maximum": lambda a, b: torch.maximum(a, b),
    "minimum": lambda a, b: torch.minimum(a, b),
    "where": lambda a, b, condition: torch.where(torch.as_tensor(condition), a, b),
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "max": _extreme("max"),
    "min": _extreme("min"),
    "logsumexp": _reduce("logsumexp"),
    "softmax": lambda x, axis=-1: torch.softmax(x, axis),
    "log_softmax": lambda x, axis=-1: torch.log_softmax(x, axis),
    "reshape": lambda x, shape: x.reshape(shape),
    "astype": lambda x, dtype: x.to(getattr(torch, np.dtype(dtype).name)),
    "transpose": lambda x, axes: x.permute(axes),
    "broadcast_to": lambda x, shape: x.broadcast_to(shape),
    "getitem": lambda x, index: x[_index(index)],
    "scatter_add": _scatter_add,
    "concatenate": lambda *xs, axis: torch.cat(xs, axis),
    "matmul": lambda a, b: torch.matmul(a, b),
    "linear": lambda x, w, b: _functional().linear(x, w.T, b),
    "cross_entropy": lambda x, target, reduction="mean", weight=None, **options: _functional().cross_entropy(
        x,
        torch.as_tensor(target),
        reduction=reduction,
        weight=None if weight is None else torch.as_tensor(weight, dtype=x.dtype),
        **options,
    ),
    "bce_with_logits": lambda x, t, reduction="mean": _functional().binary_cross_entropy_with_logits(
        x, t, reduction=reduction
    ),
    "binary_cross_entropy": lambda p, t, reduction="mean": _functional().binary_cross_entropy(
        p, t, reduction=reduction
    ),
    "mse": lambda a, b, reduction="mean": _functional().mse_loss(a, b, reduction=reduction),
    # PyTorch has no max(0, 1 - y x) loss of its own; it is relu(1 - y x), reduced.
    "hinge": lambda x, target, reduction="mean": _loss(
        lambda s: torch.relu(1 - torch.as_tensor(target) * s), x, reduction
    ),
    "var": lambda x, axis=None, keepdims=False, ddof=0: _moment("var", x, axis, keepdims, ddof),
    "std": lambda x, axis=None, keepdims=False, ddof=0: _moment("std", x, axis, keepdims, ddof),
    "gelu": lambda x: _functional().gelu(x),
    "gelu_tanh": lambda x: _functional().gelu(x, approximate="tanh"),
    "flatten": lambda x: x.flatten(),
    "squeeze": lambda x, axis=None: x.squeeze() if axis is None else x.squeeze(axis),
    "expand_dims": lambda x, axis: x.unsqueeze(axis),
    "swapaxes": lambda x, axis1, axis2: x.swapaxes(axis1, axis2),
    "stack": lambda *xs, axis=0: torch.stack(xs, axis),
    "prod": lambda x, axis=None, keepdims=False: _product(x, axis, keepdims),
    "cumsum": lambda x, axis=None: torch.cumsum(
        x.reshape(-1) if axis is None else x, 0 if axis is None else axis
    ),
    "einsum": lambda *xs, subscripts: torch.einsum(subscripts, *xs),
    "outer": lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)),
    "tensordot": lambda a, b, axes=2: torch.tensordot(a, b, dims=axes),
    "norm": lambda x, ord=None, axis=None, keepdims=False: torch.linalg.norm(  # noqa: A006
        x if axis is not None or x.dim() < 2 or ord is not None else x.reshape(-1),
        ord=ord,
        dim=axis,
        keepdim=keepdims,
    ),
    "tile": lambda x, reps: torch.tile(x, (reps,) if isinstance(reps, int) else tuple(reps)),
    "batch_norm": lambda x, w, b, running_mean=None, running_var=None, **kw: _functional().batch_norm(
        x, _buffer(running_mean), _buffer(running_var), w, b, **kw
    ),
    "layer_norm": lambda x, w, b, normalized_shape, eps=1e-5: _functional().layer_norm(
        x, normalized_shape, w, b, eps
    ),
    # The op behind F.dropout with its mask given: PyTorch scales what it keeps, zeros the rest.
    "dropout": lambda x, mask, p=0.5: torch.where(
        torch.as_tensor(mask), x * (0.0 if p == 1 else 1 / (1 - p)), torch.zeros(())
    ),
    "embedding": lambda w, indices, padding_idx=None: _functional().embedding(
        torch.as_tensor(indices), w, padding_idx
    ),
    "conv1d": lambda x, w, b, **kw: _functional().conv1d(x, w, b, **kw),
    "conv2d": lambda x, w, b, **kw: _functional().conv2d(x, w, b, **kw),
    "conv_input_grad": lambda g, w, input_shape, **kw: getattr(torch.nn.grad, f"conv{w.dim() - 2}d_input")(
        input_shape, w, g, **kw
    ),
    "conv_weight_grad": lambda x, g, weight_shape, **kw: getattr(torch.nn.grad, f"conv{x.dim() - 2}d_weight")(
        x, weight_shape, g, **kw
    ),
    "adaptive_avg_pool2d": lambda x, output_size: _functional().adaptive_avg_pool2d(x, output_size),
    "conv_transpose1d": lambda x, w, b, **kw: _functional().conv_transpose1d(x, w, b, **kw),
    "conv_transpose2d": lambda x, w, b, **kw: _functional().conv_transpose2d(x, w, b, **kw),
    "max_pool2d": lambda x, kernel_size, **kw: _functional().max_pool2d(x, kernel_size, **kw),
    "avg_pool2d": lambda x, kernel_size, **kw: _functional().avg_pool2d(x, kernel_size, **kw),
}


def _buffer(array: Any) -> Any:
    return None if array is None else torch.tensor(array)


def _product(x: Any, axis: Any, keepdims: bool) -> Any:
    if axis is None:
        out = torch.prod(x)
        return out.reshape((1,) * x.dim()) if keepdims else out
    for a in sorted(axis if isinstance(axis, tuple) else (axis,), reverse=True):
        x = torch.prod(x, a, keepdim=True)
    return x if keepdims else x.squeeze(axis)


def _agrees(got: Any, declared: Any) -> bool:
    got = np.asarray(got, dtype=np.float64)
    declared = np.asarray(declared, dtype=np.float64)
    if got.shape != declared.shape:
        return False
    return bool(np.allclose(got, declared, rtol=RTOL, atol=0, equal_nan=True))


def torch_disagreement(name: str, edge: Edge) -> str:
    """What PyTorch does differently at ``edge`` of op ``name`` ("" if it does what is declared)."""
    op = REGISTRY[name]
    wanted = op.differentiable_inputs
    leaves = [
        torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=wanted is None or i in wanted)
        for i, x in enumerate(edge.inputs)
    ]
    try:
        out = TORCH[name](*leaves, **edge.params)
    except Exception as error:  # any refusal counts as raising
        return "" if edge.raises is not None else f"raises {type(error).__name__}: {error}"
    if edge.raises is not None:
        return f"gives {out.detach().numpy()} where autonet raises {edge.raises.__name__}"
    problems = []
    if edge.value is not None and not _agrees(out.detach().numpy(), edge.value):
        problems.append(f"value {out.detach().numpy().tolist()}")
    if out.requires_grad:
        out.backward(torch.ones_like(out))
    for i, (leaf, declared) in enumerate(zip(leaves, edge.grads, strict=True)):
        got = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad.numpy()
        if declared is not None and not _agrees(got, declared):
            problems.append(f"gradient {i} {got.tolist()}")
    return ", ".join(problems)


def main() -> int:
    global torch
    import torch as _torch

    torch = _torch
    torch.set_default_dtype(torch.float64)
    wrong = 0
    for name, op in REGISTRY.items():
        for edge in op.edges:
            differs = torch_disagreement(name, edge)
            if differs:
                print(f"{name} at {edge.point}: torch {differs} (declared torch={edge.torch})")
            if bool(differs) == edge.torch:
                wrong += 1
                print(f"  ^ the torch flag of {name} at {edge.point} is wrong")
    total = sum(len(op.edges) for op in REGISTRY.values())
    print(f"{total} edges checked against torch {torch.__version__}; {wrong} torch flags wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
