"""Fused ops for training networks: the affine layer and the common losses.

Each of these could be composed from smaller ops, but one node instead of three to six cuts the
per-op Python cost that dominates small networks, and the fused vjps are also the numerically
stable ones: softmax minus one-hot for cross-entropy, sigmoid minus target for binary
cross-entropy from logits, and for binary cross-entropy of probabilities PyTorch's
(p - t) / max(p (1 - p), 1e-12), which keeps a saturated wrong prediction learning. The losses
reduce with ``reduction`` = ``"mean"`` (default), ``"sum"`` or ``"none"``; the mean of no
elements is nan, as in PyTorch.

A loss's jvp is the per-element derivative times the tangent, reduced as the loss is reduced
(``_tangent_of``); each takes the same conventions as the vjp beside it.

Integer class labels (``cross_entropy``) and +-1 labels (``hinge``) are parameters, not inputs:
they have no gradient. Each entry's ``cases.samples(rng, dtype)`` returns valid
``(inputs, params)`` cases for the gradient-check suite.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .cases import LINEAR
from .elementwise import _sigmoid_of
from .reduce import _needs_no_shift, _softmax
from .reduce import softmax as _softmax_op
from .registry import (
    PROBABILITY,
    REAL,
    Cases,
    Domain,
    Edge,
    Op,
    apply,
    gate,
    is_value,
    register,
    sum_rows,
    sum_to_shape,
)

_EMPTY = np.zeros(0)
_INF, _NAN = math.inf, math.nan

REDUCTIONS = ("mean", "sum", "none")

Samples = list[tuple[tuple[np.ndarray, ...], dict[str, Any]]]
# The samples include a batch of 0 too, where the loss is finite: summed (0) or per element (empty).
# The mean of no losses is nan, an edge each entry declares instead.
_EMPTY_BATCH: dict[str, list[tuple[int, ...]]] = {"mean": [], "sum": [(0,)], "none": [(0,)]}


def _checked(reduction: Any) -> str:
    # isinstance first: an array compared with "mean" would not give one truth value.
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _reduce(losses: np.ndarray, reduction: str) -> Any:
    reduction = _checked(reduction)
    if reduction == "mean":
        # The ufunc's own reduce, not ndarray.mean's Python wrapper: half the cost on a small batch.
        return np.add.reduce(losses, axis=None) / losses.size if losses.size else losses.dtype.type(_NAN)
    if reduction == "sum":
        return losses.sum()
    return losses


def _spread(g: Any, shape: tuple[int, ...], reduction: str) -> Any:
    """The output gradient as seen by each per-element loss of ``shape`` (before the reduction)."""
    if reduction == "mean":
        return g / max(math.prod(shape), 1)
    return g  # "sum" gives every element g; "none" already has the elements' shape


def _tangent_of(share: Any, shape: tuple[int, ...], reduction: str) -> Any:
    """A loss's output tangent from each element's share of it (broadcast to ``shape``): the
    shares reduced as the losses are."""
    return _reduce(np.broadcast_to(share, shape), reduction)


# Vjps run on arrays (or Python floats, for float64 scalars) in a plain backward, and on Values
# under create_graph=True. numpy has no sigmoid or softmax ufunc, so the helpers below pick the
# registered op for Values, which keeps the result differentiable.
def _softmax_last(x: Any) -> Any:
    return apply(_softmax_op, x, axis=-1) if is_value(x) else _softmax(x, axis=-1)


# --------------------------------------------------------------------------- linear


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = x @ w
    same = type(b) is np.ndarray and b.dtype == out.dtype and b.ndim <= out.ndim  # the common bias
    if not same and (np.result_type(out, b) != out.dtype or np.ndim(b) > out.ndim):
        return out + b  # a wider (or higher) bias widens the result, as numpy's + does
    out += b  # out is a fresh array: adding in place saves a temporary the size of the batch
    return out


def _product_gradient(g: Any, x: Any, w: Any, b: Any) -> Any:
    # A bias of more dimensions than x @ w broadcasts the product (a (0, 1) bias on one sample):
    # the product's share of g is g summed back to the product's shape.
    if getattr(b, "ndim", 0) <= 1:  # (nout,), (1,) or a number: g has the product's shape
        return g
    shape = (*x.shape[:-1], w.shape[1])
    return g if g.shape == shape else sum_to_shape(g, shape)


def _linear_vjp_w(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    # Methods, not np.reshape/np.shape: arrays and Values both have them, and numpy's function
    # wrappers cost more than the product itself on a small layer.
    g = _product_gradient(g, x, w, b)
    if x.ndim == 2:
        return x.T @ g
    # Fold every leading (batch) axis into one, so 1-d samples and n-d batches share one product.
    nin, nout = w.shape
    return x.reshape(-1, nin).T @ g.reshape(-1, nout)


def _linear_vjp_b(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    if g.ndim == 1 or getattr(b, "shape", ()) != w.shape[1:]:
        # A bias of another shape than (out,): the engine's broadcasting helper sums g to it.
        return g
    if g.ndim == 2:
        return sum_rows(g) if type(g) is np.ndarray else g.sum(axis=0)
    return g.reshape(-1, w.shape[1]).sum(axis=0)


def _linear_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for batch in [(), (3,), (2, 3)]:
        x = rng.uniform(-2, 2, (*batch, 4)).astype(dtype)
        w = rng.uniform(-2, 2, (4, 5)).astype(dtype)
        b = rng.uniform(-2, 2, (5,)).astype(dtype)
        cases.append(((x, w, b), {}))
    return cases


_LINEAR_EDGES = (
    Edge(
        "a batch of 0",
        (np.zeros((0, 2)), np.ones((2, 3)), np.ones(3)),
        grads=(np.zeros((0, 2)), np.zeros((2, 3)), np.zeros(3)),
        value=np.zeros((0, 3)),
    ),
    Edge(
        "x w = 1e300 against b = -1e300",
        ([1e300], [[1.0]], [-1e300]),
        grads=([1.0], [[1e300]], [1.0]),
        value=[0.0],
    ),
    Edge("0-d x", (2.0, [[1.0]], [0.0]), raises=ValueError, note="torch raises too"),
)


linear = register(
    Op(
        "linear",
        _linear,
        (
            lambda g, out, x, w, b: _product_gradient(g, x, w, b) @ w.T,
            _linear_vjp_w,
            _linear_vjp_b,
        ),
        (REAL, REAL, REAL),
        jvps=(
            lambda t, out, x, w, b: t @ w,
            lambda t, out, x, w, b: x @ t,
            lambda t, out, x, w, b: t,  # the engine broadcasts it to the output's shape
        ),
        cases=replace(LINEAR, samples=_linear_samples),
        doc="x @ w + b in one node: x (..., nin) or (nin,), w (nin, nout), b (nout,).",
        edges=_LINEAR_EDGES,
    )
)


# --------------------------------------------------------------------------- cross-entropy


def class_labels(
    target: Any, shape: tuple[int, ...], ignore_index: int = -100, what: str = "the logits"
) -> tuple[np.ndarray, Any]:
    """Class labels checked against scores of ``shape`` (..., classes), and which of them count:
    integers in [0, classes) or ``ignore_index``, one per row (numpy would quietly wrap -1 to the
    last class and broadcast a short label array). Returns ``(labels, kept)``: ``kept`` is None
    when every label counts, else a mask of those that do, with the ignored labels replaced by
    class 0. ``what`` names the scores in the errors.

    >>> class_labels(np.array([2, -100]), (2, 3))[0].tolist()
    [2, 0]
    """
    target = np.asarray(target)
    if not shape:
        raise ValueError(f"{what} need a class axis, got a 0-d input")
    kind = target.dtype.kind
    if kind not in "iu":
        raise TypeError(f"target must hold integer class labels, got dtype {target.dtype}")
    if target.shape != shape[:-1]:
        raise ValueError(f"target has shape {target.shape}, {what} {shape} need {shape[:-1]}")
    classes = shape[-1]
    # One reduction checks both ends: read as unsigned, a negative label is larger than any class.
    # PyTorch's ignore_index of -100 is no class, so it shows up there too; one that is a class
    # (0 <= ignore_index < classes) has to be looked for.
    unsigned = target.view(f"u{target.dtype.itemsize}") if kind == "i" else target
    if not (target.size and np.maximum.reduce(unsigned, axis=None) >= classes) and not (
        0 <= ignore_index < classes
    ):
        return target, None
    kept = target != ignore_index
    bad = kept & ((target < 0) | (target >= classes))
    if bad.any():
        raise ValueError(
            f"target holds class {target[bad].flat[0]}, but {what} have {classes} classes "
            f"(0 to {classes - 1}) and ignore_index is {ignore_index}"
        )
    return np.where(kept, target, 0), kept


def class_weights(weight: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray | None:
    """Per-class weights for scores of ``shape`` (..., classes), as ``dtype``, checked to give
    one per class; None stays None.

    >>> class_weights([1, 2], (4, 2), np.float32).dtype
    dtype('float32')
    """
    if weight is None:
        return None
    weight = np.array(weight, dtype=dtype)  # a copy: the caller may reuse theirs before the backward
    if weight.shape != shape[-1:]:
        raise ValueError(f"weight has shape {weight.shape}, scores of shape {shape} need one per class")
    return weight


def _flat_picks(target: np.ndarray, classes: int) -> np.ndarray:
    """Where each label's logit sits in the flattened logits: row * classes + label."""
    return _row_starts(target.size, classes) + target.reshape(-1)


