"""batch_norm, layer_norm, dropout and embedding: closed forms, hand-worked running statistics,
gradients to second order, the dropout mask in backward, repeated indices, and the errors.

The registry-wide suites (gradients, edges, fuzzing) cover these ops too; here are the
properties that are theirs alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from autonet import Value, batch_norm, call_op, dropout, embedding, layer_norm
from autonet.gradcheck import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _normal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape) * 2 + 1


# --------------------------------------------------------------------------- batch_norm


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (2, 3, 2, 2)], ids=["NC", "NCL", "NCHW"])
def test_a_normalised_batch_has_mean_0_and_variance_1_per_channel(shape: tuple[int, ...]) -> None:
    out = batch_norm(Value(_normal(*shape)), None, None, training=True, eps=0.0).data
    axes = (0, *range(2, len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-12)


def test_weight_and_bias_scale_and_shift_each_channel() -> None:
    x = _normal(6, 2)
    out = batch_norm(x, None, None, np.array([2.0, 3.0]), np.array([-1.0, 5.0]), training=True).data
    np.testing.assert_allclose(out.mean(axis=0), [-1.0, 5.0], atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), [2.0, 3.0] * np.sqrt(x.var(0) / (x.var(0) + 1e-5)))


def test_running_statistics_after_k_steps_follow_the_momentum_with_the_unbiased_variance() -> None:
    mean, var, momentum = np.zeros(2), np.ones(2), 0.25
    expected_mean, expected_var = np.zeros(2), np.ones(2)
    for _ in range(4):
        x = _normal(5, 2)
        batch_norm(Value(x), mean, var, training=True, momentum=momentum)
        expected_mean = (1 - momentum) * expected_mean + momentum * x.mean(axis=0)
        expected_var = (1 - momentum) * expected_var + momentum * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-13)
    np.testing.assert_allclose(var, expected_var, rtol=1e-13)


def test_two_values_per_channel_by_hand() -> None:
    # x = [1, 3]: mean 2, biased variance 1, unbiased 2; momentum 0.5 from (0, 1) gives (1, 1.5).
    mean, var = np.zeros(1), np.ones(1)
    out = batch_norm([[1.0], [3.0]], mean, var, training=True, momentum=0.5, eps=0.0)
    assert out.tolist() == [[-1.0], [1.0]]
    assert mean.tolist() == [1.0] and var.tolist() == [1.5]


def test_updating_the_running_statistics_records_nothing_and_keeps_the_arrays() -> None:
    mean, var = np.zeros(3), np.ones(3)
    x = Value(_normal(4, 3))
    out = batch_norm(x, mean, var, training=True)
    assert out.record is not None and all(not isinstance(p, Value) for p in (mean, var))
    out.sum().backward()  # the buffers are no inputs: nothing to differentiate there
    assert x.grad.shape == (4, 3)


def test_evaluation_uses_the_running_statistics_and_changes_nothing() -> None:
    mean, var = np.array([1.0, -2.0]), np.array([4.0, 9.0])
    x = _normal(3, 2, 2)
    out = batch_norm(x, mean, var, training=False, eps=0.0).data
    np.testing.assert_allclose(out, (x - mean[:, None]) / np.sqrt(var[:, None]), rtol=1e-14)
    assert mean.tolist() == [1.0, -2.0] and var.tolist() == [4.0, 9.0]


@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
@pytest.mark.parametrize("shape", [(4, 2), (3, 2, 2)], ids=["NC", "NCL"])
def test_batch_norm_gradients_of_x_weight_and_bias_to_second_order(
    training: bool, shape: tuple[int, ...]
) -> None:
    stats = {"running_mean": RNG.normal(size=2), "running_var": RNG.uniform(0.5, 2, 2)}

    def fn(x: Value, w: Value, b: Value) -> Value:
        return batch_norm(x, stats["running_mean"], stats["running_var"], w, b, training=training)

    inputs = (_normal(*shape), RNG.normal(size=2), RNG.normal(size=2))
    assert gradcheck(fn, *inputs)
    assert gradgradcheck(fn, *inputs, seed=1)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: batch_norm(np.ones((1, 3)), None, None, training=True), ValueError, "more than 1 value"),
        (lambda: batch_norm(np.ones((1, 3, 1)), None, None, training=True), ValueError, r"\(1, 3, 1\)"),
        (lambda: batch_norm(np.ones(3), np.zeros(3), np.ones(3)), ValueError, "channel axis"),
        (lambda: batch_norm(np.ones((2, 3)), None, None), ValueError, "evaluation mode"),
        (lambda: batch_norm(np.ones((2, 3)), np.zeros(2), np.ones(2)), ValueError, r"shape \(2,\)"),
        (lambda: batch_norm(np.ones((2, 3)), np.zeros(3, int), np.ones(3)), TypeError, "int64"),
        (lambda: batch_norm(np.ones((2, 3)), np.zeros(3), None, training=True), ValueError, "both"),
        (lambda: batch_norm(np.ones((2, 3)), None, None, np.ones(2), training=True), ValueError, "weight"),
        (lambda: batch_norm(np.ones((2, 3)), None, None, training=1), TypeError, "training"),
        (lambda: batch_norm(np.ones((2, 3)), None, None, training=True, eps=-1), ValueError, "eps"),
        (lambda: batch_norm(np.ones((2, 3)), None, None, training=True, momentum="x"), TypeError, "momentum"),
    ],
    ids=[
        "one-per-channel",
        "one-per-channel-NCL",
        "no-channels",
        "eval-without-stats",
        "stats-shape",
        "stats-dtype",
        "one-stat",
        "weight-shape",
        "training-flag",
        "eps",
        "momentum",
    ],
)
def test_batch_norm_errors_name_the_op_and_the_culprit(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        call()
    assert "batch_norm" in str(caught.value)


def test_read_only_running_statistics_are_refused_before_anything_changes() -> None:
    mean, var = np.zeros(2), np.ones(2)
    mean.flags.writeable = False
    with pytest.raises(ValueError, match="batch_norm: running_mean is read-only"):
        batch_norm(_normal(3, 2), mean, var, training=True)
    assert var.tolist() == [1.0, 1.0]


# --------------------------------------------------------------------------- layer_norm


@pytest.mark.parametrize(("shape", "normalized"), [((4, 5), 5), ((2, 3, 4), (3, 4))])
def test_each_layer_normed_slice_has_mean_0_and_variance_1(shape, normalized) -> None:
    out = layer_norm(_normal(*shape), normalized, eps=0.0).data
    axes = tuple(range(-np.size(normalized), 0))
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, rtol=1e-12)


def test_a_constant_row_gives_finite_gradients_not_nan() -> None:
    x = Value(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))
    w, b = Value(np.array([1.0, 2.0, 3.0])), Value(np.zeros(3))
    out = layer_norm(x, 3, w, b)
    assert out.data[0].tolist() == [0.0, 0.0, 0.0]
    (out * np.array([1.0, -2.0, 0.5])).sum().backward()
    assert all(np.isfinite(v.grad).all() for v in (x, w, b))


def test_eps_is_added_to_the_variance() -> None:
    out = layer_norm([[1.0, 3.0]], 2, eps=3.0)  # variance 1: (x - 2) / sqrt(1 + 3)
    assert out.tolist() == [[-0.5, 0.5]]


def test_layer_norm_gradients_to_second_order() -> None:
    def fn(x: Value, w: Value, b: Value) -> Value:
        return layer_norm(x, (2, 3), w, b)

    inputs = (_normal(2, 2, 3), RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3)))
    assert gradcheck(fn, *inputs)
    assert gradgradcheck(fn, *inputs, seed=2)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: layer_norm(np.ones((2, 3)), 4), ValueError, r"does not end in normalized_shape \(4,\)"),
        (lambda: layer_norm(np.ones((2, 3)), ()), ValueError, "at least one axis"),
        (lambda: layer_norm(np.ones((2, 3)), 1.5), TypeError, "ints only"),
        (lambda: layer_norm(np.ones((2, 3)), 3, np.ones(2)), ValueError, "weight has shape"),
        (lambda: layer_norm(np.ones(3), (2, 3)), ValueError, r"shape \(3,\)"),
    ],
    ids=["mismatch", "empty", "float", "weight", "too-few-axes"],
)
def test_layer_norm_errors_name_the_op_and_the_culprit(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        call()
    assert "layer_norm" in str(caught.value)


# --------------------------------------------------------------------------- dropout


def test_a_seeded_generator_gives_the_same_mask_and_backward_uses_it() -> None:
    x = Value(_normal(6, 5))
    first = dropout(x, 0.4, generator=np.random.default_rng(7))
    again = dropout(x, 0.4, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(first.data, again.data)
    kept = first.data != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(first.data[kept], x.data[kept] / 0.6, rtol=1e-15)
    first.sum().backward()
    np.testing.assert_array_equal(x.grad, np.where(kept, 1 / 0.6, 0.0))


def test_draws_advance_the_generator() -> None:
    rng = np.random.default_rng(0)
    x = np.ones(50)
    assert (dropout(x, 0.5, generator=rng).data != dropout(x, 0.5, generator=rng).data).any()


def test_not_training_or_p_0_is_the_identity_and_p_1_gives_zeros() -> None:
    x = Value(_normal(3, 4))
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    zeros = dropout(x, 1.0, generator=np.random.default_rng(0))
    assert (zeros.data == 0).all()
    zeros.sum().backward()
    assert (x.grad == 0).all()


def test_the_kept_fraction_is_about_1_minus_p() -> None:
    out = dropout(np.ones(20000), 0.3, generator=np.random.default_rng(1)).data
    assert abs((out != 0).mean() - 0.7) < 0.02


def test_dropout_gradients_to_second_order_with_a_fixed_mask() -> None:
    mask = np.random.default_rng(3).random((3, 4)) > 0.5

    def fn(x: Value) -> Value:
        return call_op("dropout", x, mask=mask, p=0.5) ** 2

    assert gradcheck(fn, _normal(3, 4))
    assert gradgradcheck(fn, _normal(3, 4), seed=3)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: dropout(np.ones(2), 1.5), ValueError, "p must be"),
        (lambda: dropout(np.ones(2), "0.5"), TypeError, "p must be"),
        (lambda: dropout(np.ones(2), 0.5, generator=0), TypeError, "Generator"),
        (lambda: dropout(np.ones(2), 0.5, training=None), TypeError, "training"),
        (lambda: call_op("dropout", Value(np.ones(2)), mask=np.ones(2), p=0.5), TypeError, "boolean"),
        (lambda: call_op("dropout", Value(np.ones(2)), mask=np.ones(3, bool)), ValueError, r"shape \(3,\)"),
    ],
    ids=["p-range", "p-type", "generator", "training", "mask-dtype", "mask-shape"],
)
def test_dropout_errors_name_the_op_and_the_culprit(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        call()
    assert "dropout" in str(caught.value)


# --------------------------------------------------------------------------- embedding


def test_repeated_indices_accumulate_and_padding_gets_nothing() -> None:
    weight = Value(np.arange(8.0).reshape(4, 2))
    out = embedding(np.array([[3, 1, 3], [3, 0, 1]]), weight, padding_idx=0)
    assert out.shape == (2, 3, 2)
    assert out.data[1, 1].tolist() == [0.0, 1.0]  # the padding row is looked up as it is
    out.backward(np.ones((2, 3, 2)))
    assert weight.grad.tolist() == [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0], [3.0, 3.0]]


def test_a_negative_padding_idx_counts_from_the_end() -> None:
    weight = Value(np.ones((3, 2)))
    embedding([2, 2, 1], weight, padding_idx=-1).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]


def test_embedding_gradients_to_second_order() -> None:
    indices = np.array([[0, 2, 2], [1, 2, 0]])

    def fn(w: Value) -> Value:
        return embedding(indices, w) ** 2

    assert gradcheck(fn, RNG.normal(size=(3, 2)))
    assert gradgradcheck(fn, RNG.normal(size=(3, 2)), seed=4)


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        (np.array([0.0, 1.0]), TypeError, "integers, got dtype float64"),
        (np.array([True]), TypeError, "dtype bool"),
        (np.array([0, 4]), IndexError, r"index 4 is out of range for 3 embeddings \(weight shape \(3, 2\)\)"),
        (np.array([-1]), IndexError, "index -1 is out of range"),
        (Value([0.0]), TypeError, "not a Value"),
    ],
    ids=["float", "bool", "too-big", "negative", "value"],
)
def test_bad_indices_name_embedding(indices, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"embedding: .*{message}"):
        embedding(indices, Value(np.ones((3, 2))))


def test_a_weight_that_is_not_a_matrix_or_a_bad_padding_idx_is_refused() -> None:
    with pytest.raises(ValueError, match=r"embedding: weight must be 2-d.*\(3,\)"):
        embedding([0], np.ones(3))
    with pytest.raises(ValueError, match="embedding: padding_idx 3 is out of range"):
        embedding([0], np.ones((3, 2)), padding_idx=3)
    with pytest.raises(TypeError, match="embedding: padding_idx must be an int"):
        embedding([0], np.ones((3, 2)), padding_idx=1.0)
