"""Small generated data sets for the demos and tests (numpy only, nothing is downloaded), and a
minibatch iterator.

Every generator takes ``seed`` (an int, a ``numpy.random.Generator`` or None) and returns
``(X, y)``: inputs of shape ``(n, 2)`` in ``dtype`` and integer labels of shape ``(n,)``, except
``xor`` whose targets are floats 0.0/1.0 as the classic tutorial uses them.

>>> from autonet.data import make_moons
>>> X, y = make_moons(100, noise=0.1, seed=0)
>>> X.shape, y.shape, sorted(set(y.tolist()))
((100, 2), (100,), [0, 1])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["make_moons", "make_spirals", "minibatches", "xor"]

Seed = np.random.Generator | int | None


def _generator(seed: Seed, who: str) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(
        f"{who}: seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}"
    )


def _count(n: Any, who: str, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)


def xor(dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points and their targets: [0,0]->0, [0,1]->1, [1,0]->1, [1,1]->0.

    >>> X, y = xor()
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    """
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    return inputs, np.array([0, 1, 1, 0], dtype=dtype)


def make_moons(
    n: int = 100, noise: float = 0.1, seed: Seed = None, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (label 0 on top, 1 below), shuffled, with Gaussian
    ``noise`` (standard deviation) added to every coordinate; the layout of scikit-learn's
    ``make_moons``. For micrograd's +-1 labels use ``y * 2 - 1``.

    >>> X, y = make_moons(6, noise=0.0, seed=0)
    >>> int((y == 0).sum()), int((y == 1).sum())
    (3, 3)
    """
    n = _count(n, "make_moons")
    if noise < 0:
        raise ValueError(f"make_moons: noise is a standard deviation and must be >= 0, got {noise}")
    rng = _generator(seed, "make_moons")
    n_top = n // 2
    n_bottom = n - n_top
    top = np.linspace(0, np.pi, n_top)
    bottom = np.linspace(0, np.pi, n_bottom)
    X = np.concatenate(
        [
            np.stack([np.cos(top), np.sin(top)], axis=1),
            np.stack([1 - np.cos(bottom), 0.5 - np.sin(bottom)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_top, dtype=np.int64), np.ones(n_bottom, dtype=np.int64)])
    X = X + rng.normal(scale=noise, size=X.shape) if noise else X
    order = rng.permutation(n)
    return X[order].astype(dtype), y[order]


def make_spirals(
    n_per_class: int = 100,
    classes: int = 3,
    noise: float = 0.2,
    seed: Seed = None,
    dtype: Any = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` spiral arms of ``n_per_class`` points each, winding out from the origin (the
    data set of Stanford's CS231n notes): a linear classifier cannot separate them, a small MLP
    can. ``noise`` jitters each point's angle (radians, standard deviation). Every arm starts at
    the origin, so those ``classes`` points coincide and no classifier gets all of them right.

    >>> X, y = make_spirals(50, classes=3, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((150, 2), [50, 50, 50])
    """
    n_per_class = _count(n_per_class, "make_spirals", "n_per_class")
    classes = _count(classes, "make_spirals", "classes")
    if noise < 0:
        raise ValueError(f"make_spirals: noise must be >= 0, got {noise}")
    rng = _generator(seed, "make_spirals")
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    labels = np.repeat(np.arange(classes), n_per_class)
    # Each arm turns through 4 radians, starting 4 radians after the previous one.
    angle = labels * 4.0 + np.tile(np.linspace(0.0, 4.0, n_per_class), classes)
    angle = angle + rng.normal(scale=noise, size=angle.shape)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return X.astype(dtype), labels


def minibatches(
    *arrays: np.ndarray,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: Seed = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, ...]]:
    """One pass over ``arrays`` (same length along axis 0) in batches of ``batch_size`` rows,
    in a random order when ``shuffle`` (from ``seed``); the last batch is smaller unless
    ``drop_last``. Yields tuples with one batch per array.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [b[1].tolist() for b in minibatches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    if not arrays:
        raise ValueError("minibatches: give at least one array")
    batch_size = _count(batch_size, "minibatches", "batch_size")
    arrays = tuple(np.asarray(a) for a in arrays)
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"minibatches: the arrays have different lengths {sorted(lengths)} along axis 0")
    (n,) = lengths
    order = _generator(seed, "minibatches").permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        rows = order[start : start + batch_size]
        yield tuple(a[rows] for a in arrays)
