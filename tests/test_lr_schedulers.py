"""Learning-rate schedulers give each parameter group the learning rates of their formulas (the
closed forms written out here, and hand-worked values), and the optimizer steps with them;
ReduceLROnPlateau waits ``patience`` bad epochs, honours the threshold, cooldown and min_lr."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autonet import Value
from autonet.optim import (
    SGD,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)

BASES = (0.1, 0.03)


def two_groups(optimizer_class=SGD) -> SGD:
    return optimizer_class([{"params": [Value(0.0)], "lr": lr} for lr in BASES], lr=1.0)


def schedule(scheduler, epochs: int) -> np.ndarray:
    """The learning rates of every group over ``epochs`` epochs: row e is epoch e's."""
    rates = []
    for _ in range(epochs):
        rates.append(scheduler.get_last_lr())
        assert rates[-1] == [group["lr"] for group in scheduler.optimizer.param_groups]
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(rates)


def closed_form(formula, epochs: int) -> np.ndarray:
    return np.array([[formula(base, epoch) for base in BASES] for epoch in range(epochs)])


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    rates = schedule(StepLR(two_groups(), step_size=3, gamma=0.5), 10)
    np.testing.assert_allclose(rates, closed_form(lambda b, e: b * 0.5 ** (e // 3), 10), rtol=1e-15)
    assert rates[:, 0].tolist()[:7] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]


def test_multi_step_lr_multiplies_by_gamma_at_each_milestone_once_per_listing():
    rates = schedule(MultiStepLR(two_groups(), milestones=[6, 2, 6], gamma=0.5), 9)

    def passed(epoch):
        return sum(milestone <= epoch for milestone in [2, 6, 6])

    np.testing.assert_allclose(rates, closed_form(lambda b, e: b * 0.5 ** passed(e), 9), rtol=1e-15)


@pytest.mark.parametrize(("start", "end", "total"), [(1 / 3, 1.0, 5), (0.1, 0.9, 7), (1.0, 0.0, 4)])
def test_linear_lr_moves_the_factor_in_a_straight_line_then_holds_it(start, end, total):
    rates = schedule(LinearLR(two_groups(), start_factor=start, end_factor=end, total_iters=total), 12)

    def linear(base, epoch):
        return base * (start + (end - start) * min(epoch, total) / total)

    np.testing.assert_allclose(rates, closed_form(linear, 12), rtol=1e-12, atol=1e-15)


def test_exponential_lr_is_initial_lr_times_gamma_to_the_epoch():
    rates = schedule(ExponentialLR(two_groups(), gamma=0.9), 12)
    np.testing.assert_allclose(rates, closed_form(lambda b, e: b * 0.9**e, 12), rtol=1e-14)


def test_cosine_annealing_follows_half_a_cosine_down_to_eta_min_and_back_up():
    rates = schedule(CosineAnnealingLR(two_groups(), T_max=10, eta_min=0.001), 25)

    def cosine(base, epoch):
        return 0.001 + (base - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2

    np.testing.assert_allclose(rates, closed_form(cosine, 25), rtol=1e-15)
    assert rates[5, 0] == pytest.approx((0.1 + 0.001) / 2)  # half way: the mean of the two ends
    assert rates[10].tolist() == pytest.approx([0.001, 0.001])  # T_max: eta_min
    assert rates[20].tolist() == pytest.approx(list(BASES))  # 2 T_max: back at the start


def test_cosine_by_hand():
    # T_max 4 from 1: (1 + cos(k pi / 4)) / 2 = 1, (2 + sqrt 2) / 4, 1/2, (2 - sqrt 2) / 4, 0
    optimizer = SGD([Value(1.0)], lr=1.0)
    rates = schedule(CosineAnnealingLR(optimizer, T_max=4), 5)[:, 0]
    expected = [1.0, (2 + math.sqrt(2)) / 4, 0.5, (2 - math.sqrt(2)) / 4, 0.0]
    np.testing.assert_allclose(rates, expected, atol=1e-16)


def test_lambda_lr_takes_one_function_per_group():
    warm_up = lambda epoch: min(1.0, (epoch + 1) / 5)
    halving = lambda epoch: 0.5**epoch
    rates = schedule(LambdaLR(two_groups(), [warm_up, halving]), 8)
    np.testing.assert_allclose(rates[:, 0], [0.1 * warm_up(e) for e in range(8)], rtol=1e-15)
    np.testing.assert_allclose(rates[:, 1], [0.03 * halving(e) for e in range(8)], rtol=1e-15)
    shared = schedule(LambdaLR(two_groups(), warm_up), 3)
    np.testing.assert_allclose(shared, closed_form(lambda b, e: b * warm_up(e), 3), rtol=1e-15)


def test_the_optimizer_steps_with_the_scheduled_learning_rate():
    w = Value(0.0)
    optimizer = SGD([w], lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):  # gradient 1: moves by 1, then 0.5, then 0.25
        w.grad = 1.0
        optimizer.step()
        scheduler.step()
    assert w.item() == pytest.approx(-1.75)
    assert optimizer.param_groups[0]["initial_lr"] == 1.0 and scheduler.base_lrs == [1.0]


def test_step_lr_carries_on_from_a_changed_learning_rate_as_torch():
    optimizer = SGD([Value(0.0)], lr=1.0)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.1)
    scheduler.step()
    optimizer.param_groups[0]["lr"] = 0.5  # changed by hand between boundaries
    scheduler.step()
    assert scheduler.get_last_lr() == [pytest.approx(0.05)]


def test_a_scheduler_resumes_from_its_state_dict():
    optimizer = Adam([Value(1.0)], lr=0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=7)
    schedule(scheduler, 3)
    saved, optimizer_state = scheduler.state_dict(), optimizer.state_dict()
    assert saved["last_epoch"] == 3 and "optimizer" not in saved
    rest = schedule(scheduler, 4)

    resumed_optimizer = Adam([Value(1.0)], lr=0.7)
    resumed_optimizer.load_state_dict(optimizer_state)
    resumed = CosineAnnealingLR(resumed_optimizer, T_max=7, last_epoch=2)
    resumed.load_state_dict(saved)
    np.testing.assert_array_equal(schedule(resumed, 4), rest)
    with pytest.raises(ValueError, match="unknown entries"):
        resumed.load_state_dict({"epoch": 3})


def test_resuming_needs_the_initial_learning_rates():
    with pytest.raises(ValueError, match="needs 'initial_lr' in every parameter group"):
        StepLR(SGD([Value(1.0)], lr=0.1), step_size=2, last_epoch=4)


# --------------------------------------------------------------------------- ReduceLROnPlateau


def plateau_rates(metrics, lrs=(1.0,), **settings) -> list[list[float]]:
    optimizer = SGD([{"params": [Value(0.0)], "lr": lr} for lr in lrs], lr=1.0)
    scheduler = ReduceLROnPlateau(optimizer, **settings)
    rates = []
    for metric in metrics:
        scheduler.step(metric)
        rates.append(scheduler.get_last_lr())
    return rates


def test_plateau_cuts_after_more_than_patience_bad_epochs():
    # Best 1.0 at epoch 1, then 3 bad epochs: patience 2 tolerates 2, the 3rd cuts; the count
    # restarts, so the next cut comes 3 bad epochs later.
    rates = plateau_rates([1.0, 1.0, 1.5, 1.2, 1.0, 1.0, 1.0], patience=2, factor=0.5)
    assert [r[0] for r in rates] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_plateau_improvements_reset_the_count_and_tiny_ones_do_not_count():
    # Each epoch improves by 10%: never a cut.
    assert plateau_rates([0.9**k for k in range(12)], patience=0)[-1] == [1.0]
    # An improvement of 1e-6 relative is below the threshold 1e-4: a bad epoch.
    rates = plateau_rates([1.0, 1.0 - 1e-6, 1.0 - 2e-6], patience=1)
    assert [r[0] for r in rates] == [1.0, 1.0, pytest.approx(0.1)]
    # In abs mode a threshold of 0.5 needs the loss to fall by more than 0.5.
    rates = plateau_rates([2.0, 1.6, 1.0], patience=0, threshold_mode="abs", threshold=0.5)
    assert [r[0] for r in rates] == [1.0, pytest.approx(0.1), pytest.approx(0.1)]


def test_plateau_in_max_mode_watches_for_a_rise():
    rates = plateau_rates([0.5, 0.6, 0.6, 0.59, 0.7], mode="max", patience=1, factor=0.5)
    assert [r[0] for r in rates] == [1.0, 1.0, 1.0, 0.5, 0.5]


def test_plateau_cooldown_and_min_lr_per_group():
    rates = plateau_rates([1.0] * 8, lrs=(1.0, 0.1), patience=0, factor=0.5, cooldown=2, min_lr=[0.3, 0.0])
    # Bad epochs from the 2nd on; a cut, then 2 epochs of cooldown, then a cut again.
    assert [r[0] for r in rates] == [1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]
    assert [r[1] for r in rates] == pytest.approx([0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125])


def test_plateau_takes_a_value_as_the_metric():
    optimizer = SGD([Value(0.0)], lr=1.0)
    scheduler = ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(Value(2.0))
    scheduler.step(Value(3.0))
    assert scheduler.best == 2.0 and scheduler.get_last_lr() == [pytest.approx(0.1)]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: StepLR(SGD([Value(1.0)]), step_size=0), ValueError, "step_size must be a positive int"),
        (lambda: CosineAnnealingLR(SGD([Value(1.0)]), T_max=0), ValueError, "T_max must be a positive int"),
        (lambda: StepLR([Value(1.0)], step_size=2), TypeError, "expected an optimizer"),
        (lambda: MultiStepLR(SGD([Value(1.0)]), milestones=[3, 0]), ValueError, "every milestone must be"),
        (
            lambda: LinearLR(SGD([Value(1.0)]), start_factor=0.0),
            ValueError,
            r"start_factor must lie in \(0, 1\]",
        ),
        (
            lambda: LinearLR(SGD([Value(1.0)]), total_iters=0),
            ValueError,
            "total_iters must be a positive int",
        ),
        (lambda: LambdaLR(two_groups(), [lambda e: 1.0]), ValueError, "1 lr_lambdas for 2 parameter groups"),
        (lambda: LambdaLR(SGD([Value(1.0)]), 0.5), TypeError, "function of the epoch"),
        (lambda: ReduceLROnPlateau(SGD([Value(1.0)]), factor=1.0), ValueError, r"factor must be in \[0, 1\)"),
        (lambda: ReduceLROnPlateau(SGD([Value(1.0)]), mode="lowest"), ValueError, "mode must be"),
        (
            lambda: ReduceLROnPlateau(two_groups(), min_lr=[0.1]),
            ValueError,
            "1 min_lr for 2 parameter groups",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
