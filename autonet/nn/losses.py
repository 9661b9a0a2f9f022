"""Loss functions: mean squared error, binary and categorical cross-entropy, hinge.

Each takes the model's output and the targets and returns a Value: the mean over the samples
(``reduction="mean"``, the default), their sum (``"sum"``) or one loss per sample (``"none"``).
The common ones run as one fused op with a stable vjp (``autonet/ops/loss.py``).

Targets are data: numbers and arrays become constants of the prediction's dtype. A prediction
of shape ``(n, 1)`` and targets of shape ``(n,)`` are matched element by element (the usual
shape of a one-output network against a label vector), never broadcast to ``(n, n)``. A target
Value that requires grad is differentiated where the loss has a gradient for it (mse, binary
cross-entropy, soft labels); discrete labels (class indices, hinge's -1/+1) have none, so such a
target is refused rather than given a silent zero gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Value
from ..ops import loss as _fused
from ..ops.registry import fresh_array
from ..storage import stored_data
from ..surface import apply
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "MSELoss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "mse_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, who: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _as_prediction(x: Any, who: str) -> Value:
    if isinstance(x, Value):
        return x
    try:
        return Value(x, requires_grad=False)
    except TypeError as error:
        raise TypeError(f"{who}: the prediction must be a Value or an array of numbers; {error}") from None


def _as_target(target: Any, prediction: Value, who: str) -> Value:
    """The target as a Value of the prediction's shape (a constant unless it is a Value already)."""
    if isinstance(target, Value):
        value = target
    else:
        try:  # Value converts the target itself, so that a compiled step reads each new one
            value = Value(target, dtype=prediction.dtype, requires_grad=False)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{who}: the target must be numbers or an array of numbers; {error}") from None
    return _match_shape(value, prediction.shape, who)


def _labels_of(target: Any, who: str, what: str) -> Any:
    """The raw labels of a target; a Value that requires grad is refused: labels have no gradient."""
    if not isinstance(target, Value):
        return target
    if target.requires_grad:
        raise ValueError(
            f"{who}: the target requires grad, but {what} have no gradient (it would silently stay 0); "
            "pass target.detach(), or build it with requires_grad=False"
        )
    return target.data


def _match_shape(target: Any, shape: tuple[int, ...], who: str) -> Any:
    """``target`` reshaped to ``shape`` when they differ only by axes of length 1, else as it is
    if it broadcasts harmlessly (a scalar), else a ValueError naming both shapes."""
    target_shape = np.shape(target)
    if target_shape == shape or target_shape == ():
        return target
    if np.prod(target_shape) == np.prod(shape) and [n for n in target_shape if n != 1] == [
        n for n in shape if n != 1
    ]:
        return target.reshape(shape)
    raise ValueError(
        f"{who}: prediction shape {shape} and target shape {target_shape} do not match; "
        "give one target per prediction (same shape)"
    )