@functools.lru_cache(maxsize=16)
def _row_starts(rows: int, classes: int) -> np.ndarray:
    starts = np.arange(rows) * classes  # (not arange's step: classes may be 0 in an empty batch)
    starts.flags.writeable = False
    return starts


def _exp_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """``exp(x - shift)``, its sums over the last axis (kept), and the shift: 0 when the logits
    are small enough, else the row maxima (0 where a maximum is infinite), as logsumexp does."""
    if _needs_no_shift(x):  # small logits: exp cannot overflow, so no row maxima to find
        shift: Any = 0.0
        e = np.exp(x)
    else:
        # initial: rows of no classes (logits (0, 0)) have no maximum; -inf, then 0, shifts them.
        shift = np.maximum.reduce(x, axis=-1, keepdims=True, initial=-_INF)
        shift = np.where(np.isfinite(shift), shift, 0)
        e = np.exp(x - shift)
    if e.ndim == 2:
        # Row sums as a product with ones (BLAS): a fraction of numpy's reduction along a short axis.
        return e, sum_rows(e.T)[:, None], shift
    return e, np.add.reduce(e, axis=-1, keepdims=True), shift


class _Terms:
    """What weights, ignored labels and label smoothing add to a cross-entropy (PyTorch's
    definitions): each row's loss is ``(1 - s) w[y] (lse - x[y]) + s / C sum_c w[c] (lse -
    x[c])``, 0 for an ignored row, and the mean divides the sum by the kept rows' ``w[y]``."""

    __slots__ = ("kept", "picked_weight", "smoothing", "total", "weight")

    def __init__(self, kept: Any, labels: np.ndarray, weight: Any, smoothing: float, dtype: Any) -> None:
        self.kept, self.weight, self.smoothing = kept, weight, float(smoothing)
        self.picked_weight = None if weight is None else weight[labels]
        if self.picked_weight is not None and kept is not None:
            self.picked_weight = np.where(kept, self.picked_weight, 0)
        if self.picked_weight is not None:
            self.total = np.add.reduce(self.picked_weight, axis=None, dtype=dtype)
        else:
            self.total = np.asarray(labels.size if kept is None else np.count_nonzero(kept), dtype)[()]

    def spread(self, g: Any, reduction: str) -> Any:
        """The output gradient as seen by each row's loss: ``g`` over the total of a mean."""
        if reduction != "mean":
            return g
        with np.errstate(divide="ignore", invalid="ignore"):  # nothing kept: g / 0
            return g / self.total

    def losses(self, nll: np.ndarray, x: np.ndarray, lse: np.ndarray) -> np.ndarray:
        """The rows' losses from their plain ones ``nll`` and the rows' ``lse`` (kept axis)."""
        if self.picked_weight is not None:
            nll = nll * self.picked_weight
        if self.smoothing:
            spread = lse - x  # each class's own -log p
            spread = spread @ self.weight if self.weight is not None else np.add.reduce(spread, axis=-1)
            nll = (1 - self.smoothing) * nll + (self.smoothing / x.shape[-1]) * spread
        return nll if self.kept is None else np.where(self.kept, nll, 0)

    def reduced(self, losses: np.ndarray, reduction: str) -> Any:
        if reduction != "mean":
            return _reduce(losses, reduction)
        with np.errstate(divide="ignore", invalid="ignore"):  # nothing kept: nan, as in PyTorch
            return np.divide(np.add.reduce(losses, axis=None), self.total, dtype=losses.dtype)

    def gradient(self, softmax: Any, one_hot: Any, g: Any) -> Any:
        """The logits' gradient from the softmax, the labels' one-hot rows and the rows' ``g``."""
        grad = softmax - one_hot
        if self.picked_weight is not None:
            grad = grad * self.picked_weight[..., None]
        if self.kept is not None:
            # g of 0 for the ignored rows first: a g of inf (nothing kept) meets no 0 there, so
            # neither this gradient nor one of it (create_graph) can hold inf * 0.
            g = gate(g, self.kept[..., None])
        with np.errstate(invalid="ignore"):  # 0 * inf where the kept rows weigh nothing: nan, as torch
            grad = grad * g
            if self.smoothing:
                classes = np.shape(softmax)[-1]
                weight = self.weight if self.weight is not None else 1.0
                total = self.weight.sum() if self.weight is not None else classes
                spread = (softmax * total - weight) * g
                grad = (1 - self.smoothing) * grad + (self.smoothing / classes) * spread
        # An ignored row has no influence: exactly 0, even where g is infinite (nothing kept).
        return grad if self.kept is None else gate(grad, self.kept[..., None])


