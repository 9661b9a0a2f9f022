"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both work in place on the gradients that a backward stored (``p.grad``, each parameter's own
writeable array), between ``backward()`` and ``optimizer.step()``; parameters that no backward
reached have no gradient and are skipped.

>>> import numpy as np
>>> from autonet import Value
>>> from autonet.nn.utils import clip_grad_norm_
>>> w = Value(np.array([1.0, 2.0]))
>>> (w * np.array([3.0, 4.0])).sum().backward()  # gradient [3, 4], of norm 5
>>> clip_grad_norm_([w], max_norm=1.0)
5.0
>>> np.round(w.grad, 6).tolist()
[0.6, 0.8]
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .._state import STATE
from ..engine import Value, stored_gradient

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

# Added to the norm before dividing, as PyTorch: a norm just below max_norm still scales by < 1.
_NORM_EPSILON = 1e-6


def _listed(parameters: Iterable[Value] | Value) -> list[Value]:
    # A list, so that a generator (module.parameters()) is not used up by its first reader.
    return [parameters] if isinstance(parameters, Value) else list(parameters)


def _with_gradients(parameters: Iterable[Value] | Value, who: str) -> list[Value]:
    """The parameters that have a stored gradient, checked to be Values."""
    given = _listed(parameters)
    for index, p in enumerate(given):
        if not isinstance(p, Value):
            raise TypeError(f"{who}: parameter {index} is a {type(p).__name__}, not a Value")
    return [p for p in given if stored_gradient(p) is not None]


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    """The ``norm_type``-norm of all the numbers in ``values``, in float64 (0 for none)."""
    flat = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    if norm_type == math.inf:
        return float(flat.max(initial=0.0))
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(flat, flat)))
    return float(np.sum(flat**norm_type) ** (1.0 / norm_type))


def _scale(p: Value, factor: float) -> None:
    g = stored_gradient(p)
    if type(g) is float:
        p.grad = g * factor  # a float64 scalar keeps its gradient as a float
    elif isinstance(g, Value):
        g.mul_(factor)  # a gradient from backward(create_graph=True): changed in place too
    else:
        grad = p.grad  # the parameter's own array (not p.grad *= ..., which would assign it again)
        grad *= factor


def clip_grad_norm_(
    parameters: Iterable[Value] | Value,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale the gradients in place so that their total norm, taken over all of them as one
    vector, is at most ``max_norm``; returns the total norm before clipping (a float).

    As PyTorch: the gradients are multiplied by ``min(1, max_norm / (total + 1e-6))``;
    ``norm_type`` is any ``p > 0`` or ``math.inf`` (the largest absolute value). A non-finite
    total (an inf or nan gradient) raises ``RuntimeError`` with ``error_if_nonfinite``; without it
    the gradients are scaled by that non-finite factor. Parameters without a gradient are
    skipped; with none at all the norm is 0.0.

    >>> import numpy as np
    >>> from autonet import Value
    >>> a, b = Value(np.zeros(2)), Value(0.0)
    >>> a.grad, b.grad = np.array([-3.0, 1.0]), 2.0
    >>> clip_grad_norm_([a, b], max_norm=1.0, norm_type=np.inf)
    3.0
    >>> np.round(a.grad, 4).tolist(), round(b.grad.item(), 4)  # all divided by 3
    ([-1.0, 0.3333], 0.6667)
    """
    if STATE.tracer is not None:  # autonet.compile: replayed as this call, on the replayed gradients
        listed = _listed(parameters)
        return STATE.tracer.call(clip_grad_norm_, listed, max_norm, norm_type, error_if_nonfinite)
    who = "clip_grad_norm_"
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"{who}: norm_type must be > 0 or math.inf, got {norm_type}")
    if not max_norm >= 0:
        raise ValueError(f"{who}: max_norm must be >= 0, got {max_norm}")
    with_gradients = _with_gradients(parameters, who)
    norms = [_vector_norm(stored_gradient(p), norm_type) for p in with_gradients]
    total = _vector_norm(np.array(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{who}: the total norm of order {norm_type} of the gradients is {total}, so they cannot be "
            "clipped; find the inf or nan gradient (autonet.detect_anomaly helps), or pass "
            "error_if_nonfinite=False to scale by it anyway"
        )
    factor = max_norm / (total + _NORM_EPSILON)
    if not factor >= 1.0:  # nan too: PyTorch scales by it, so the gradients become nan
        for p in with_gradients:
            _scale(p, factor)
    return total


def clip_grad_value_(parameters: Iterable[Value] | Value, clip_value: float) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``, in place.

    >>> import numpy as np
    >>> from autonet import Value
    >>> w = Value(np.zeros(3))
    >>> w.grad = np.array([-5.0, 0.5, 2.0])
    >>> clip_grad_value_([w], 1.0)
    >>> w.grad.tolist()
    [-1.0, 0.5, 1.0]
    """
    if STATE.tracer is not None:  # autonet.compile: replayed as this call, on the replayed gradients
        return STATE.tracer.call(clip_grad_value_, _listed(parameters), clip_value)
    who = "clip_grad_value_"
    if not clip_value >= 0:
        raise ValueError(f"{who}: clip_value must be >= 0, got {clip_value}")
    for p in _with_gradients(parameters, who):
        g = stored_gradient(p)
        if type(g) is float:
            p.grad = float(np.clip(g, -clip_value, clip_value))
        elif isinstance(g, Value):
            g.copy_(np.clip(np.asarray(g), -clip_value, clip_value))
        else:
            grad = p.grad
            np.clip(grad, -clip_value, clip_value, out=grad)
