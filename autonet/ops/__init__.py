"""Every op autonet knows, in one registry: ``REGISTRY[name]`` is an ``Op``.

The families live side by side: arith, elementwise, reduce, shape, linalg, loss, and the
composites built from them. Importing this package registers them all; ``numpy_api`` says how
numpy's functions reach them.
"""

from . import arith, composite, elementwise, linalg, loss, numpy_api, reduce, shape
from .registry import REGISTRY, Domain, Edge, Op, gate, register, sum_to_shape

__all__ = [
    "REGISTRY",
    "Domain",
    "Edge",
    "Op",
    "arith",
    "composite",
    "elementwise",
    "gate",
    "linalg",
    "loss",
    "numpy_api",
    "reduce",
    "register",
    "shape",
    "sum_to_shape",
]
