"""Every op autonet knows, in one registry: ``REGISTRY[name]`` is an ``Op``.

The families live side by side: arith, elementwise, reduce, shape, linalg, loss, norm, conv, and the
composites built from them. Importing this package registers them all; ``numpy_api`` says how
numpy's functions reach them, and ``cases`` holds the shared ``Cases`` (how the suite builds an
op's arguments) that the entries name; ``custom`` is ``autonet.op``, which registers an op of
your own.
"""

from . import arith, cases, composite, conv, elementwise, linalg, loss, norm, numpy_api, reduce, shape

# isort: split
# After every family: custom (ops of your own, autonet.op) takes what is registered now as built in.
from . import custom
from .registry import REGISTRY, Cases, Domain, Edge, Op, gate, register, sum_to_shape

__all__ = [
    "REGISTRY",
    "Cases",
    "Domain",
    "Edge",
    "Op",
    "arith",
    "cases",
    "composite",
    "conv",
    "custom",
    "elementwise",
    "gate",
    "linalg",
    "loss",
    "norm",
    "numpy_api",
    "reduce",
    "register",
    "shape",
    "sum_to_shape",
]
