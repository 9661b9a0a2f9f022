"""Small data sets for the demos and tests, generated (numpy only) or read from the files a
package ships (``load_digits``, with scikit-learn: the ``data`` extra); nothing is downloaded.
And minibatches: ``minibatches`` for one pass, ``DataLoader`` for epoch after epoch.

Every generator takes ``seed`` (an int, a ``numpy.random.Generator`` or None) and returns
``(X, y)``: inputs of shape ``(n, 2)`` in ``dtype`` and integer labels of shape ``(n,)``, except
``xor`` whose targets are floats 0.0/1.0 as the classic tutorial uses them.

>>> from autonet.data import make_moons
>>> X, y = make_moons(100, noise=0.1, seed=0)
>>> X.shape, y.shape, sorted(set(y.tolist()))
((100, 2), (100,), [0, 1])
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DataLoader", "load_digits", "make_moons", "make_spirals", "minibatches", "xor"]

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


def _checked_arrays(arrays: tuple[Any, ...], who: str) -> tuple[tuple[np.ndarray, ...], int]:
    """The arrays as numpy arrays, and their common length along axis 0."""
    if not arrays:
        raise ValueError(f"{who}: give at least one array")
    found = tuple(np.asarray(a) for a in arrays)
    if any(a.ndim == 0 for a in found):
        raise ValueError(f"{who}: every array needs an axis 0 of rows; got a 0-d array")
    lengths = {len(a) for a in found}
    if len(lengths) != 1:
        raise ValueError(f"{who}: the arrays have different lengths {sorted(lengths)} along axis 0")
    return found, lengths.pop()


def _batches(
    arrays: tuple[np.ndarray, ...], order: np.ndarray, batch_size: int, drop_last: bool
) -> Iterator[tuple[np.ndarray, ...]]:
    """The rows of ``arrays`` in ``order``, ``batch_size`` at a time (a tuple per batch)."""
    n = len(order)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        rows = order[start : start + batch_size]
        yield tuple(a[rows] for a in arrays)


def minibatches(
    *arrays: np.ndarray,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: Seed = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, ...]]:
    """One pass over ``arrays`` (same length along axis 0) in batches of ``batch_size`` rows,
    in a random order when ``shuffle`` (from ``seed``); the last batch is smaller unless
    ``drop_last``. Yields tuples with one batch per array. For several epochs from one seed,
    see ``DataLoader``.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [b[1].tolist() for b in minibatches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    found, n = _checked_arrays(arrays, "minibatches")
    batch_size = _count(batch_size, "minibatches", "batch_size")
    order = _generator(seed, "minibatches").permutation(n) if shuffle else np.arange(n)
    yield from _batches(found, order, batch_size, drop_last)


def _is_samples(dataset: Any) -> bool:
    """Whether ``dataset`` is PyTorch's kind: a list (or an object with ``__len__`` and
    ``__getitem__``) of samples, each a tuple such as ``(x, y)``, rather than a tuple of arrays
    (or a list of rows, which is one array)."""
    if isinstance(dataset, (tuple, np.ndarray)) or not hasattr(dataset, "__getitem__"):
        return False
    try:
        return len(dataset) > 0 and isinstance(dataset[0], tuple)  # a list of rows stays one array
    except (TypeError, KeyError, IndexError):
        return False


def _collated(dataset: Any) -> tuple[np.ndarray, ...]:
    """The samples' fields stacked into one array each, as PyTorch's default collate does."""
    samples = [dataset[i] for i in range(len(dataset))]
    width = len(samples[0])
    for index, sample in enumerate(samples):
        if not isinstance(sample, tuple) or len(sample) != width:
            shown = repr(sample)[:60]
            raise ValueError(
                f"DataLoader: sample {index} is not a tuple of {width} fields like sample 0: {shown}"
            )
    try:
        return tuple(np.stack([np.asarray(sample[f]) for sample in samples]) for f in range(width))
    except ValueError as error:
        raise ValueError(f"DataLoader: the samples' fields do not stack into arrays: {error}") from None


class DataLoader:
    """Minibatches of a data set for as many epochs as you iterate it, as PyTorch's
    ``DataLoader``: ``for xb, yb in loader`` goes once through the rows.

    ``dataset`` is a tuple of arrays with the same length along axis 0, such as ``(X, y)``,
    and each batch is a tuple of numpy arrays (inputs need no gradient; make Values of them as
    the model needs); a single array gives single arrays. PyTorch's kind of data set, a list of
    samples ``[(x, y), ...]`` (or an object with ``__len__`` and ``__getitem__`` giving them),
    is stacked field by field first. With ``shuffle`` each pass takes a
    new random order, drawn from one generator made from ``seed`` at construction, so the
    sequence of epochs is the same for the same seed. The last batch is smaller unless
    ``drop_last``; ``len(loader)`` is the number of batches in a pass.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> loader = DataLoader((X, y), batch_size=2)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (3, [[0, 1], [2, 3], [4]])
    >>> shuffled = DataLoader(y, batch_size=5, shuffle=True, seed=0)
    >>> first, second = next(iter(shuffled)), next(iter(shuffled))
    >>> sorted(first.tolist()) == sorted(second.tolist()) == [0, 1, 2, 3, 4]
    True
    """

    def __init__(
        self,
        dataset: tuple[np.ndarray, ...] | np.ndarray,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: Seed = None,
    ) -> None:
        if _is_samples(dataset):
            dataset = _collated(dataset)
        self._single = not isinstance(dataset, tuple)
        self.arrays, self.n = _checked_arrays((dataset,) if self._single else dataset, "DataLoader")
        self.batch_size = _count(batch_size, "DataLoader", "batch_size")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = _generator(seed, "DataLoader")

    def __len__(self) -> int:
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn when the pass starts, so an epoch left early does not shift the next.
        order = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for batch in _batches(self.arrays, order, self.batch_size, self.drop_last):
            yield batch[0] if self._single else batch

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.n} rows in {len(self)} batches of {self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


_MISSING_SCIKIT_LEARN = (
    "load_digits reads the digits data that scikit-learn ships, and scikit-learn is not "
    'installed: pip install "autonet[data]" (or pip install scikit-learn)'
)


def _digits_table() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as (pixels 0..16, labels). The file it ships is read directly when it
    is where scikit-learn keeps it: importing scikit-learn (and scipy with it) takes seconds, the
    file a few milliseconds. Otherwise scikit-learn's own loader reads it."""
    try:
        spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",")
            if table.shape == (1797, 65):  # 64 pixels and the label per row, as load_digits reads it
                return table[:, :64], table[:, 64].astype(np.int64)
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:
        raise ImportError(_MISSING_SCIKIT_LEARN) from error
    images, labels = sklearn_digits(return_X_y=True)
    return np.asarray(images, dtype=np.float64), np.asarray(labels, dtype=np.int64)