def _terms(
    x: Any, target: Any, weight: Any, ignore_index: int, label_smoothing: float
) -> tuple[np.ndarray, _Terms | None]:
    """The checked labels, and the extra terms of the loss (None for the plain cross-entropy)."""
    labels, kept = class_labels(target, x.shape, ignore_index)
    weight = class_weights(weight, x.shape, x.dtype)
    if kept is None and weight is None and not label_smoothing:
        return labels, None
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    return labels, _Terms(kept, labels, weight, label_smoothing, np.result_type(x))


def _cross_entropy(
    x: np.ndarray,
    target: np.ndarray,
    reduction: str = "mean",
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Any:
    target, terms = _terms(x, target, weight, ignore_index, label_smoothing)
    picks = _flat_picks(target, x.shape[-1])
    picked = x.reshape(-1)[picks].reshape(target.shape)
    # logsumexp, shifted by the row maximum when the logits are large (1000 gives a finite loss).
    exp, sums, shift = _exp_rows(x)
    losses = np.log(sums[..., 0])
    # log(sum) - (picked - shift), not log(sum) + shift - picked: at logits [1e300, 1e300] the
    # shift and the picked logit cancel exactly, and the log 2 survives.
    losses -= picked if type(shift) is float else picked - shift[..., 0]
    # Saved for the vjp (Op.saves), whose gradient is softmax - one-hot: the softmax is divided
    # out there, into the gradient's own array, so a forward without a backward never pays it.
    if terms is None:
        return _reduce(losses, reduction), (exp, sums, picks)
    lse = np.log(sums) + shift
    return terms.reduced(terms.losses(losses, x, lse), reduction), (exp, sums, picks, terms)


def _cross_entropy_vjp(
    g: Any,
    out: Any,
    x: Any,
    target: np.ndarray,
    reduction: str = "mean",
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    saved: Any = None,
) -> Any:
    if saved is None:
        labels, terms = _terms(x, target, weight, ignore_index, label_smoothing)
    else:  # what the forward saw: the caller may have changed target or weight since
        terms = saved[3] if len(saved) > 3 else None  # the extra terms follow the softmax's parts
    g = _spread(g, x.shape[:-1], reduction) if terms is None else terms.spread(g, reduction)
    if reduction == "none":
        g = np.expand_dims(g, -1)
    if is_value(x):
        if saved is not None:  # the labels the forward saw, from where it picked their logits
            labels = (saved[2] - _row_starts(saved[2].size, x.shape[-1])).reshape(x.shape[:-1])
        one_hot = (labels[..., None] == np.arange(np.shape(x)[-1])).astype(x.dtype)
        if terms is None:
            return (_softmax_last(x) - one_hot) * g
        return terms.gradient(_softmax_last(x), one_hot, g)
    if saved is None:
        saved = (*_exp_rows(x)[:2], _flat_picks(labels, x.shape[-1]))
    exp, sums, picks = saved[:3]
    if terms is not None:
        one_hot = np.zeros(x.shape, x.dtype)
        one_hot.reshape(-1)[picks] = 1
        return terms.gradient(exp / sums, one_hot, g)
    # A new array (a retained graph may need the saved parts again), laid out in C order: exp
    # keeps the layout of logits that are a transposed view, and then reshape(-1) would be a
    # copy, which the subtraction below would go into instead of the gradient.
    grad = np.divide(exp, sums, order="C")
    # Each row is hit once, so plain fancy indexing is exact (and far cheaper than subtract.at).
    flat = grad.reshape(-1)
    flat[picks] -= 1
    grad *= g
    return grad


def _cross_entropy_jvp(
    t: Any,
    out: Any,
    x: Any,
    target: np.ndarray,
    reduction: str = "mean",
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    saved: Any = None,
) -> Any:
    labels, terms = _terms(np.asarray(x), target, weight, ignore_index, label_smoothing)
    exp, sums = saved[:2] if saved is not None else _exp_rows(np.asarray(x))[:2]
    one_hot = labels[..., None] == np.arange(np.shape(x)[-1])
    if terms is None:
        return _tangent_of(np.sum(t * (exp / sums - one_hot), axis=-1), np.shape(x)[:-1], reduction)
    # The reverse-mode gradient of an upstream 1, spread as the reduction spreads it, so that an
    # ignored row adds exactly 0 even when no row is kept (J = 0 then, not 0 / 0).
    grad = terms.gradient(
        exp / sums, one_hot, terms.spread(np.asarray(1.0, np.result_type(x))[()], reduction)
    )
    if reduction == "none":
        return np.broadcast_to(np.sum(t * grad, axis=-1), np.shape(x)[:-1])
    return np.sum(t * grad, axis=None)


def _class_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for reduction in REDUCTIONS:
        for batch in [(), (4,)] + _EMPTY_BATCH[reduction]:
            x = rng.uniform(-3, 3, (*batch, 3)).astype(dtype)
            target = rng.integers(0, 3, batch)
            cases.append(((x,), {"target": target, "reduction": reduction}))
        # PyTorch's options: class weights, ignored labels (-100, or a class), label smoothing.
        x = rng.uniform(-3, 3, (2, 3, 4)).astype(dtype)
        target = rng.integers(0, 4, (2, 3))
        padded = np.where(rng.random((2, 3)) < 0.3, -100, target)
        weight = rng.uniform(0.5, 2, 4)
        options = [
            (target, {"weight": weight}),
            (padded, {}),  # the -100s are ignored
            (target, {"ignore_index": int(target[1, 0])}),
            (padded, {"label_smoothing": 0.3}),
            (target, {"weight": weight, "label_smoothing": 0.1, "ignore_index": int(target[1, 2])}),
        ]
        cases += [((x,), {"target": t, "reduction": reduction, **option}) for t, option in options]
    return cases


cross_entropy = register(
    Op(
        "cross_entropy",
        _cross_entropy,
        (_cross_entropy_vjp,),
        (REAL,),
        jvps=(_cross_entropy_jvp,),
        cases=Cases("loss", samples=_class_samples),
        saves=True,
        doc=(
            "Softmax cross-entropy of logits x (..., classes) against integer labels target (...), "
            "stable for large logits; its vjp is (softmax(x) - one_hot(target)) * g. PyTorch's "
            "weight (one per class), ignore_index (-100) and label_smoothing, with its means."
        ),
        edges=(
            Edge(
                "a batch of 0",
                (np.zeros((0, 3)),),
                grads=(np.zeros((0, 3)),),
                params={"target": np.zeros(0, dtype=np.intp)},
                value=_NAN,
                note="the mean of no losses",
            ),
            Edge(
                "a batch of 0, summed",
                (np.zeros((0, 3)),),
                grads=(np.zeros((0, 3)),),
                params={"target": np.zeros(0, dtype=np.intp), "reduction": "sum"},
                value=0.0,
            ),
            Edge(
                "a batch of 0 with no classes, summed",
                (np.zeros((0, 0)),),
                grads=(np.zeros((0, 0)),),
                params={"target": np.zeros(0, dtype=np.intp), "reduction": "sum"},
                value=0.0,
            ),
            Edge(
                "logits 1e300, 1e300 (a tie)",
                ([[1e300, 1e300]],),
                grads=([[-0.5, 0.5]],),
                params={"target": np.array([0])},
                value=math.log(2),
            ),
            Edge(
                "saturated and wrong",
                ([[1e300, -1e300]],),
                grads=([[1.0, -1.0]],),
                params={"target": np.array([1])},
                value=2e300,
            ),
            Edge(
                "one sample: 1-d logits",
                ([0.0, 0.0],),
                grads=([-0.5, 0.5],),
                params={"target": np.array(0)},
                value=math.log(2),
            ),
            Edge(
                "0-d logits",
                (0.0,),
                params={"target": np.array(0)},
                raises=ValueError,
                note="torch raises too",
            ),
            Edge(
                "every label ignored",
                ([[1.0, 2.0], [0.0, 0.0]],),
                grads=([[0.0, 0.0], [0.0, 0.0]],),
                params={"target": np.array([-100, -100])},
                value=_NAN,
                note="the mean of no losses",
            ),
            Edge(
                "every label ignored, summed",
                ([[1.0, 2.0]],),
                grads=([[0.0, 0.0]],),
                params={"target": np.array([-100]), "reduction": "sum"},
                value=0.0,
            ),
            Edge(
                "weights of 0 for every label",
                ([[0.0, 0.0]],),
                grads=([[_NAN, _NAN]],),
                params={"target": np.array([0]), "weight": np.array([0.0, 1.0])},
                value=_NAN,
                note="0 / 0, as in torch",
            ),
            Edge(
                "full label smoothing",
                ([[0.0, 0.0]],),
                grads=([[0.0, 0.0]],),
                params={"target": np.array([0]), "label_smoothing": 1.0},
                value=math.log(2),
            ),
        ),
    )
)


# --------------------------------------------------------------------------- binary cross-entropy

_HUGE = [1e300, -1e300]


def _bce_with_logits(x: np.ndarray, t: np.ndarray, reduction: str = "mean") -> Any:
    # log(1 + e**x) - t*x, rewritten so that exp never sees a positive argument, with the linear
    # part as max(x, 0) (1 - t) - min(x, 0) t: at x = inf and t = 0 the loss is inf, where
    # max(x, 0) - t x would be inf - inf.
    losses = np.maximum(x, 0) * (1 - t) - np.minimum(x, 0) * t + np.log1p(np.exp(-np.abs(x)))
    return _reduce(losses, reduction)


def _scalar_bce_with_logits(x: float, t: float, reduction: str = "mean") -> float:
    _checked(reduction)
    return max(x, 0.0) * (1.0 - t) - min(x, 0.0) * t + math.log1p(math.exp(-abs(x)))


def _pair_shape(a: Any, b: Any) -> tuple[int, ...]:
    return np.broadcast_shapes(np.shape(a), np.shape(b))


def _pair_samples(low: float, high: float) -> Callable[[np.random.Generator, Any], Samples]:
    def samples(rng: np.random.Generator, dtype: Any) -> Samples:
        cases = []
        for reduction in REDUCTIONS:
            for shape in [(), (4,), (2, 3)] + _EMPTY_BATCH[reduction]:
                x = rng.uniform(-3, 3, shape).astype(dtype)
                t = rng.uniform(low, high, shape).astype(dtype)
                cases.append(((x, t), {"reduction": reduction}))
        return cases

    return samples


bce_with_logits = register(
    Op(
        "bce_with_logits",
        _bce_with_logits,
        (
            lambda g, out, x, t, reduction="mean": (
                (_sigmoid_of(x) - t) * _spread(g, _pair_shape(x, t), reduction)
            ),
            # Broadcast to the pair's shape: with a reduction, g is a scalar and -x alone would
            # have x's shape, which the engine cannot sum back to a broadcast target's shape.
            lambda g, out, x, t, reduction="mean": np.broadcast_to(
                -x * _spread(g, _pair_shape(x, t), reduction), _pair_shape(x, t)
            ),
        ),
        (REAL, Domain(0.0, 1.0, bounds=(0.0, 1.0))),
        jvps=(
            lambda dx, out, x, t, reduction="mean": _tangent_of(
                (_sigmoid_of(x) - t) * dx, _pair_shape(x, t), reduction
            ),
            lambda dt, out, x, t, reduction="mean": _tangent_of(-x * dt, _pair_shape(x, t), reduction),
        ),
        cases=Cases("loss", samples=_pair_samples(0.0, 1.0)),
        scalar=_scalar_bce_with_logits,
        doc=(
            "Binary cross-entropy of logits x against targets t in [0, 1]: softplus(x) - t*x, "
            "stable for any x; its vjp is (sigmoid(x) - t) * g."
        ),
        edges=(
            Edge(
                "x = +-1e300, saturated and wrong",
                (_HUGE, [0.0, 1.0]),
                grads=([0.5, -0.5], [-5e299, 5e299]),
                value=1e300,
            ),
            Edge("x = inf against t = 0", ([_INF], [0.0]), grads=([1.0], [-_INF]), value=_INF),
            Edge("size-0 inputs", (_EMPTY, _EMPTY), grads=(_EMPTY, _EMPTY), value=_NAN),
            Edge("0-d inputs", (0.0, 1.0), grads=(-0.5, 0.0), value=math.log(2)),
        ),
    )
)


# --------------------------------------------------------------------------- bce of probabilities

# PyTorch's constants: each log term is clamped at -100, and the gradient's denominator p (1 - p)
# at 1e-12, so a prediction clipped to 0 or 1 costs 100 and still has a gradient to learn from.
_LOG_FLOOR = -100.0
_BCE_EPS = 1e-12


def _bce(p: np.ndarray, t: np.ndarray, reduction: str = "mean") -> Any:
    with np.errstate(divide="ignore"):  # log 0 = -inf is what the clamp is for
        log_p = np.maximum(np.log(p), _LOG_FLOOR)
        log_q = np.maximum(np.log1p(-p), _LOG_FLOOR)
    return _reduce(-(t * log_p + (1 - t) * log_q), reduction)


def _bce_vjp_p(g: Any, out: Any, p: Any, t: Any, reduction: str = "mean") -> Any:
    # Not the derivative of the clamped forward (0 where the clamp holds): (p - t) / p (1 - p) with
    # the denominator kept from 0, as in PyTorch, so that a saturated wrong prediction recovers.
    return (p - t) / np.maximum(p * (1 - p), _BCE_EPS) * _spread(g, _pair_shape(p, t), reduction)


def _bce_vjp_t(g: Any, out: Any, p: Any, t: Any, reduction: str = "mean") -> Any:
    # log(1 - p) - log(p), unclamped as in PyTorch: +-inf at a saturated prediction. Broadcast to
    # the pair's shape, as for bce_with_logits.
    logit = np.log(1 - p) - np.log(p)
    return np.broadcast_to(logit * _spread(g, _pair_shape(p, t), reduction), _pair_shape(p, t))


def _bce_jvp_p(dp: Any, out: Any, p: Any, t: Any, reduction: str = "mean") -> Any:
    # The vjp's derivative (p - t) / max(p (1 - p), 1e-12), not the clamped forward's.
    return _tangent_of((p - t) / np.maximum(p * (1 - p), _BCE_EPS) * dp, _pair_shape(p, t), reduction)


def _bce_jvp_t(dt: Any, out: Any, p: Any, t: Any, reduction: str = "mean") -> Any:
    return _tangent_of((np.log(1 - p) - np.log(p)) * dt, _pair_shape(p, t), reduction)


def _probability_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for reduction in REDUCTIONS:
        for shape in [(), (4,), (2, 3)] + _EMPTY_BATCH[reduction]:
            p = rng.uniform(PROBABILITY.low, PROBABILITY.high, shape).astype(dtype)
            t = rng.uniform(0.0, 1.0, shape).astype(dtype)
            cases.append(((p, t), {"reduction": reduction}))
    return cases


binary_cross_entropy = register(
    Op(
        "binary_cross_entropy",
        _bce,
        (_bce_vjp_p, _bce_vjp_t),
        (PROBABILITY, Domain(0.0, 1.0, bounds=(0.0, 1.0))),
        jvps=(_bce_jvp_p, _bce_jvp_t),
        cases=Cases("loss", samples=_probability_samples),
        doc=(
            "Binary cross-entropy -(t log p + (1 - t) log(1 - p)) of probabilities p against targets t, "
            "each log clamped at -100; its vjp is (p - t) / max(p (1 - p), 1e-12) * g, as in PyTorch."
        ),
        edges=(
            Edge(
                "p = 0, t = 1 (saturated and wrong)",
                ([0.0], [1.0]),
                grads=([-1e12], [_INF]),
                value=100.0,
                note="torch's 1e-12 is a float32 constant: its gradient is -1.000000004e12",
            ),
            Edge("p = 1, t = 0 (saturated and wrong)", ([1.0], [0.0]), grads=([1e12], [-_INF]), value=100.0),
            Edge("p = 0, t = 0 (saturated and right)", ([0.0], [0.0]), grads=([0.0], [_INF]), value=0.0),
            Edge("size-0 inputs", (_EMPTY, _EMPTY), grads=(_EMPTY, _EMPTY), value=_NAN),
            Edge("0-d inputs", (0.5, 1.0), grads=(-2.0, 0.0), value=math.log(2)),
        ),
    )
)


# --------------------------------------------------------------------------- squared error


def _mse(a: np.ndarray, b: np.ndarray, reduction: str = "mean") -> Any:
    diff = a - b
    diff *= diff
    return _reduce(diff, reduction)


def _scalar_mse(a: float, b: float, reduction: str = "mean") -> float:
    _checked(reduction)
    return (a - b) * (a - b)


def _mse_vjp(g: Any, out: Any, a: Any, b: Any, reduction: str = "mean") -> Any:
    return (a - b) * (2 * _spread(g, _pair_shape(a, b), reduction))


mse = register(
    Op(
        "mse",
        _mse,
        (_mse_vjp, lambda g, out, a, b, reduction="mean": -_mse_vjp(g, out, a, b, reduction)),
        (REAL, REAL),
        jvps=(
            lambda da, out, a, b, reduction="mean": _tangent_of(
                2 * (a - b) * da, _pair_shape(a, b), reduction
            ),
            lambda db, out, a, b, reduction="mean": _tangent_of(
                -2 * (a - b) * db, _pair_shape(a, b), reduction
            ),
        ),
        cases=Cases("loss", samples=_pair_samples(-3.0, 3.0)),
        scalar=_scalar_mse,
        doc="Squared error (a - b)**2 of prediction a and target b, reduced.",
        edges=(
            Edge("a = b (the minimum)", ([1.0, 1.0], [1.0, 1.0]), grads=([0.0, 0.0], [0.0, 0.0]), value=0.0),
            Edge("a = 1e150, b = -1e150", (1e150, -1e150), grads=(4e150, -4e150), value=4e300),
            Edge("size-0 inputs", (_EMPTY, _EMPTY), grads=(_EMPTY, _EMPTY), value=_NAN),
        ),
    )
)


# --------------------------------------------------------------------------- hinge


def _hinge(x: np.ndarray, target: np.ndarray, reduction: str = "mean") -> Any:
    dtype = np.asarray(target).dtype
    if dtype.kind not in "biuf":  # a complex, object or string target would only fail in backward
        raise TypeError(f"target must hold real numbers (labels -1 and +1), got dtype {dtype}")
    return _reduce(np.maximum(1 - target * x, 0), reduction)


def _hinge_vjp(g: Any, out: Any, x: Any, target: np.ndarray, reduction: str = "mean") -> Any:
    # The margin 1 - y*x is active where it is positive (gradient 0 exactly at the kink, as relu);
    # elsewhere the loss does not depend on x, so the gradient is exactly 0 (gate).
    active = (1 - target * np.asarray(x)) > 0
    return gate(-target * _spread(g, _pair_shape(x, target), reduction), active)


def _hinge_jvp(dx: Any, out: Any, x: Any, target: np.ndarray, reduction: str = "mean") -> Any:
    active = (1 - target * np.asarray(x)) > 0
    return _tangent_of(gate(-target * dx, active), _pair_shape(x, target), reduction)


def _hinge_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for reduction in REDUCTIONS:
        for shape in [(), (5,), (4, 1)] + _EMPTY_BATCH[reduction]:
            x = rng.uniform(-3, 3, shape)
            # Keep scores away from the kinks at +-1, where the one-sided derivatives differ.
            x = np.where(np.abs(np.abs(x) - 1) < 0.1, x + 0.3, x).astype(dtype)
            target = rng.choice([-1.0, 1.0], shape).astype(dtype)
            cases.append(((x,), {"target": target, "reduction": reduction}))
    return cases


hinge = register(
    Op(
        "hinge",
        _hinge,
        (_hinge_vjp,),
        (Domain(-3.0, 3.0, avoid=(-1.0, 1.0), margin=0.1),),
        jvps=(_hinge_jvp,),
        cases=Cases("loss", samples=_hinge_samples),
        smooth=False,
        doc="Max-margin loss max(0, 1 - y*x) of scores x against labels y = target in {-1, +1}.",
        edges=(
            Edge("y x = 1 (kink)", ([1.0],), grads=([0.0],), params={"target": np.array([1.0])}, value=0.0),
            Edge(
                "y x > 1 (flat)",
                ([2.0, -3.0],),
                grads=([0.0, 0.0],),
                params={"target": np.array([1.0, -1.0])},
                value=0.0,
                flat=(0,),
            ),
            Edge(
                "x = -1e300, y = 1",
                ([-1e300],),
                grads=([-1.0],),
                params={"target": np.array([1.0])},
                value=1e300,
            ),
            Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), params={"target": _EMPTY}, value=_NAN),
            Edge("0-d input", (0.0,), grads=(-1.0,), params={"target": np.array(1.0)}, value=1.0),
        ),
    )
)
