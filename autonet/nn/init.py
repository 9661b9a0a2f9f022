"""Initial weights: Xavier (Glorot) and He (Kaiming), uniform or normal, as numpy arrays (and
plain ``normal``/``uniform`` draws of a fixed scale, as the classic tutorials use).

Every function draws from a ``numpy.random.Generator``: pass one (or an int seed) as ``rng`` and
a run is reproducible; pass the same generator to every layer and the layers differ from each
other while the whole model is still fixed by one seed.

A weight of shape ``(fan_in, fan_out)`` feeds ``fan_in`` inputs into ``fan_out`` outputs (autonet
layers compute ``x @ w``); a 1-d shape ``(fan_in,)`` is one neuron's weights.

>>> import numpy as np
>>> from autonet.nn import init
>>> w = init.xavier_uniform((2, 16), rng=0)
>>> w.shape, bool(np.abs(w).max() <= np.sqrt(6 / 18))
((2, 16), True)
>>> bool((init.he_normal((3, 4), rng=1) == init.he_normal((3, 4), rng=1)).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "INITIALIZERS",
    "RandomState",
    "as_generator",
    "default_for",
    "float_dtype",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "pytorch_uniform",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
]

RandomState = np.random.Generator | int | None
"""What ``rng`` accepts: a Generator (used as is), an int seed, or None (fresh entropy)."""


def as_generator(rng: RandomState) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator (returned as is), an int seed or None.

    >>> int(as_generator(3).integers(100)) == int(as_generator(3).integers(100))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}; "
        "make one with numpy.random.default_rng(seed)"
    )


def float_dtype(dtype: Any, who: str) -> np.dtype:
    """``dtype`` as a numpy float dtype (None: float64), as every layer takes it; a TypeError
    naming ``who`` for any other kind.

    >>> float_dtype(None, "Layer"), float_dtype("float32", "Layer")
    (dtype('float64'), dtype('float32'))
    """
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{who}: dtype must be a float type such as float32 or float64, got {dtype}")
    return dtype


def pytorch_uniform(fan_in: int, shape: int | tuple[int, ...], rng: RandomState, dtype: Any) -> np.ndarray:
    """PyTorch's default for the weights and biases of linear, convolutional and recurrent
    layers: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) (``kaiming_uniform`` with a = sqrt(5)).

    >>> bool(np.all(np.abs(pytorch_uniform(4, (3, 4), 0, np.float64)) <= 0.5))
    True
    """
    return _uniform(1.0 / math.sqrt(fan_in), shape, rng, dtype)


def _fans(shape: tuple[int, ...], name: str) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], 1
    if len(shape) == 2:
        return shape[0], shape[1]
    raise ValueError(f"{name}: shape must be (fan_in,) or (fan_in, fan_out), got {shape}")


def _shape(shape: int | tuple[int, ...], name: str) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if any(n < 1 for n in shape):
        raise ValueError(f"{name}: every dimension of the shape must be at least 1, got {shape}")
    return shape


def _uniform(bound: float, shape: tuple[int, ...], rng: RandomState, dtype: Any) -> np.ndarray:
    return as_generator(rng).uniform(-bound, bound, shape).astype(dtype, copy=False)


def _normal(std: float, shape: tuple[int, ...], rng: RandomState, dtype: Any) -> np.ndarray:
    return (as_generator(rng).standard_normal(shape) * std).astype(dtype, copy=False)


def xavier_uniform(
    shape: int | tuple[int, ...], gain: float = 1.0, rng: RandomState = None, dtype: Any = np.float64
) -> np.ndarray:
    """Uniform on [-a, a] with a = gain * sqrt(6 / (fan_in + fan_out)): variance 2 / (fan_in + fan_out).

    Suits tanh, sigmoid and linear layers (Glorot and Bengio, 2010).

    >>> bool(xavier_uniform((4, 4), rng=0).std() < 1)
    True
    """
    shape = _shape(shape, "xavier_uniform")
    fan_in, fan_out = _fans(shape, "xavier_uniform")
    return _uniform(gain * math.sqrt(6.0 / (fan_in + fan_out)), shape, rng, dtype)


def xavier_normal(
    shape: int | tuple[int, ...], gain: float = 1.0, rng: RandomState = None, dtype: Any = np.float64
) -> np.ndarray:
    """Normal with standard deviation gain * sqrt(2 / (fan_in + fan_out)).

    >>> xavier_normal((2, 3), rng=0, dtype=np.float32).dtype
    dtype('float32')
    """
    shape = _shape(shape, "xavier_normal")
    fan_in, fan_out = _fans(shape, "xavier_normal")
    return _normal(gain * math.sqrt(2.0 / (fan_in + fan_out)), shape, rng, dtype)


def he_uniform(
    shape: int | tuple[int, ...],
    gain: float = math.sqrt(2.0),
    rng: RandomState = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Uniform on [-a, a] with a = gain * sqrt(3 / fan_in); with the default gain sqrt(2), the
    variance is 2 / fan_in, which keeps relu activations from shrinking (He et al., 2015).

    >>> bool(abs(he_uniform((8, 4), rng=0)).max() <= np.sqrt(6 / 8))
    True
    """
    shape = _shape(shape, "he_uniform")
    fan_in, _ = _fans(shape, "he_uniform")
    return _uniform(gain * math.sqrt(3.0 / fan_in), shape, rng, dtype)


