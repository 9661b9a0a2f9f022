"""Losses: known values, reductions, stability at extreme logits, shapes, errors and float64 gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autonet import Value, nn
from autonet.gradcheck import gradcheck, gradgradcheck
from autonet.nn import (
    CrossEntropyLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)

REDUCTIONS = ["mean", "sum", "none"]

finite = st.floats(-20, 20, allow_nan=False, width=64)


def logits_and_labels(max_batch: int = 6, max_classes: int = 5):
    @st.composite
    def draw(draw):
        batch = draw(st.integers(1, max_batch))
        classes = draw(st.integers(2, max_classes))
        logits = draw(hnp.arrays(np.float64, (batch, classes), elements=finite))
        labels = draw(hnp.arrays(np.int64, (batch,), elements=st.integers(0, classes - 1)))
        return logits, labels

    return draw()


# --------------------------------------------------------------------------- known values


def test_known_values():
    assert mse_loss(Value([1.0, 2.0, 3.0]), [1.0, 0.0, 0.0]).item() == pytest.approx((0 + 4 + 9) / 3)
    assert binary_cross_entropy(Value([0.8]), [1.0]).item() == pytest.approx(-math.log(0.8))
    assert binary_cross_entropy_with_logits(Value([0.0, 2.0]), [1.0, 0.0]).item() == pytest.approx(
        (math.log(2) + math.log1p(math.exp(2.0))) / 2
    )
    logits = np.array([[1.0, 2.0, 3.0]])
    expected = math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 1.0
    assert cross_entropy(Value(logits), [0]).item() == pytest.approx(expected)
    assert hinge_loss(Value([2.0, 0.5, -1.0]), [1, 1, 1]).item() == pytest.approx((0 + 0.5 + 2.0) / 3)
    assert hinge_loss(Value([-2.0]), [-1]).item() == 0.0


@given(logits_and_labels(), st.sampled_from(REDUCTIONS))
def test_cross_entropy_equals_minus_log_softmax_of_the_label(case, reduction):
    logits, labels = case
    shifted = logits - logits.max(axis=1, keepdims=True)
    per_sample = -(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))[
        np.arange(len(labels)), labels
    ]
    expected = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(
        cross_entropy(Value(logits), labels, reduction).data, expected, rtol=1e-12, atol=1e-12
    )


@given(logits_and_labels(), st.floats(-500, 500))
def test_cross_entropy_ignores_a_constant_added_to_every_logit(case, shift):
    logits, labels = case
    a = cross_entropy(Value(logits), labels).item()
    b = cross_entropy(Value(logits + shift), labels).item()
    assert b == pytest.approx(a, rel=1e-9, abs=1e-9 * (1 + abs(shift)))


@given(hnp.arrays(np.float64, st.integers(1, 8), elements=finite), st.data())
def test_reductions_are_the_mean_and_the_sum_of_the_per_sample_losses(prediction, data):
    target = data.draw(hnp.arrays(np.float64, prediction.shape, elements=st.floats(0, 1)))
    signs = np.where(target > 0.5, 1.0, -1.0)
    for loss, y in [
        (mse_loss, target),
        (binary_cross_entropy_with_logits, target),
        (hinge_loss, signs),
    ]:
        each = loss(Value(prediction), y, reduction="none").data
        assert each.shape == prediction.shape
        assert loss(Value(prediction), y, reduction="sum").item() == pytest.approx(
            each.sum(), rel=1e-12, abs=1e-12
        )
        assert loss(Value(prediction), y, reduction="mean").item() == pytest.approx(
            each.mean(), rel=1e-12, abs=1e-12
        )


def test_soft_labels_of_one_hot_rows_give_the_hard_label_loss():
    logits = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 0.0]])
    one_hot = np.eye(3)[[2, 0]]
    assert cross_entropy(Value(logits), one_hot).item() == pytest.approx(
        cross_entropy(Value(logits), [2, 0]).item()
    )


# --------------------------------------------------------------------------- PyTorch's options


def _loss_and_gradient(logits: np.ndarray, target, reduction="mean", **options):
    x = Value(logits)
    loss = cross_entropy(x, target, reduction, **options)
    (loss.sum() if reduction == "none" else loss).backward()
    return loss.data, x.grad


def test_class_weights_scale_each_sample_and_the_mean_divides_by_the_weights_of_the_labels():
    logits = np.array([[2.0, 0.0], [0.0, 0.0]])
    first, second = math.log1p(math.exp(-2.0)), math.log(2.0)
    weight = np.array([1.0, 3.0])
    loss, grad = _loss_and_gradient(logits, [0, 1], weight=weight)
    assert loss == pytest.approx((1 * first + 3 * second) / (1 + 3), rel=1e-14)
    p0 = 1 / (1 + math.exp(-2.0))  # softmax of the first row
    np.testing.assert_allclose(grad, [[(p0 - 1) / 4, (1 - p0) / 4], [3 * 0.5 / 4, -3 * 0.5 / 4]], rtol=1e-14)
    summed, _ = _loss_and_gradient(logits, [0, 1], "sum", weight=weight)
    assert summed == pytest.approx(first + 3 * second, rel=1e-14)


@given(logits_and_labels(), st.sampled_from(REDUCTIONS), st.data())
def test_ignored_labels_count_as_if_their_rows_were_not_there(case, reduction, data):
    logits, labels = case
    ignored = np.array(data.draw(st.lists(st.booleans(), min_size=len(labels), max_size=len(labels))))
    assume(not ignored.all())
    loss, grad = _loss_and_gradient(logits, np.where(ignored, -100, labels), reduction)
    kept_loss, kept_grad = _loss_and_gradient(logits[~ignored], labels[~ignored], reduction)
    if reduction == "none":
        assert np.all(loss[ignored] == 0)
        loss = loss[~ignored]
    np.testing.assert_allclose(loss, kept_loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad[~ignored], kept_grad, rtol=1e-12, atol=1e-12)
    assert np.all(grad[ignored] == 0)


def test_ignore_index_may_be_a_class_and_when_every_label_is_ignored_the_mean_is_nan():
    logits = np.array([[1.0, 2.0, 0.0], [0.5, 0.0, 0.0], [0.0, 3.0, 1.0]])
    loss, grad = _loss_and_gradient(logits, [1, 0, 1], ignore_index=1)
    only, only_grad = _loss_and_gradient(logits[1:2], [0])
    assert loss == pytest.approx(only.item(), rel=1e-14)
    np.testing.assert_array_equal(grad[[0, 2]], 0.0)
    np.testing.assert_allclose(grad[1:2], only_grad, rtol=1e-14)
    loss, grad = _loss_and_gradient(logits[:2], [-100, -100])
    assert math.isnan(loss) and np.all(grad == 0)  # no sample left: 0 / 0, but nothing to learn
    assert _loss_and_gradient(logits[:2], [-100, -100], "sum")[0] == 0.0


@given(logits_and_labels(), st.sampled_from(REDUCTIONS), st.sampled_from([0.1, 0.5, 1.0]))
def test_label_smoothing_is_the_soft_label_loss_of_the_smoothed_one_hot_target(case, reduction, smoothing):
    logits, labels = case
    classes = logits.shape[1]
    smoothed = (1 - smoothing) * np.eye(classes)[labels] + smoothing / classes
    loss, grad = _loss_and_gradient(logits, labels, reduction, label_smoothing=smoothing)
    soft_loss, soft_grad = _loss_and_gradient(logits, smoothed, reduction)
    np.testing.assert_allclose(loss, soft_loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, soft_grad, rtol=1e-10, atol=1e-12)


def test_soft_labels_take_weights_and_smoothing_and_their_mean_is_over_the_samples():
    logits = np.array([[1.0, 0.0], [0.0, 2.0]])
    soft = np.array([[0.75, 0.25], [0.5, 0.5]])
    weight = np.array([2.0, 0.5])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(soft * log_p * weight).sum(axis=1).mean()  # not divided by the weights
    assert cross_entropy(Value(logits), soft, weight=weight).item() == pytest.approx(expected, rel=1e-14)
    smoothed = soft * 0.8 + 0.2 / 2
    assert cross_entropy(Value(logits), soft, label_smoothing=0.2).item() == pytest.approx(
        -(smoothed * log_p).sum(axis=1).mean(), rel=1e-14
    )


def test_the_module_takes_pytorchs_arguments_and_keeps_its_weight_in_the_state_dict():
    logits, labels = np.array([[2.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), np.array([0, -100])
    weight = np.array([0.5, 1.0, 2.0])
    criterion = CrossEntropyLoss(weight, label_smoothing=0.1, reduction="sum")
    assert criterion(Value(logits), labels).item() == pytest.approx(
        cross_entropy(Value(logits), labels, "sum", weight=weight, label_smoothing=0.1).item(), rel=1e-15
    )
    assert CrossEntropyLoss(ignore_index=0)(Value(logits), [0, 2]).item() == pytest.approx(
        cross_entropy(Value(logits[1:]), [2]).item(), rel=1e-15
    )
    np.testing.assert_array_equal(criterion.state_dict()["weight"], weight)
    assert "label_smoothing=0.1" in repr(criterion)


@given(
    hnp.arrays(np.float64, (3, 2), elements=st.floats(-30, 30)),
    hnp.arrays(np.float64, (3, 2), elements=st.floats(0, 1)),
    st.sampled_from(REDUCTIONS),
)
def test_pos_weight_weighs_the_positive_term_and_weight_each_element(x, t, reduction):
    pos_weight, weight = np.array([3.0, 0.5]), np.array([[1.0, 2.0]])
    log_sigmoid, log_one_minus = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    each = -(pos_weight * t * log_sigmoid + (1 - t) * log_one_minus) * weight
    expected = {"mean": each.mean(), "sum": each.sum(), "none": each}[reduction]
    v = Value(x)
    loss = binary_cross_entropy_with_logits(v, t, reduction, weight=weight, pos_weight=pos_weight)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-12)
    (loss.sum() if reduction == "none" else loss).backward()
    sigmoid = 1 / (1 + np.exp(-x))
    slope = ((1 - t) * sigmoid - pos_weight * t * (1 - sigmoid)) * weight  # d each / d x
    np.testing.assert_allclose(v.grad, slope / (x.size if reduction == "mean" else 1), rtol=1e-9, atol=1e-12)


def test_bce_weights_scale_the_elements_and_the_modules_keep_them_as_buffers():
    p, t, weight = Value([0.2, 0.9]), [0.0, 1.0], np.array([2.0, 0.5])
    expected = -(2.0 * np.log(0.8) + 0.5 * np.log(0.9)) / 2  # a mean over the elements
    assert binary_cross_entropy(p, t, weight=weight).item() == pytest.approx(expected, rel=1e-14)
    assert nn.BCELoss(weight)(p, t).item() == pytest.approx(expected, rel=1e-14)
    logits = Value([0.0, 1000.0, -1000.0])
    criterion = nn.BCEWithLogitsLoss(pos_weight=[3.0], reduction="none")
    np.testing.assert_allclose(
        criterion(logits, [1.0, 1.0, 0.0]).data, [3 * np.log(2), 0.0, 0.0], atol=1e-300
    )
    assert list(criterion.state_dict()) == ["pos_weight"] and list(nn.BCELoss(weight).state_dict()) == [
        "weight"
    ]
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to \(2,\)"):
        binary_cross_entropy_with_logits(Value([0.0, 1.0]), [1.0, 0.0], pos_weight=[1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="BCELoss: weight is an array of numbers, got 'sum'"):
        nn.BCELoss("sum")


@given(
    hnp.arrays(np.float64, (6,), elements=st.floats(-4, 4)),
    st.sampled_from([0.5, 1.0, 2.0]),
    st.sampled_from(REDUCTIONS),
)
def test_huber_and_smooth_l1_follow_their_two_pieces_and_l1_its_absolute_value(d, delta, reduction):
    d = np.concatenate([d, [delta, -delta, 0.0]])  # the seams, where PyTorch takes the outer piece
    size, inner = np.abs(d), np.abs(d) < delta
    expectations = {  # the loss of each element and its slope
        nn.huber_loss: (
            np.where(inner, 0.5 * d**2, delta * (size - 0.5 * delta)),
            np.where(inner, d, delta * np.sign(d)),
        ),
        nn.smooth_l1_loss: (
            np.where(inner, 0.5 * d**2 / delta, size - 0.5 * delta),
            np.where(inner, d / delta, np.sign(d)),
        ),
    }
    for loss, (each, slope) in expectations.items():
        v = Value(d)
        out = loss(v, np.zeros_like(d), reduction, delta)
        np.testing.assert_allclose(
            out.data, {"mean": each.mean(), "sum": each.sum(), "none": each}[reduction], rtol=1e-13
        )
        (out.sum() if reduction == "none" else out).backward()
        np.testing.assert_allclose(
            v.grad, slope / (d.size if reduction == "mean" else 1), rtol=1e-13, atol=1e-15
        )
    v = Value(d)
    nn.l1_loss(v, np.zeros_like(d), "sum").backward()
    np.testing.assert_array_equal(v.grad, np.sign(d))  # 0 where the prediction hits the target
    assert nn.smooth_l1_loss(Value(d), np.zeros_like(d), reduction, beta=0.0).data == pytest.approx(
        nn.l1_loss(Value(d), np.zeros_like(d), reduction).data
    )


def test_nll_loss_picks_minus_the_log_probability_of_each_label_weighted_and_ignoring():
    log_p = np.log(np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]))
    weight = np.array([2.0, 0.5])
    v = Value(log_p)
    loss = nn.nll_loss(v, [1, 0, -100], weight=weight)
    assert loss.item() == pytest.approx(-(0.5 * log_p[0, 1] + 2.0 * log_p[1, 0]) / 2.5, rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(v.grad, [[0.0, -0.5 / 2.5], [-2.0 / 2.5, 0.0], [0.0, 0.0]], rtol=1e-14)
    # With the log-softmax in front, it is the cross-entropy (whose fused op does both at once).
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    assert nn.nll_loss(Value(logits).log_softmax(axis=-1), [2, 1]).item() == pytest.approx(
        cross_entropy(Value(logits), [2, 1]).item(), rel=1e-14
    )
    nothing = Value(log_p)
    empty = nn.nll_loss(nothing, [-100, -100, -100])
    empty.backward()
    assert np.isnan(empty.item()) and np.all(nothing.grad == 0)
    with pytest.raises(
        ValueError, match="nll_loss: target holds class 2, but the log-probabilities have 2 classes"
    ):
        nn.nll_loss(Value(log_p), [0, 2, 1])
    with pytest.raises(
        ValueError, match=r"nll_loss: target shape \(1, 3\) does not fit log-probabilities"
    ) as error:
        nn.nll_loss(Value(log_p), [[0, 1, 1]])
    assert "class probabilities" not in str(error.value)  # soft labels are cross_entropy's


def test_softmax_modules_normalise_along_dim_and_ask_for_it():
    x = np.array([[1.0, 2.0, 0.0], [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).data.sum(axis=1), [1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x).data, Value(x).log_softmax(axis=0).data, rtol=1e-15)
    assert "dim=1" in repr(nn.Softmax(dim=1))
    with pytest.raises(TypeError, match="Softmax: dim must be the axis to normalise over"):
        nn.Softmax()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: cross_entropy(x, [0, 1], weight=[1.0, 2.0]), ValueError, r"weight has shape \(2,\)"),
        (lambda x: cross_entropy(x, [0, 1], label_smoothing=1.5), ValueError, r"label_smoothing must lie in"),
        (lambda x: cross_entropy(x, [0, -1]), ValueError, "holds class -1.*ignore_index is -100"),
        (lambda x: cross_entropy(x, [0, -100], ignore_index=0), ValueError, "holds class -100"),
        (lambda x: cross_entropy(x, np.full((2, 3), 1 / 3), ignore_index=1), ValueError, "soft labels"),
        (lambda x: CrossEntropyLoss("sum"), TypeError, "pass reduction= by name"),
    ],
)
def test_bad_options_are_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call(Value(np.zeros((2, 3))))


# --------------------------------------------------------------------------- stability


def test_cross_entropy_is_stable_for_logits_of_1000():
    logits = Value(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0], [-1000.0, 1000.0, 0.0]]))
    loss = cross_entropy(logits, [0, 1, 0], reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, math.log(2), 2000.0])
    loss.sum().backward()
    expected = np.array([[0.0, 0.0, 0.0], [0.5, -0.5, 0.0], [-1.0, 1.0, 0.0]])
    np.testing.assert_allclose(logits.grad, expected, atol=1e-300)


def test_binary_cross_entropy_from_logits_is_stable_at_1000():
    logits = Value(np.array([1000.0, -1000.0, 1000.0, -1000.0]))
    loss = binary_cross_entropy_with_logits(logits, [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad, [0.0, 0.0, 1.0, -1.0])


def test_binary_cross_entropy_of_certain_wrong_probabilities_is_finite():
    p = Value(np.array([0.0, 1.0, 1.0]))
    loss = binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none")
    assert np.all(np.isfinite(loss.data)) and loss.data[2] == pytest.approx(0.0, abs=1e-12)
    assert loss.data[0] > 30
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


def test_a_saturated_wrong_probability_keeps_a_gradient_to_learn_from():
    # PyTorch's convention: logs clamped at -100, gradient (p - t) / max(p (1 - p), 1e-12). A
    # prediction clipped to 0 or 1 against the other label still has a gradient towards it.
    p = Value(np.array([0.0, 1.0, 1.0]))
    loss = binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="sum")
    assert loss.item() == 200.0
    loss.backward()
    assert p.grad.tolist() == [-1e12, 1e12, 0.0]


def test_binary_cross_entropy_from_logits_flag_matches_probabilities():
    logits = np.array([-2.0, 0.3, 4.0])
    probabilities = 1 / (1 + np.exp(-logits))
    target = [0.0, 1.0, 0.25]
    a = binary_cross_entropy(Value(logits), target, from_logits=True).item()
    b = binary_cross_entropy(Value(probabilities), target).item()
    assert a == pytest.approx(b, rel=1e-12)


# --------------------------------------------------------------------------- shapes, dtypes, errors


def test_a_column_of_predictions_matches_a_vector_of_targets_element_by_element():
    prediction = Value(np.array([[1.0], [2.0], [3.0]]))
    assert mse_loss(prediction, [1.0, 2.0, 4.0]).item() == pytest.approx(1 / 3)
    assert hinge_loss(prediction, [1, 1, -1], reduction="none").shape == (3, 1)
    assert cross_entropy(Value(np.zeros((2, 3))), np.array([[0], [2]])).item() == pytest.approx(math.log(3))


def test_a_single_output_compares_with_a_plain_number():
    assert mse_loss(Value(np.array([0.5])), 1.0).item() == 0.25
    assert mse_loss(Value(0.5), 1.0).item() == 0.25


def test_mismatched_shapes_name_both():
    with pytest.raises(ValueError, match=r"mse_loss: prediction shape \(3,\) and target shape \(2,\)"):
        mse_loss(Value(np.ones(3)), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not fit logits of shape \(2, 4\)"):
        cross_entropy(Value(np.ones((2, 4))), [0, 1, 2])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: cross_entropy(Value(np.ones((2, 3))), [0, 3]),
            ValueError,
            "holds class 3, but the logits have 3",
        ),
        (lambda: cross_entropy(Value(np.ones((2, 3))), [0, -1]), ValueError, "holds class -1"),
        (lambda: cross_entropy(Value(np.ones((2, 3))), [0.5, 1.0]), TypeError, "integer class indices"),
        (lambda: cross_entropy(Value(1.0), 0), ValueError, "need a class axis"),
        (
            lambda: cross_entropy(Value(np.ones((2, 3))), np.eye(3, dtype=int)[[0, 2]]),
            TypeError,
            r"full shape \(2, 3\) but integer dtype int64: class indices take shape \(2,\).*must be floats",
        ),
        (
            lambda: cross_entropy(Value(np.ones((2, 3))), Value([0.0, 2.0])),
            ValueError,
            r"cross_entropy: the target requires grad, but class indices have no gradient.*detach",
        ),
        (
            lambda: hinge_loss(Value([0.5]), Value([1.0])),
            ValueError,
            r"hinge_loss: the target requires grad, but labels -1 and \+1 have no gradient.*detach",
        ),
        (lambda: hinge_loss(Value(np.ones(2)), [0, 1]), ValueError, r"-1 or \+1, got 0; .* y \* 2 - 1"),
        (lambda: binary_cross_entropy(Value([1.5]), [1.0]), ValueError, "from_logits=True"),
        (
            lambda: binary_cross_entropy(Value([0.3, 0.6]), [1.5, -0.5]),
            ValueError,
            r"binary_cross_entropy: targets must lie in \[0, 1\], got values from -0.5 to 1.5",
        ),
        (lambda: mse_loss(Value([1.0]), [1.0], reduction="avg"), ValueError, "reduction must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


_OUT_OF_RANGE_LABELS = [
    (dtype, label)
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint64")
    for label in {-1, 3, int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)}
    if np.iinfo(dtype).min <= label <= np.iinfo(dtype).max and label not in (0, 1, 2)
]


@pytest.mark.parametrize(("dtype", "label"), sorted(_OUT_OF_RANGE_LABELS))
def test_a_label_outside_the_classes_is_named_in_every_integer_dtype(dtype, label):
    labels = np.array([1, label, 0], dtype=dtype)
    with pytest.raises(ValueError, match=rf"holds class {label}, but the logits have 3 classes"):
        cross_entropy(Value(np.ones((3, 3))), labels)


def test_targets_that_require_grad_get_their_gradient_where_the_loss_has_one():
    logits = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 0.0]])
    soft = Value(np.full((2, 3), 1 / 3))
    cross_entropy(Value(logits), soft, reduction="sum").backward()
    log_softmax = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(soft.grad, -log_softmax, rtol=1e-12)
    # Discrete labels have no gradient: detached (or built with requires_grad=False) they are fine.
    assert hinge_loss(Value([0.5, -0.5]), Value([1.0, -1.0]).detach()).item() == 0.5
    assert cross_entropy(Value(logits), Value([0.0, 2.0], requires_grad=False)).item() > 0


def test_float32_losses_stay_float32():
    prediction = Value(np.array([[0.5, -0.5], [2.0, 1.0]], dtype=np.float32))
    for loss in [
        mse_loss(prediction, np.zeros((2, 2))),
        binary_cross_entropy_with_logits(prediction, np.ones((2, 2))),
        cross_entropy(prediction, [0, 1]),
        hinge_loss(prediction, np.ones((2, 2))),
        binary_cross_entropy(prediction.sigmoid(), np.ones((2, 2))),
    ]:
        assert loss.dtype == np.float32
        prediction.grad = None
        loss.backward()
        assert prediction.grad.dtype == np.float32


# --------------------------------------------------------------------------- float64 gradient checks


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_gradients_match_central_differences(reduction):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    scores = np.array([0.3, -2.0, 1.7, -0.4])  # away from the hinge's kinks at +-1
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    target = rng.uniform(0.0, 1.0, size=4)
    probabilities = rng.uniform(0.1, 0.9, size=4)
    soft = rng.dirichlet(np.ones(3), size=4)
    assert gradcheck(lambda x: cross_entropy(x, labels, reduction), logits)
    assert gradcheck(lambda x, t: cross_entropy(x, t, reduction), logits, soft)
    assert gradcheck(lambda x: hinge_loss(x, signs, reduction), scores)
    assert gradcheck(lambda x, t: mse_loss(x, t, reduction), scores, target)
    assert gradcheck(lambda x, t: binary_cross_entropy_with_logits(x, t, reduction), scores, target)
    assert gradcheck(lambda p, t: binary_cross_entropy(p, t, reduction), probabilities, target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_second_derivatives_match_central_differences(reduction):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 4))
    target = rng.uniform(0.0, 1.0, size=3)
    assert gradgradcheck(lambda x: cross_entropy(x, [1, 0, 3], reduction), logits)
    assert gradgradcheck(lambda x, t: mse_loss(x, t, reduction), logits[:, 0], target)
    assert gradgradcheck(lambda x, t: binary_cross_entropy_with_logits(x, t, reduction), logits[:, 0], target)
    probabilities = rng.uniform(0.1, 0.9, size=3)
    assert gradgradcheck(lambda p, t: binary_cross_entropy(p, t, reduction), probabilities, target)


def test_scalar_losses_take_the_float_fast_path_and_give_the_same_gradient():
    for loss in [mse_loss, binary_cross_entropy_with_logits]:
        scalar, vector = Value(0.7), Value(np.array([0.7]))
        a, b = loss(scalar, 0.25), loss(vector, [0.25])
        assert a.item() == pytest.approx(b.item(), rel=1e-15)
        a.backward()
        b.backward()
        assert float(scalar.grad) == pytest.approx(float(vector.grad[0]), rel=1e-15)


@pytest.mark.parametrize(
    ("module", "function", "prediction", "target"),
    [
        (nn.MSELoss, mse_loss, [[0.5], [2.0]], [1.0, 0.0]),
        (nn.CrossEntropyLoss, cross_entropy, [[0.5, -1.0, 2.0], [3.0, 0.0, 0.0]], [2, 0]),
        (nn.BCELoss, binary_cross_entropy, [0.2, 0.9], [0.0, 1.0]),
        (nn.BCEWithLogitsLoss, binary_cross_entropy_with_logits, [-1.0, 3.0], [0.0, 1.0]),
        (nn.L1Loss, nn.l1_loss, [0.5, 2.0, -1.0], [1.0, 2.0, 1.0]),
        (nn.HuberLoss, nn.huber_loss, [0.5, 2.0, -3.0], [0.0, 0.0, 0.0]),
        (nn.SmoothL1Loss, nn.smooth_l1_loss, [0.5, 2.0, -3.0], [0.0, 0.0, 0.0]),
        (nn.NLLLoss, nn.nll_loss, np.log([[0.2, 0.8], [0.6, 0.4]]), [1, 0]),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_are_their_functions_with_the_reduction_kept(
    module, function, prediction, target, reduction
):
    criterion = module(reduction=reduction)
    got, expected = Value(prediction), Value(prediction)
    criterion(got, target).sum().backward()
    function(expected, target, reduction).sum().backward()
    np.testing.assert_array_equal(criterion(got, target).data, function(expected, target, reduction).data)
    np.testing.assert_array_equal(got.grad, expected.grad)
    assert list(criterion.parameters()) == [] and repr(reduction) in repr(criterion)


def test_a_loss_module_refuses_an_unknown_reduction_when_made() -> None:
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")
