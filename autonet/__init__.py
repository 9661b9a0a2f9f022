"""autonet: reverse-mode autograd on numpy, from one neuron to a batched MLP.

>>> import autonet
>>> x = autonet.Value([1.0, 2.0, 3.0])
>>> loss = (x * x).sum()
>>> loss.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

from . import ops
from ._state import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .engine import (
    AnomalyError,
    Value,
    call_op,
    concatenate,
    grad,
    gradients,
    matmul,
    maximum,
    minimum,
    stack,
    where,
)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "Value",
    "call_op",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradients",
    "is_grad_enabled",
    "matmul",
    "maximum",
    "minimum",
    "no_grad",
    "ops",
    "set_grad_enabled",
    "stack",
    "where",
]