def _stratified_split(
    labels: np.ndarray, test_size: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, test)``, each in a random order, with ``ceil(test_size * n)`` test
    rows, taken from each class in proportion to its size (as nearly as whole rows allow)."""
    n = len(labels)
    order = rng.permutation(n)
    by_class = order[np.argsort(labels[order], kind="stable")]  # classes in turn, each shuffled
    counts = np.bincount(labels)
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    # Taking the rows of lowest quantile within their class takes every class in proportion;
    # the random key breaks ties between classes of the same size.
    quantile = (rank + 0.5) / counts[labels[by_class]]
    chosen = by_class[np.lexsort((rng.random(n), quantile))[: math.ceil(test_size * n)]]
    is_test = np.zeros(n, dtype=bool)
    is_test[chosen] = True
    return order[~is_test[order]], order[is_test[order]]


def load_digits(
    test_size: float = 0.2,
    seed: Seed = 0,
    as_images: bool = False,
    dtype: Any = np.float64,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The 1797 handwritten digits of scikit-learn (8x8 grey images, labels 0 to 9), split
    into ``((X_train, y_train), (X_test, y_test))``; read from the file scikit-learn ships, so
    nothing is downloaded.

    Pixels are scaled from 0..16 to [0, 1] in ``dtype``; ``X`` is ``(n, 64)``, or ``(n, 1, 8,
    8)`` (one channel, for convolutions) with ``as_images``. The split is stratified (each digit
    in the same proportion in both parts) and seeded: ``ceil(test_size * 1797)`` test rows, each
    part in a random order. Raises ``ImportError`` naming the ``data`` extra when scikit-learn
    is missing.

    >>> (X_train, y_train), (X_test, y_test) = load_digits(test_size=0.2, seed=0)
    >>> X_train.shape, X_test.shape, float(X_train.max())
    ((1437, 64), (360, 64), 1.0)
    >>> load_digits(as_images=True)[0][0].shape
    (1437, 1, 8, 8)
    """
    if isinstance(test_size, bool) or not isinstance(test_size, (float, int)) or not 0 < test_size < 1:
        raise ValueError(f"load_digits: test_size is the test share, a number in (0, 1); got {test_size!r}")
    rng = _generator(seed, "load_digits")
    images, labels = _digits_table()
    inputs = (images / 16.0).astype(dtype)
    if as_images:
        inputs = inputs.reshape(-1, 1, 8, 8)
    train, test = _stratified_split(labels, float(test_size), rng)
    return (inputs[train], labels[train]), (inputs[test], labels[test])
