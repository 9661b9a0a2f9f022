"""Normalisation layers, dropout and embeddings, as PyTorch's: BatchNorm1d, BatchNorm2d, LayerNorm,
Dropout, Embedding.

They follow the module's ``training`` flag (``train()``, ``eval()``): batch norm normalises with
the batch's statistics in training and with its running statistics (buffers, saved in
``state_dict`` with the parameters, not parameters) in evaluation; dropout is the identity in
evaluation. Parameter and buffer names are PyTorch's (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``), so a state converted from torch with
``{k: v.numpy() for k, v in module.state_dict().items()}`` loads with ``load_state_dict``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._state import STATE
from ..engine import Value
from ..ops.norm import batch_norm, dropout, embedding, layer_norm
from .init import RandomState, as_generator, float_dtype, normal
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "Embedding", "LayerNorm"]


def _positive_int(n: Any, what: str, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)


def _as_input(x: Any, dtype: np.dtype) -> Value:
    # Data becomes a constant of the module's dtype, as for Layer.
    return x if type(x) is Value else Value(x, dtype=dtype, requires_grad=False)  # x itself, read again


def _count_batch(count: np.ndarray) -> None:
    # One more batch tracked, in place; under autonet.compile an update of state every replay makes.
    if STATE.tracer is not None:
        STATE.tracer.call(_count_batch, count)
        return
    count += 1


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input dimensions they take."""

    _dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        who = type(self).__name__
        self.num_features = _positive_int(num_features, "num_features", who)
        self.eps = float(eps)
        if momentum is not None and not isinstance(momentum, numbers.Real):
            raise TypeError(f"{who}: momentum must be a number or None, got {type(momentum).__name__}")
        self.momentum = momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dtype = float_dtype(dtype, who)
        n = self.num_features
        self.weight = Value(np.ones(n, dtype=dtype)) if affine else None
        self.bias = Value(np.zeros(n, dtype=dtype)) if affine and bias else None
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(n, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(n, dtype=dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64) if tracked else None)
        self._dtype = dtype

    def _convert_dtype(self, dtype: np.dtype) -> None:
        super()._convert_dtype(dtype)
        self._dtype = dtype  # data inputs become constants of the new dtype

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked (in place)."""
        if self.running_mean is not None:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self._dtype)
        if x.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}: expected {dims} input, got shape {x.shape}")
        # Without running statistics a batch norm always uses the batch's, as PyTorch's.
        use_batch = self.training or self.running_mean is None
        momentum = 0.0 if self.momentum is None else float(self.momentum)
        if self.training and self.running_mean is not None:
            if self.momentum is None:  # a cumulative moving average
                if STATE.tracer is not None:
                    STATE.tracer.refuse(f"{type(self).__name__} with momentum=None (a factor the count sets)")
                momentum = 1.0 / float(self.num_batches_tracked + 1)
            _count_batch(self.num_batches_tracked)
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=use_batch,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel C, as ``torch.nn.BatchNorm1d``.

    Parameters ``weight`` (ones) and ``bias`` (zeros; none with ``bias=False``) when ``affine``;
    buffers ``running_mean``, ``running_var`` and ``num_batches_tracked`` when
    ``track_running_stats``. In training the
    batch's mean and biased variance normalise it, and the running statistics move towards the
    batch's (``momentum``; None: a cumulative average), the unbiased variance going into
    ``running_var``; in evaluation the running statistics normalise. Raises ValueError for an
    input of other dimensions, or one value per channel in training.

    >>> import numpy as np
    >>> from autonet.nn import BatchNorm1d
    >>> bn = BatchNorm1d(2)
    >>> bn(np.array([[1.0, 2.0], [3.0, 6.0]])).data.round(3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> bn.running_mean.tolist(), int(bn.num_batches_tracked)
    ([0.2, 0.4], 1)
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel C, as ``torch.nn.BatchNorm2d``.

    The same parameters, buffers and modes as ``BatchNorm1d``; statistics are taken over N, H, W.

    >>> import numpy as np
    >>> from autonet.nn import BatchNorm2d
    >>> bn = BatchNorm2d(3).eval()
    >>> bn(np.ones((2, 3, 4, 4))).shape
    (2, 3, 4, 4)
    """

    _dims = (4,)


