"""Gradients as functions: ``gradients`` (as ``torch.autograd.grad``) and ``grad`` (as JAX and
HIPS autograd), both on the engine's one backward walk, storing nothing in any ``.grad``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._state import set_grad_enabled
from .engine import ArrayLike, Value, backward_pass

__all__ = ["grad", "gradients"]


def gradients(
    output: Value,
    inputs: Sequence[Value] | Value,
    gradient: ArrayLike | None = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> list[Any]:
    """The gradients of ``output`` with respect to ``inputs``, without touching any ``.grad``.

    Like ``torch.autograd.grad``: returns one gradient per input (zeros for an input the output
    does not depend on). With ``create_graph=True`` they are Values that can be differentiated
    again, which gives Hessian-vector products.

    >>> from autonet import Value, gradients
    >>> x = Value(3.0)
    >>> [g.item() for g in gradients(x * x, [x])]
    [6.0]
    """
    single = isinstance(inputs, Value)
    targets = [inputs] if single else list(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    found = backward_pass(output, gradient, retain_graph=retain, create_graph=create_graph, targets=targets)
    result = []
    for target, g in zip(targets, found, strict=True):
        if g is None:
            g = np.zeros(target.shape, dtype=target.dtype)
            g = Value(g, requires_grad=False) if create_graph else g
        elif not create_graph:
            # As for .grad: each result is its own writeable array, not a view or a shared object.
            if type(g) is float or g.base is not None or not g.flags.writeable or any(g is r for r in result):
                g = np.array(g)
        result.append(g)
    return result


def grad(fn: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The gradient of a scalar function, as a function (as in JAX and HIPS autograd).

    Numbers and arrays in give arrays out; Values in give Values out that stay in the graph,
    so ``grad`` nests for higher derivatives.

    Each argument position is an input of its own, as in JAX: ``grad(lambda a, b: a * b,
    argnums=(0, 1))(x, x)`` gives the two partial derivatives ``(x, x)`` whether ``x`` is a number
    or one Value passed twice, and ``argnums=(0, 0)`` gives the same derivative twice.

    >>> from autonet import grad
    >>> float(grad(lambda x: x ** 3)(2.0))
    12.0
    >>> float(grad(grad(lambda x: x ** 3))(2.0))
    12.0
    """
    many = isinstance(argnums, tuple)
    picks = argnums if many else (argnums,)

    def gradient_of(*args: Any) -> Any:
        nested = any(isinstance(a, Value) for a in args)
        values = [a if isinstance(a, Value) else Value(a) for a in args]
        for i in set(picks):
            if values[i] is args[i]:
                values[i] = _position(args[i])
        with set_grad_enabled(True):
            out = fn(*values)
        if not isinstance(out, Value):
            out = Value(out, requires_grad=False)
        if not out.requires_grad:
            found = [np.zeros(values[i].shape, dtype=values[i].dtype) for i in picks]
        else:
            if out.size != 1:
                raise ValueError(f"grad: the function must return a scalar, it returned shape {out.shape}")
            found = gradients(out, [values[i] for i in picks], create_graph=nested)
        return tuple(found) if many else found[0]

    return gradient_of


def _position(value: Value) -> Value:
    """A Value of its own for one argument position of ``grad``, still connected to ``value``
    (times 1.0: exact for every number, and the gradient passes straight through)."""
    if not value.requires_grad:
        return Value(value.data, requires_grad=True)
    with set_grad_enabled(True):
        return value * 1.0
