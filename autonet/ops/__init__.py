"""Every op autonet knows, in one registry: ``REGISTRY[name]`` is an ``Op``.

The families live side by side: arith, elementwise, reduce, shape, linalg, loss. Importing this
package registers them all.
"""

from . import arith, elementwise, linalg, loss, reduce, shape
from .registry import REGISTRY, Domain, Edge, Op, gate, register, sum_to_shape

__all__ = [
    "REGISTRY",
    "Domain",
    "Edge",
    "Op",
    "arith",
    "elementwise",
    "gate",
    "linalg",
    "loss",
    "reduce",
    "register",
    "shape",
    "sum_to_shape",
]
