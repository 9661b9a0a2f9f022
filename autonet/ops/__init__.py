"""Every op autonet knows, in one registry: ``REGISTRY[name]`` is an ``Op``.

The families live side by side: arith, elementwise, reduce, shape, linalg. Importing this
package registers them all.
"""

from . import arith, elementwise, linalg, reduce, shape
from .registry import REGISTRY, Domain, Op, register, sum_to_shape

__all__ = ["REGISTRY", "Domain", "Op", "arith", "elementwise", "linalg", "reduce", "register", "shape", "sum_to_shape"]