def he_normal(
    shape: int | tuple[int, ...],
    gain: float = math.sqrt(2.0),
    rng: RandomState = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Normal with standard deviation gain / sqrt(fan_in) (sqrt(2 / fan_in) by default, for relu).

    >>> he_normal(3, rng=0).shape
    (3,)
    """
    shape = _shape(shape, "he_normal")
    fan_in, _ = _fans(shape, "he_normal")
    return _normal(gain / math.sqrt(fan_in), shape, rng, dtype)


def normal(
    shape: int | tuple[int, ...], std: float = 1.0, rng: RandomState = None, dtype: Any = np.float64
) -> np.ndarray:
    """Normal with a fixed standard deviation (1 by default: the classic tutorial's
    ``np.random.normal()`` weights), whatever the layer's size.

    >>> normal((2, 2), rng=0).shape
    (2, 2)
    """
    return _normal(std, _shape(shape, "normal"), rng, dtype)


def uniform(
    shape: int | tuple[int, ...], bound: float = 1.0, rng: RandomState = None, dtype: Any = np.float64
) -> np.ndarray:
    """Uniform on [-bound, bound] (micrograd's ``random.uniform(-1, 1)`` by default).

    >>> bool(abs(uniform((3, 3), rng=0)).max() <= 1.0)
    True
    """
    return _uniform(bound, _shape(shape, "uniform"), rng, dtype)


glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

Initializer = Callable[..., np.ndarray]

INITIALIZERS: dict[str, Initializer] = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "normal": normal,
    "uniform": uniform,
}
"""Initializers by name, as layers accept them in ``init=``."""

_RELU_LIKE = frozenset({"relu", "leaky_relu", "gelu"})


def default_for(activation: str | None) -> str:
    """The initializer a layer uses by default: He for relu-like activations, Xavier otherwise.

    >>> default_for("relu"), default_for("tanh")
    ('he_uniform', 'xavier_uniform')
    """
    return "he_uniform" if activation in _RELU_LIKE else "xavier_uniform"


def resolve(init: str | Initializer, activation: str | None) -> Initializer:
    """The initializer function for ``init`` ("auto", a name in ``INITIALIZERS`` or a callable)."""
    if callable(init):
        return init
    name = default_for(activation) if init == "auto" else init
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(
            f"init: unknown initializer {init!r}; use 'auto', one of {sorted(INITIALIZERS)} or a function"
        ) from None
