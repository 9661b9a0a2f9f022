"""autonet: reverse-mode autograd on numpy, from one neuron to a batched MLP.

>>> import autonet
>>> x = autonet.Value([1.0, 2.0, 3.0])
>>> loss = (x * x).sum()
>>> loss.backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

# viz is the drawing layer on top of the engine; it loads graphviz only when something is drawn.
# nn, optim and data (networks, optimizers, generated data sets) need numpy only.
from . import data, nn, ops, optim, viz
from ._state import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .anomaly import AnomalyError
from .compiler import CompileWarning, compile  # noqa: A004 - autonet.compile, as torch.compile
from .engine import Value
from .functional import grad, gradients

# The gradient checks are functions at the top level (autonet.gradcheck(fn, x)), as in PyTorch;
# the module stays importable as autonet.gradcheck for its other names.
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .ops.custom import op
from .steps import BackwardStep, backward_steps
from .surface import FUNCTIONS, apply, call_op
from .transforms import hessian, hvp, jacobian, jvp, linearize, vjp

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "BackwardStep",
    "CompileWarning",
    "GradcheckError",
    "Value",
    "apply",
    "backward_steps",
    "call_op",
    "compile",
    "data",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradients",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "linearize",
    "nn",
    "no_grad",
    "numerical_grad",
    "op",
    "ops",
    "optim",
    "set_grad_enabled",
    "viz",
    "vjp",
]

# autonet.maximum, autonet.where, autonet.einsum ...: each op that declares a function.
globals().update(FUNCTIONS)
__all__ += sorted(FUNCTIONS)


def __getattr__(name: str) -> object:
    # An op registered after import (a user's own module) with a function= is autonet.<name> too.
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