def mse_loss(prediction: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean squared error: the mean (or sum, or each) of ``(prediction - target) ** 2``.

    >>> from autonet import Value
    >>> mse_loss(Value([1.0, 2.0]), [1.0, 4.0]).item()
    2.0
    """
    _check_reduction(reduction, "mse_loss")
    prediction = _as_prediction(prediction, "mse_loss")
    target = _as_target(target, prediction, "mse_loss")
    return apply(_fused.mse, prediction, target, reduction=reduction)


def l1_loss(prediction: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean absolute error: the mean (or sum, or each) of ``|prediction - target|``; the
    gradient is 0 where they are equal, as PyTorch's.

    >>> from autonet import Value
    >>> l1_loss(Value([1.0, 2.0]), [1.0, 4.0]).item()
    1.0
    """
    _check_reduction(reduction, "l1_loss")
    prediction = _as_prediction(prediction, "l1_loss")
    return _reduce((prediction - _as_target(target, prediction, "l1_loss")).abs(), reduction)


def huber_loss(prediction: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Value:
    """Huber's loss of the difference ``d = prediction - target``: ``d**2 / 2`` where ``|d| <
    delta``, else ``delta * (|d| - delta / 2)`` (``torch.nn.functional.huber_loss``).

    Built as ``min(|d|, delta)**2 / 2 + delta * relu(|d| - delta)`` from registered ops (no mask
    computed in numpy), which gives PyTorch's gradient at ``|d| = delta`` too: ``delta * sign(d)``.

    >>> from autonet import Value
    >>> huber_loss(Value([0.5, 3.0]), [0.0, 0.0], reduction="none").tolist()
    [0.125, 2.5]
    """
    who = "huber_loss"
    _check_reduction(reduction, who)
    if not delta > 0:
        raise ValueError(f"{who}: delta must be > 0, got {delta}")
    prediction = _as_prediction(prediction, who)
    size = (prediction - _as_target(target, prediction, who)).abs()
    return _reduce(0.5 * size.clip(high=delta) ** 2 + delta * (size - delta).relu(), reduction)


def smooth_l1_loss(prediction: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Value:
    """The smooth L1 loss: ``d**2 / (2 beta)`` where ``|d| < beta``, else ``|d| - beta / 2``
    (``torch.nn.functional.smooth_l1_loss``): ``huber_loss / beta``, and ``l1_loss`` for beta 0.

    >>> from autonet import Value
    >>> smooth_l1_loss(Value([0.5, 3.0]), [0.0, 0.0], reduction="none").tolist()
    [0.125, 2.5]
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(prediction, target, reduction)
    return huber_loss(prediction, target, reduction, beta) / beta


def nll_loss(
    log_probabilities: Any,
    target: Any,
    reduction: str = "mean",
    *,
    weight: Any = None,
    ignore_index: int = -100,
) -> Value:
    """The negative log-likelihood of class indices ``target`` (...) under log-probabilities
    (..., classes), such as ``log_softmax``'s: ``-log_probabilities[target]``, PyTorch's
    ``weight`` and ``ignore_index`` as in ``cross_entropy`` (the mean divides by the kept
    samples' weights). ``cross_entropy(x, y)`` is ``nll_loss(x.log_softmax(), y)`` in one op.

    >>> import numpy as np
    >>> from autonet import Value
    >>> round(nll_loss(Value(np.log([[0.5, 0.5], [0.9, 0.1]])), [1, 0]).item(), 4)
    0.3993
    """
    who = "nll_loss"
    _check_reduction(reduction, who)
    log_p = _as_prediction(log_probabilities, who)
    shape = log_p.shape
    if not shape:
        raise ValueError(f"{who}: log-probabilities need a class axis (the last), got a scalar")
    # Made from the labels afresh in every call, compiled or not (ops.registry.fresh_array).
    picks, counted = fresh_array(_nll_picks, target, shape, weight, ignore_index, log_p.dtype)
    losses = -(log_p.reshape(-1)[picks] * counted).reshape(shape[:-1])
    if reduction != "mean":
        return _reduce(losses, reduction)
    divisor, addend = fresh_array(_mean_terms, counted)
    return losses.sum() / divisor + addend


def _nll_picks(
    target: Any, shape: tuple[int, ...], weight: Any, ignore_index: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Where each row's label sits in the flattened log-probabilities (class 0 for an ignored
    one), and the weight its loss counts with (0 where ignored): the cross-entropy's checks."""
    labels = _class_indices(target, shape, "nll_loss")
    try:
        labels, kept = _fused.class_labels(labels, shape, ignore_index, "the log-probabilities")
        weights = _fused.class_weights(weight, shape, dtype)
    except ValueError as error:
        raise ValueError(f"nll_loss: {error}") from None
    labels = labels.reshape(-1)
    counted = np.ones(labels.size, dtype) if weights is None else weights[labels]
    if kept is not None:
        counted = np.where(kept.reshape(-1), counted, 0)
    return np.arange(labels.size) * shape[-1] + labels, counted


def _mean_terms(counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean's divisor and a term to add: the total weight and -0.0 (which changes no
    number), or, with nothing kept, inf and nan: the mean is nan, as in PyTorch, and its
    gradient 0 (a division by 0 would give nan)."""
    total = counted.sum()
    if total:
        return np.asarray(total), np.asarray(-0.0, counted.dtype)
    return np.asarray(math.inf, counted.dtype), np.asarray(math.nan, counted.dtype)


def binary_cross_entropy_with_logits(
    logits: Any, target: Any, reduction: str = "mean", *, weight: Any = None, pos_weight: Any = None
) -> Value:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], computed from the
    logits directly: ``softplus(x) - t * x``, finite for any logit (even 1000 or -1000).

    PyTorch's options: ``weight`` multiplies each element's loss (broadcast), and ``pos_weight``
    (one per class, the last axis) the positive term, ``-pos_weight * t * log(sigmoid(x))``, to
    weigh rare positives up; the mean stays the mean over the elements.

    >>> from autonet import Value
    >>> round(binary_cross_entropy_with_logits(Value([0.0]), [1.0]).item(), 4)  # log 2
    0.6931
    >>> binary_cross_entropy_with_logits(Value([1000.0, -1000.0]), [1.0, 0.0]).item()
    0.0
    >>> round(binary_cross_entropy_with_logits(Value([0.0]), [1.0], pos_weight=[3.0]).item(), 4)
    2.0794
    """
    who = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, who)
    logits = _as_prediction(logits, who)
    target = _as_target(target, logits, who)
    if weight is None and pos_weight is None:
        return apply(_fused.bce_with_logits, logits, target, reduction=reduction)
    if pos_weight is None:
        losses = apply(_fused.bce_with_logits, logits, target, reduction="none")
    else:
        # PyTorch's form: (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), stable for any x.
        scale = 1 + (_constant(pos_weight, logits, who, "pos_weight") - 1) * target
        losses = (1 - target) * logits + scale * (-logits).softplus()
    return _weighted(losses, weight, reduction, logits, who)


def _constant(array: Any, like: Value, who: str, name: str) -> np.ndarray:
    """A weight as an array of ``like``'s dtype, checked to broadcast against it."""
    array = np.asarray(stored_data(array) if isinstance(array, Value) else array, dtype=like.dtype)
    try:
        np.broadcast_shapes(array.shape, like.shape)
    except ValueError:
        raise ValueError(f"{who}: {name} of shape {array.shape} does not broadcast to {like.shape}") from None
    return array


def _weighted(losses: Value, weight: Any, reduction: str, like: Value, who: str) -> Value:
    """The elements' losses times ``weight`` (if any), reduced; the mean is over the elements."""
    if weight is not None:
        losses = losses * _constant(weight, like, who, "weight")
    return _reduce(losses, reduction)


def binary_cross_entropy(
    probabilities: Any, target: Any, reduction: str = "mean", *, from_logits: bool = False, weight: Any = None
) -> Value:
    """Binary cross-entropy ``-(t log p + (1 - t) log(1 - p))`` of probabilities ``p`` in [0, 1].

    As in PyTorch, each log is clamped at -100, so a confident wrong answer costs 100 instead of
    infinity, and the gradient is ``(p - t) / max(p (1 - p), 1e-12)``: a prediction saturated
    at 0 or 1 still gets a gradient (about -1e12 for p = 0, t = 1) and can recover. One fused
    op. Prefer logits (``from_logits=True``, the same as ``binary_cross_entropy_with_logits``):
    that form is exact and stable everywhere.

    ``weight`` (PyTorch's) multiplies each element's loss, broadcast; the mean stays the mean
    over the elements.

    Raises ``ValueError`` for probabilities outside [0, 1] (pass logits with ``from_logits=True``),
    and for targets outside [0, 1], as PyTorch does.

    >>> from autonet import Value
    >>> round(binary_cross_entropy(Value([0.5]), [1.0]).item(), 4)
    0.6931
    >>> round(binary_cross_entropy(Value([0.0]), [1.0], from_logits=True).item(), 4)
    0.6931
    """
    if from_logits:
        return binary_cross_entropy_with_logits(probabilities, target, reduction, weight=weight)
    who = "binary_cross_entropy"
    _check_reduction(reduction, who)
    p = _as_prediction(probabilities, who)
    target = _as_target(target, p, who)
    for what, data, hint in [
        ("probabilities", p.data, "; for raw scores pass from_logits=True"),
        (
            "targets",
            np.asarray(stored_data(target) if isinstance(target, Value) else target),
            " (as in torch)",
        ),
    ]:
        if data.size and (np.nanmin(data) < 0 or np.nanmax(data) > 1):
            raise ValueError(
                f"{who}: {what} must lie in [0, 1], got values from {np.nanmin(data):g} "
                f"to {np.nanmax(data):g}{hint}"
            )
    if weight is None:
        return apply(_fused.binary_cross_entropy, p, target, reduction=reduction)
    return _weighted(
        apply(_fused.binary_cross_entropy, p, target, reduction="none"), weight, reduction, p, who
    )


def cross_entropy(
    logits: Any,
    target: Any,
    reduction: str = "mean",
    *,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Value:
    """Softmax cross-entropy of ``logits`` (..., classes) against class indices ``target`` (...),
    stable for large logits (1000 is fine): ``logsumexp(logits) - logits[target]``.

    PyTorch's options: ``weight`` (one per class) scales each sample's loss by its class's
    weight, and the mean divides by the samples' weights summed; a sample labelled
    ``ignore_index`` (-100 unless given) adds nothing and is left out of the mean (nan when no
    sample is left); ``label_smoothing`` mixes the one-hot target with the uniform distribution
    over the classes (``(1 - s) * one_hot + s / classes``).

    A float ``target`` with the full shape of ``logits`` holds class probabilities instead (soft
    labels): then the loss is ``-(target * log_softmax(logits)).sum(-1)``, differentiable in the
    target too (with ``weight``, each class's term times its weight; the mean is over samples).

    Raises ``ValueError`` if ``target`` does not have the shape of ``logits`` without its last
    axis, holds a class outside ``[0, classes)`` that is not ``ignore_index``, or is a Value of
    class indices that requires grad (indices have no gradient), for a ``weight`` that is not one
    per class, and for soft labels with an ``ignore_index`` of a class; ``TypeError`` for
    non-integer labels, and for an integer target of the logits' full shape (class indices take
    one per sample, soft labels are floats).

    >>> import numpy as np
    >>> from autonet import Value
    >>> logits = Value(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    >>> round(cross_entropy(logits, [0, 1]).item(), 4)  # (0 + log 2) / 2
    0.3466
    >>> round(cross_entropy(logits, [0, -100]).item(), 4)  # the second sample is ignored
    0.0
    """
    who = "cross_entropy"
    _check_reduction(reduction, who)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{who}: label_smoothing must lie in [0, 1], got {label_smoothing}")
    logits = _as_prediction(logits, who)
    shape = logits.shape
    if not shape:
        raise ValueError(f"{who}: logits need a class axis (the last), got a scalar")
    labels = stored_data(target) if isinstance(target, Value) else target
    if np.shape(labels) == shape:
        if ignore_index >= 0:
            raise ValueError(f"{who}: ignore_index ({ignore_index}) does not apply to soft labels")
        return _soft_cross_entropy(logits, target, reduction, weight, label_smoothing)
    if not (type(labels) is np.ndarray and labels.dtype.kind in "iu" and labels.shape == shape[:-1]):
        # Made from the target in every call, compiled or not: (N, 1) labels, whole floats, lists.
        labels = fresh_array(_class_indices, target, shape)
    # The op itself checks that every class lies in [0, classes) or is ignore_index.
    if weight is None and ignore_index == -100 and not label_smoothing:
        return apply(_fused.cross_entropy, logits, target=labels, reduction=reduction)
    options = {"weight": weight, "ignore_index": ignore_index, "label_smoothing": label_smoothing}
    return apply(_fused.cross_entropy, logits, target=labels, reduction=reduction, **options)


def classes_last(logits: Any, target: Any) -> tuple[Any, Any]:
    """PyTorch's (N, C, d1, ...) logits (and soft labels of that shape) with the classes moved
    to the last axis, where ``cross_entropy`` takes them; (N, C) and (C,) logits as they are.

    >>> import numpy as np
    >>> logits, labels = classes_last(np.zeros((2, 5, 3)), np.zeros((2, 3), dtype=int))
    >>> logits.shape, labels.shape
    ((2, 3, 5), (2, 3))
    """
    logits = _as_prediction(logits, "cross_entropy")
    if logits.ndim < 3:
        return logits, target
    order = (0, *range(2, logits.ndim), 1)
    if np.shape(stored_data(target) if isinstance(target, Value) else target) == logits.shape:
        target = target.transpose(order) if isinstance(target, Value) else np.transpose(target, order)
    return logits.transpose(order), target


def _class_indices(target: Any, shape: tuple[int, ...], who: str = "cross_entropy") -> np.ndarray:
    """The integer class indices of ``target``, one per row of logits of ``shape``; ``who``
    names the loss in the errors."""
    batch = shape[:-1]
    labels = np.asarray(_labels_of(target, who, "class indices"))
    if labels.shape != batch:
        if labels.shape == (*batch, 1):
            labels = labels[..., 0]
        else:
            cross = who == "cross_entropy"  # nll_loss takes class indices only
            scores = "logits" if cross else "log-probabilities"
            soft = f" (or class probabilities of shape {shape})" if cross else ""
            raise ValueError(
                f"{who}: target shape {labels.shape} does not fit {scores} of shape {shape}: "
                f"expected one class index per sample, shape {batch}{soft}"
            )
    kind = labels.dtype.kind
    if kind == "f" and labels.size and np.all(labels == np.round(labels)):
        labels, kind = labels.astype(np.intp), "i"
    if kind not in "iu":
        raise TypeError(f"{who}: target must hold integer class indices, got dtype {labels.dtype}")
    return labels


def _soft_cross_entropy(logits: Value, target: Any, reduction: str, weight: Any, smoothing: float) -> Value:
    """Cross-entropy against class probabilities, PyTorch's way: smoothing mixes them with the
    uniform distribution, and the mean is over the samples whatever the weights."""
    labels = stored_data(target) if isinstance(target, Value) else np.asarray(target)
    if labels.dtype.kind in "biu":
        # As PyTorch: integers of the logits' shape are neither class indices nor probabilities.
        raise TypeError(
            f"cross_entropy: target has the logits' full shape {logits.shape} but integer dtype "
            f"{labels.dtype}: class indices take shape {logits.shape[:-1]}, one per sample; soft "
            "labels (class probabilities) must be floats"
        )
    soft = _as_target(target, logits, "cross_entropy")
    try:
        weight = _fused.class_weights(weight, logits.shape, logits.dtype)
    except ValueError as error:
        raise ValueError(f"cross_entropy: {error}") from None
    if smoothing:
        soft = soft * (1.0 - smoothing) + smoothing / logits.shape[-1]
    terms = soft * logits.log_softmax(axis=-1)
    if weight is not None:
        terms = terms * weight
    return _reduce(-terms.sum(axis=-1), reduction)


def hinge_loss(scores: Any, target: Any, reduction: str = "mean") -> Value:
    """The max-margin loss of micrograd's moons demo: ``relu(1 - y * score)`` with labels ``y``
    in {-1, +1}, averaged (or summed, or per sample). A sample costs nothing once its score
    has the right sign with a margin of at least 1.

    Raises ``ValueError`` for labels other than -1 and +1 (turn 0/1 labels into them with
    ``y * 2 - 1``), and for a target Value that requires grad: the labels are discrete and have no
    gradient (``torch.nn.functional.hinge_embedding_loss`` gives its target none either).

    >>> from autonet import Value
    >>> hinge_loss(Value([2.0, 0.5, -1.0]), [1, 1, 1], reduction="none").tolist()
    [0.0, 0.5, 2.0]
    """
    who = "hinge_loss"
    _check_reduction(reduction, who)
    scores = _as_prediction(scores, who)
    labels = np.asarray(_labels_of(target, who, "labels -1 and +1"))
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"{who}: labels must be -1 or +1, got dtype {labels.dtype}")
    if labels.size and not np.all(np.abs(labels) == 1):
        bad = labels[np.abs(labels) != 1].flat[0]
        raise ValueError(
            f"{who}: labels must be -1 or +1, got {bad}; turn 0/1 labels into -1/+1 with y * 2 - 1"
        )
    labels = _match_shape(labels.astype(scores.dtype), scores.shape, who)
    return apply(_fused.hinge, scores, target=labels, reduction=reduction)


def _reduce(losses: Value, reduction: str) -> Value:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


class _Loss(Module):
    """A loss function as a module, PyTorch's way: ``criterion = nn.MSELoss()``, then
    ``criterion(prediction, target)``; ``reduction`` is the function's, and so are the
    attributes named in ``options`` (passed by keyword). ``classes_on_axis_1`` moves PyTorch's
    class axis of (N, C, d1, ...) inputs last, where the function takes it."""

    options: tuple[str, ...] = ()
    classes_on_axis_1 = False

    def __init__(self, reduction: str = "mean", **weights: Any) -> None:
        who = type(self).__name__
        _check_reduction(reduction, who)
        self.reduction = reduction
        for name, array in weights.items():  # buffers, as in PyTorch: saved with the model
            if isinstance(array, str):  # reduction passed first, as autonet's losses take it
                raise TypeError(
                    f"{who}: {name} is an array of numbers, got {array!r}; pass reduction= by name"
                )
            self.register_buffer(name, None if array is None else np.array(array, dtype=float))

    def forward(self, prediction: Any, target: Any) -> Value:
        if self.classes_on_axis_1:
            prediction, target = classes_last(prediction, target)
        options = {name: getattr(self, name) for name in self.options}
        return type(self).loss(prediction, target, self.reduction, **options)

    def extra_repr(self) -> str:
        shown = [f"reduction={self.reduction!r}"]
        for name in self.options:
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={value.tolist() if isinstance(value, np.ndarray) else value}")
        return ", ".join(shown)


class MSELoss(_Loss):
    """``mse_loss`` as a module (``torch.nn.MSELoss``).

    >>> from autonet import Value
    >>> MSELoss()(Value([1.0, 3.0]), [0.0, 1.0]).item()
    2.5
    """

    loss = staticmethod(mse_loss)


class L1Loss(_Loss):
    """``l1_loss`` as a module (``torch.nn.L1Loss``).

    >>> from autonet import Value
    >>> L1Loss()(Value([1.0, 3.0]), [0.0, 1.0]).item()
    1.5
    """

    loss = staticmethod(l1_loss)


class HuberLoss(_Loss):
    """``huber_loss`` as a module (``torch.nn.HuberLoss``).

    >>> from autonet import Value
    >>> HuberLoss(delta=2.0)(Value([3.0]), [0.0]).item()
    4.0
    """

    loss = staticmethod(huber_loss)
    options = ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta


class SmoothL1Loss(_Loss):
    """``smooth_l1_loss`` as a module (``torch.nn.SmoothL1Loss``).

    >>> from autonet import Value
    >>> SmoothL1Loss(beta=2.0)(Value([3.0]), [0.0]).item()
    2.0
    """

    loss = staticmethod(smooth_l1_loss)
    options = ("beta",)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta


class NLLLoss(_Loss):
    """``nll_loss`` as a module (``torch.nn.NLLLoss``), with its ``weight`` and ``ignore_index``
    and its class axis (1 of (N, C, d1, ...) inputs, as ``CrossEntropyLoss``).

    >>> import numpy as np
    >>> from autonet import Value
    >>> round(NLLLoss()(Value(np.log([[0.25, 0.75]])), [1]).item(), 4)
    0.2877
    """

    loss = staticmethod(nll_loss)
    options = ("weight", "ignore_index")
    classes_on_axis_1 = True

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction, weight=weight)
        self.ignore_index = ignore_index


class CrossEntropyLoss(_Loss):
    """``cross_entropy`` of logits against class indices (or soft labels) as a module
    (``torch.nn.CrossEntropyLoss``), with its ``weight``, ``ignore_index`` and
    ``label_smoothing``, and its class axis: 1 for logits (N, C, d1, ...) against labels (N, d1,
    ...), where ``cross_entropy`` takes the last (the two agree on (N, C) and (C,) logits).

    >>> from autonet import Value
    >>> round(CrossEntropyLoss()(Value([[0.0, 0.0]]), [1]).item(), 4)  # log 2
    0.6931
    >>> round(CrossEntropyLoss(label_smoothing=0.5)(Value([[0.0, 0.0]]), [1]).item(), 4)
    0.6931
    """

    loss = staticmethod(cross_entropy)
    options = ("weight", "ignore_index", "label_smoothing")
    classes_on_axis_1 = True

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction, weight=weight)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing


class BCELoss(_Loss):
    """``binary_cross_entropy`` of probabilities as a module (``torch.nn.BCELoss``), with its
    ``weight``.

    >>> from autonet import Value
    >>> round(BCELoss()(Value([0.5]), [1.0]).item(), 4)
    0.6931
    """

    loss = staticmethod(binary_cross_entropy)
    options = ("weight",)

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction, weight=weight)


class BCEWithLogitsLoss(_Loss):
    """``binary_cross_entropy_with_logits`` as a module (``torch.nn.BCEWithLogitsLoss``), with
    its ``weight`` and ``pos_weight``.

    >>> from autonet import Value
    >>> round(BCEWithLogitsLoss()(Value([0.0]), [1.0]).item(), 4)
    0.6931
    """

    loss = staticmethod(binary_cross_entropy_with_logits)
    options = ("weight", "pos_weight")

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction, weight=weight, pos_weight=pos_weight)