class LayerNorm(Module):
    """Layer normalisation over the last axes (``normalized_shape``), as ``torch.nn.LayerNorm``.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of ``normalized_shape`` when
    ``elementwise_affine`` (``bias=False`` leaves the bias out). The same in training and
    evaluation. Raises ValueError for an input that does not end in ``normalized_shape``.

    >>> from autonet.nn import LayerNorm
    >>> LayerNorm(2)([[1.0, 3.0]]).data.round(3).tolist()
    [[-1.0, 1.0]]
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        shape = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        self.normalized_shape = tuple(_positive_int(n, "normalized_shape", "LayerNorm") for n in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = float_dtype(dtype, "LayerNorm")
        affine = self.elementwise_affine
        self.weight = Value(np.ones(self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = Value(np.zeros(self.normalized_shape, dtype=dtype)) if affine and bias else None
        self._dtype = dtype

    def _convert_dtype(self, dtype: np.dtype) -> None:
        super()._convert_dtype(dtype)
        self._dtype = dtype  # data inputs become constants of the new dtype

    def forward(self, x: Any) -> Value:
        x = _as_input(x, self._dtype)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the rest by 1 / (1 - p), as
    ``torch.nn.Dropout``; the identity in evaluation.

    The masks come from ``rng`` (a ``numpy.random.Generator``, an int seed or None), so a seeded
    module drops the same elements in every run. Raises ValueError for ``p`` outside [0, 1].

    >>> import numpy as np
    >>> from autonet.nn import Dropout
    >>> drop = Dropout(0.5, rng=0)
    >>> sorted(set(drop(np.ones(8)).tolist())), drop.eval()(np.ones(2)).tolist()
    ([0.0, 2.0], [1.0, 1.0])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng: RandomState = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.inplace = bool(inplace)  # PyTorch's argument, taken as ReLU's is: a new array all the same
        self._generator = as_generator(rng)

    def forward(self, x: Any) -> Value:
        return dropout(_as_input(x, np.dtype(np.float64)), self.p, self.training, self._generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of ``embedding_dim``, as ``torch.nn.Embedding``.

    The parameter ``weight`` (num_embeddings, embedding_dim) starts normal(0, 1) (from ``rng``),
    with the row ``padding_idx`` (if given) zero; that row gets no gradient. Calling the module
    with integer indices gives ``indices.shape + (embedding_dim,)``. Raises TypeError for
    non-integer indices and IndexError for one out of range.

    >>> from autonet.nn import Embedding
    >>> table = Embedding(10, 3, padding_idx=0, rng=0)
    >>> table([[0, 4], [4, 9]]).shape, table.weight.data[0].tolist()
    ((2, 2, 3), [0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        rng: RandomState = None,
        dtype: Any = None,
    ) -> None:
        self.num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"Embedding: padding_idx must be an int or None, got {padding_idx!r}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for {num_embeddings} embeddings"
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.padding_idx = padding_idx
        dtype = float_dtype(dtype, "Embedding")
        weight = normal((self.num_embeddings, self.embedding_dim), rng=as_generator(rng), dtype=dtype)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Value(weight)

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None, *, dtype: Any = None
    ) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, embedding_dim), frozen
        (``requires_grad=False``) unless ``freeze=False``: PyTorch's way to reuse trained vectors.

        >>> import numpy as np
        >>> from autonet.nn import Embedding
        >>> table = Embedding.from_pretrained(np.eye(3))
        >>> table([2]).tolist(), table.weight.requires_grad
        ([[0.0, 0.0, 1.0]], False)
        """
        array = np.array(embeddings.data if isinstance(embeddings, Value) else embeddings, dtype=dtype)
        if array.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape {array.shape}")
        table = cls(*array.shape, padding_idx=padding_idx, rng=0, dtype=float_dtype(array.dtype, "Embedding"))
        table.weight.data[...] = array  # the row padding_idx keeps the given vector, as PyTorch's
        table.weight.requires_grad = not freeze
        return table

    def forward(self, indices: Any) -> Value:
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
