"""Optimizers follow their update formulas (checked step by step against the formulas written out
here), update in place, keep dtypes, skip parameters without gradients and resume from state_dict."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet import Value, nn
from autonet.engine import stored_gradient
from autonet.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from autonet.storage import add_gradients_, stored_data

GRADIENTS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.75, 1.0]), np.array([1.0, 0.0, -3.0])]
START = np.array([1.0, -2.0, 0.5])


def on_the_float_path(scalar: Value) -> bool:
    """Whether ``scalar`` is on the lean path of float64 scalars: a backward through it stores a
    Python float as its gradient (``stored_gradient`` promises that for float64 scalars; on a 0-d
    array it stores a 0-d array). The probe is a detached twin, so ``scalar``'s own gradient and
    data stay as they are."""
    twin = scalar.detach().requires_grad_()
    (twin * 1.0).backward()
    return type(stored_gradient(twin)) is float


def run(optimizer_class, steps=GRADIENTS, start=START, **settings) -> np.ndarray:
    """Parameter values after applying ``optimizer_class`` with the given gradients, one per step."""
    p = Value(start.copy())
    optimizer = optimizer_class([p], **settings)
    for g in steps:
        p.grad = g
        optimizer.step()
    return p.data


def sgd_reference(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0) -> np.ndarray:
    p, buffer = START.copy(), None
    for g in GRADIENTS:
        g = g + weight_decay * p
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + (1 - dampening) * g
            g = g + momentum * buffer if nesterov else buffer
        p = p - lr * g
    return p


def adam_reference(
    lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False, amsgrad=False, gradients=GRADIENTS
) -> np.ndarray:
    p, m, v, largest = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(gradients, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        largest = np.maximum(largest, v)
        m_hat = m / (1 - betas[0] ** t)
        v_hat = (largest if amsgrad else v) / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def rmsprop_reference(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) -> np.ndarray:
    p, square, average, buffer = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADIENTS:
        g = g + weight_decay * p
        square = alpha * square + (1 - alpha) * g * g
        average = alpha * average + (1 - alpha) * g
        step = g / (np.sqrt(square - average**2 if centered else square) + eps)
        buffer = momentum * buffer + step
        p = p - lr * (buffer if momentum else step)
    return p


def adagrad_reference(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    p, total = START.copy(), np.full(3, initial_accumulator_value)
    for t, g in enumerate(GRADIENTS, start=1):
        g = g + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
    return p


def test_sgd_first_step_by_hand():
    # p = [1, -2, 0.5], g = [0.5, -1, 2], lr 0.1: p - 0.1 g
    np.testing.assert_allclose(run(SGD, GRADIENTS[:1], lr=0.1), [0.95, -1.9, 0.3])


def test_sgd_with_momentum_by_hand():
    # step 1: buf = g1 = [0.5, -1, 2]; p = [0.95, -1.9, 0.3]
    # step 2: buf = 0.9 * g1 + g2 = [0.2, -0.15, 2.8]; p = p - 0.1 * buf = [0.93, -1.885, 0.02]
    np.testing.assert_allclose(run(SGD, GRADIENTS[:2], lr=0.1, momentum=0.9), [0.93, -1.885, 0.02])


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
        {"lr": 0.1, "momentum": 0.9, "nesterov": True},
        {"lr": 0.1, "weight_decay": 0.01},
        {"lr": 0.2, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1},
    ],
)
def test_sgd_follows_its_formula(settings):
    np.testing.assert_allclose(run(SGD, **settings), sgd_reference(**settings), rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient_sign():
    # m_hat = g and v_hat = g**2 after one step, so the step is lr * g / (|g| + eps).
    expected = START - 0.01 * GRADIENTS[0] / (np.abs(GRADIENTS[0]) + 1e-8)
    np.testing.assert_allclose(run(Adam, GRADIENTS[:1], lr=0.01), expected, rtol=1e-15)


def test_adam_second_step_by_hand():
    g1, g2 = GRADIENTS[0][0], GRADIENTS[1][0]  # 0.5, -0.25 for the first weight
    m = 0.9 * (0.1 * g1) + 0.1 * g2
    v = 0.999 * (0.001 * g1**2) + 0.001 * g2**2
    step1 = 0.01 * g1 / (abs(g1) + 1e-8)
    step2 = 0.01 * (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert run(Adam, GRADIENTS[:2], lr=0.01)[0] == pytest.approx(START[0] - step1 - step2, rel=1e-14)


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.01},
        {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "weight_decay": 0.1},
    ],
)
def test_adam_follows_its_formula(settings):
    np.testing.assert_allclose(run(Adam, **settings), adam_reference(**settings), rtol=1e-13)


@pytest.mark.parametrize("optimizer_class", [Adam, AdamW])
def test_amsgrad_divides_by_the_largest_second_moment_so_far(optimizer_class):
    # A large gradient, then small ones: v falls, so plain Adam's steps grow back and AMSGrad's do not.
    gradients = [np.array([5.0, -4.0, 3.0])] + [np.array([0.1, 0.2, -0.1])] * 4
    settings = {"lr": 0.01, "weight_decay": 0.1}
    decoupled = optimizer_class is AdamW
    got = run(optimizer_class, gradients, amsgrad=True, **settings)
    np.testing.assert_allclose(
        got, adam_reference(**settings, decoupled=decoupled, amsgrad=True, gradients=gradients), rtol=1e-13
    )
    assert not np.allclose(got, run(optimizer_class, gradients, **settings))


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.01},
        {"lr": 0.05, "alpha": 0.9, "eps": 1e-6},
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.01, "centered": True},
        {"lr": 0.02, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    ],
)
def test_rmsprop_follows_its_formula(settings):
    np.testing.assert_allclose(run(RMSprop, **settings), rmsprop_reference(**settings), rtol=1e-13)


def test_rmsprop_first_step_by_hand():
    # sq = (1 - 0.9) g**2, so the step is lr * g / (sqrt(0.1) |g| + eps).
    expected = START - 0.01 * GRADIENTS[0] / (np.sqrt(0.1) * np.abs(GRADIENTS[0]) + 1e-8)
    np.testing.assert_allclose(run(RMSprop, GRADIENTS[:1], lr=0.01, alpha=0.9), expected, rtol=1e-15)


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.05, "initial_accumulator_value": 0.3, "eps": 1e-6},
    ],
)
def test_adagrad_follows_its_formula(settings):
    np.testing.assert_allclose(run(Adagrad, **settings), adagrad_reference(**settings), rtol=1e-13)


def test_adagrad_steps_shrink_with_the_squared_gradients_summed():
    # The same gradient twice: steps lr * g / |g| and lr * g / (sqrt(2) |g|).
    same = [GRADIENTS[0]] * 2
    expected = START - 0.1 * np.sign(GRADIENTS[0]) * (1 + 1 / np.sqrt(2))
    np.testing.assert_allclose(run(Adagrad, same, lr=0.1), expected, rtol=1e-9)


def test_adamw_decays_the_weights_apart_from_the_gradient():
    settings = {"lr": 0.01, "weight_decay": 0.5}
    np.testing.assert_allclose(run(AdamW, **settings), adam_reference(**settings, decoupled=True), rtol=1e-13)
    # Coupled L2 (Adam's weight_decay) goes through the adaptive scaling, so the two differ.
    assert not np.allclose(run(AdamW, **settings), run(Adam, **settings))
    # With a zero gradient only the decay acts: p * (1 - lr * wd) per step.
    np.testing.assert_allclose(
        run(AdamW, [np.zeros(3)] * 2, **settings), START * (1 - 0.005) ** 2, rtol=1e-15
    )


@given(
    st.sampled_from(
        [
            (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
            (SGD, {"lr": 0.3, "momentum": 0.5, "dampening": 0.5}),
            (Adam, {"lr": 0.05, "weight_decay": 0.2}),
            (AdamW, {"lr": 0.05, "weight_decay": 0.2}),
            (Adam, {"lr": 0.05, "amsgrad": True}),
            (RMSprop, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
            (RMSprop, {"lr": 0.05, "centered": True}),
            (Adagrad, {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
        ]
    ),
    st.lists(st.floats(-10, 10), min_size=1, max_size=5),
    st.floats(-5, 5),
)
def test_a_float_scalar_parameter_moves_exactly_as_a_one_element_array(choice, gradients, start):
    optimizer_class, settings = choice
    scalar, array = Value(start), Value(np.array([start]))
    assert on_the_float_path(scalar)
    scalar_optimizer, array_optimizer = (
        optimizer_class([scalar], **settings),
        optimizer_class([array], **settings),
    )
    for g in gradients:
        scalar.grad, array.grad = g, np.array([g])
        scalar_optimizer.step()
        array_optimizer.step()
    assert on_the_float_path(scalar)  # the steps did not turn it into an array
    assert scalar.item() == pytest.approx(array.item(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "optimizer_class, settings",
    [
        (SGD, {"lr": 0.1}),
        (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
        (Adam, {"lr": 0.05, "weight_decay": 0.2, "amsgrad": True}),
        (AdamW, {"lr": 0.05}),
        (RMSprop, {"lr": 0.05, "momentum": 0.9, "centered": True}),
        (Adagrad, {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}),
    ],
)
def test_maximize_steps_as_minimizing_the_negated_gradient(optimizer_class, settings):
    # PyTorch's maximize: the gradient is negated first, before weight decay and the moments.
    rng = np.random.default_rng(5)
    gradients = [rng.normal(size=3) for _ in range(4)]
    up, down = Value(START.copy()), Value(START.copy())
    ascent = optimizer_class([up], maximize=True, **settings)
    descent = optimizer_class([down], **settings)
    for g in gradients:
        up.grad, down.grad = g, -g
        ascent.step()
        descent.step()
    np.testing.assert_array_equal(up.data, down.data)
    assert not np.array_equal(up.data, START)
    assert ascent.state_dict()["param_groups"][0]["maximize"] is True


def test_sgd_takes_pytorchs_arguments_in_pytorchs_order():
    optimizer = SGD([Value(1.0)], 0.1, 0.9, 0.0, 0.01, True)
    assert (optimizer.lr, optimizer.momentum, optimizer.weight_decay, optimizer.nesterov) == (
        0.1,
        0.9,
        0.01,
        True,
    )
    assert SGD([Value(1.0)]).lr == 1e-3  # PyTorch's default
    with pytest.raises(TypeError, match=r"Adam: maximize must be a bool, got 'yes'"):
        Adam([Value(1.0)], maximize="yes")


@pytest.mark.parametrize("shared", [True, False], ids=["from_numpy", "own array"])
@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW, RMSprop, Adagrad])
def test_arrays_are_updated_in_place_and_keep_float32(optimizer_class, shared):
    # Either way the array that ``data`` hands out is the one the step writes into: a step that
    # made a new array would leave it at ones.
    if shared:
        array = np.ones(4, dtype=np.float32)
        p = Value.from_numpy(array)
    else:
        p = Value(np.ones(4, dtype=np.float32))
        array = p.data
    optimizer = optimizer_class([p], lr=0.1)
    p.grad = np.full(4, 0.5, dtype=np.float32)
    optimizer.step()
    assert p.data is array and p.dtype == np.float32
    assert np.all(array < 1)


def test_parameters_without_a_gradient_are_left_alone():
    used, unused = Value(np.ones(2)), Value(np.ones(2))
    optimizer = Adam([used, unused], lr=0.1, weight_decay=0.1)
    (used * 2).sum().backward()
    optimizer.step()
    assert unused.tolist() == [1.0, 1.0] and optimizer.state[1] == {}
    assert used.data[0] < 1


def test_zero_grad_clears_the_gradients():
    p = Value(np.ones(2))
    optimizer = SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.zero_grad()
    assert p.grad.tolist() == [0.0, 0.0]


def test_gradients_that_are_values_from_create_graph_are_used():
    p = Value(np.array([1.0, 2.0]))
    (p * p).sum().backward(create_graph=True)
    assert isinstance(p.grad, Value)
    SGD([p], lr=0.5).step()
    assert p.tolist() == [0.0, 0.0]


def test_the_learning_rate_can_change_between_steps():
    p = Value(np.array([1.0]))
    optimizer = SGD([p], lr=0.1)
    p.grad = np.array([1.0])
    optimizer.step()
    optimizer.lr = 0.5
    optimizer.step()
    assert p.item() == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("optimizer_class", "settings"),
    [
        (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (Adam, {"lr": 0.01}),
        (AdamW, {"lr": 0.01, "amsgrad": True}),
        (RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
        (Adagrad, {"lr": 0.1}),
    ],
)
def test_training_resumes_exactly_from_saved_state(optimizer_class, settings):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 2)), rng.integers(0, 3, 16)

    def train(model, optimizer, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            nn.cross_entropy(model(x), y).backward()
            optimizer.step()

    model = nn.MLP(2, [4, 3], rng=1)
    optimizer = optimizer_class(model.parameters(), **settings)
    train(model, optimizer, 3)
    model_state, optimizer_state = model.state_dict(), optimizer.state_dict()
    train(model, optimizer, 4)

    resumed = nn.MLP(2, [4, 3], rng=2)
    resumed.load_state_dict(model_state)
    resumed_optimizer = optimizer_class(resumed.parameters(), lr=123.0)
    resumed_optimizer.load_state_dict(optimizer_state)
    assert resumed_optimizer.lr == settings["lr"]
    train(resumed, resumed_optimizer, 4)
    for p, q in zip(model.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_copy_and_a_mismatched_state_is_refused_unchanged():
    p = Value(np.ones(3))
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(3)
    optimizer.step()
    state = optimizer.state_dict()
    state["state"][0]["momentum_buffer"][...] = 7.0
    assert optimizer.state[0]["momentum_buffer"].tolist() == [1.0, 1.0, 1.0]
    other = SGD([Value(np.ones(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"momentum_buffer has shape \(3,\), the parameter \(2,\)"):
        other.load_state_dict(optimizer.state_dict())
    assert other.state == [{}]
    with pytest.raises(ValueError, match="from a 'SGD' optimizer"):
        Adam([p]).load_state_dict(state)
    with pytest.raises(ValueError, match="has 1 parameters, this optimizer has 2"):
        SGD([p, Value(1.0)], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match=r"lacks 'param_groups' and 'state'.*state_dict"):
        SGD([p], lr=0.1).load_state_dict({"type": "SGD"})
    with pytest.raises(TypeError, match="expected the dict that state_dict"):
        SGD([p], lr=0.1).load_state_dict([("type", "SGD")])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: SGD([np.ones(2)], lr=0.1), TypeError, "parameter 0 is a ndarray, not a Value"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, "iterable of Values"),
        (lambda: SGD([Value(1.0)], lr=-1.0), ValueError, "lr must be >= 0"),
        (
            lambda: SGD([Value(1.0)], lr=0.1, nesterov=True),
            ValueError,
            "Nesterov momentum needs momentum > 0",
        ),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, r"betas must be two numbers in \[0, 1\)"),
        (lambda: AdamW([Value(1.0)], weight_decay=-0.1), ValueError, "weight_decay must be >= 0"),
        (lambda: RMSprop([Value(1.0)], alpha=-0.5), ValueError, "RMSprop: alpha must be >= 0"),
        (lambda: Adagrad([Value(1.0)], lr_decay=-1.0), ValueError, "Adagrad: lr_decay must be >= 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_parameter_listed_twice_is_refused():
    p = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)


# --------------------------------------------------------------------------- parameter groups


def test_groups_with_different_learning_rates_move_their_parameters_by_different_amounts():
    body, head = Value(np.zeros(3)), Value(np.zeros(2))
    optimizer = SGD([{"params": [body]}, {"params": [head], "lr": 1e-2}], lr=1e-3, momentum=0.9)
    assert [group["lr"] for group in optimizer.param_groups] == [1e-3, 1e-2]
    assert all(group["momentum"] == 0.9 for group in optimizer.param_groups)  # the defaults fill in
    for _ in range(2):
        body.grad, head.grad = np.ones(3), np.ones(2)
        optimizer.step()
    # step 1 moves by lr, step 2 by lr * (1 + 0.9): 2.9 lr in all
    np.testing.assert_allclose(body.data, -2.9e-3, rtol=1e-14)
    np.testing.assert_allclose(head.data, -2.9e-2, rtol=1e-14)


def test_adam_groups_each_follow_the_formula_with_their_own_settings():
    first, second = Value(START.copy()), Value(START.copy())
    own = {"lr": 0.1, "betas": [0.8, 0.99], "weight_decay": 0.1}
    optimizer = Adam([{"params": first}, {"params": [second], **own}], lr=0.01)
    assert optimizer.param_groups[1]["betas"] == (0.8, 0.99)
    for g in GRADIENTS:
        first.grad, second.grad = g, g
        optimizer.step()
    np.testing.assert_allclose(first.data, adam_reference(lr=0.01), rtol=1e-13)
    np.testing.assert_allclose(
        second.data, adam_reference(lr=0.1, betas=(0.8, 0.99), weight_decay=0.1), rtol=1e-13
    )


def test_add_param_group_steps_the_new_parameters_with_their_settings():
    old, new = Value(1.0), Value(np.ones(2))
    optimizer = SGD([old], lr=0.1)
    optimizer.add_param_group({"params": [new], "lr": 0.5, "momentum": 0.9})
    assert optimizer.params == [old, new] and len(optimizer.state) == 2
    old.grad, new.grad = 1.0, np.ones(2)
    optimizer.step()
    assert old.item() == pytest.approx(0.9) and new.tolist() == pytest.approx([0.5, 0.5])
    assert optimizer.state[0] == {} and optimizer.state[1]["momentum_buffer"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"more than once in the list \(parameter group 2\)"):
        optimizer.add_param_group({"params": [old]})
    with pytest.raises(ValueError, match=r"lr must be >= 0, got -1 \(parameter group 2\)"):
        optimizer.add_param_group({"params": [Value(1.0)], "lr": -1})
    with pytest.raises(TypeError, match="a dict with 'params'"):
        optimizer.add_param_group({"lr": 0.1})
    assert len(optimizer.param_groups) == 2 and len(optimizer.state) == 2  # nothing was added


def test_a_hyperparameter_attribute_sets_every_group_and_reads_only_when_they_agree():
    optimizer = SGD([{"params": [Value(1.0)]}, {"params": [Value(2.0)], "lr": 0.5}], lr=0.1)
    with pytest.raises(AttributeError, match=r"lr: the parameter groups differ \(\[0.1, 0.5\]\)"):
        _ = optimizer.lr
    assert "2 parameter groups" in repr(optimizer) and "lr=[0.1, 0.5]" in repr(optimizer)
    optimizer.lr = 0.2
    assert [group["lr"] for group in optimizer.param_groups] == [0.2, 0.2] and optimizer.lr == 0.2
    assert optimizer.momentum == 0.0 and repr(optimizer).startswith("SGD(2 parameter groups, 2 parameters")
    with pytest.raises(AttributeError, match="no attribute 'learning_rate'"):
        _ = optimizer.learning_rate


def test_groups_resume_exactly_from_saved_state():
    def make(seed):
        body, head = Value(np.full(3, float(seed))), Value(np.full(2, float(seed)))
        groups = [{"params": [body], "lr": 0.01}, {"params": [head], "lr": 0.1, "betas": (0.5, 0.9)}]
        return [body, head], Adam(groups)

    def train(params, optimizer, steps):
        for g in GRADIENTS[:steps]:
            params[0].grad, params[1].grad = g, g[:2]
            optimizer.step()

    params, optimizer = make(1)
    train(params, optimizer, 1)
    saved_params, saved = [p.numpy().copy() for p in params], optimizer.state_dict()
    assert [group["params"] for group in saved["param_groups"]] == [[0], [1]]
    train(params, optimizer, 2)
    resumed, resumed_optimizer = make(7)
    for p, array in zip(resumed, saved_params, strict=True):
        p.copy_(array)
    resumed_optimizer.param_groups[1]["lr"] = 123.0
    resumed_optimizer.load_state_dict(saved)
    assert resumed_optimizer.param_groups[1]["lr"] == 0.1
    train(resumed, resumed_optimizer, 2)
    for p, q in zip(params, resumed, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_state_with_other_groups_is_refused_and_an_old_single_group_state_loads():
    a, b = Value(1.0), Value(2.0)
    state = SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="the state has 2 parameter groups, this optimizer has 1"):
        SGD([a, b], lr=0.1).load_state_dict(state)
    state = SGD([{"params": [a]}, {"params": [b, Value(3.0)]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter group 0 has 1 parameters, this optimizer's has 2"):
        SGD([{"params": [a, b]}, {"params": [Value(1.0)]}], lr=0.1).load_state_dict(state)
    old_format = {"type": "SGD", "hyperparameters": {"lr": 0.3}, "state": [{}, {}]}
    optimizer = SGD([{"params": [a]}, {"params": [b], "lr": 0.9}], lr=0.1)
    optimizer.load_state_dict(old_format)
    assert optimizer.lr == 0.3


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: SGD([{"params": [Value(1.0)]}, Value(2.0)], lr=0.1), TypeError, "not a mixture"),
        (lambda: SGD({"params": [Value(1.0)]}, lr=0.1), TypeError, "list of parameter groups"),
        (lambda: SGD([{"params": []}], lr=0.1), ValueError, "empty parameter list"),
        (
            lambda: SGD([{"params": [Value(1.0)]}, {"params": [Value(1.0)], "nesterov": True}], lr=0.1),
            ValueError,
            r"Nesterov momentum needs momentum > 0.*\(parameter group 1\)",
        ),
        (
            lambda: Adam([{"params": [Value(1.0)]}, {"params": [np.ones(2)]}]),
            TypeError,
            r"parameter 0 \(parameter group 1\) is a ndarray",
        ),
        (lambda: Adam([{"params": [Value(1.0)], "betas": (0.9, 1.5)}]), ValueError, "betas must be"),
    ],
)
def test_bad_groups_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "delta_kind", ["same dtype", "float64 array", "list"], ids=["same", "float64", "list"]
)
@pytest.mark.parametrize("alpha", [-0.1, np.float64(-0.1), 1.0, -1.0], ids=["float", "np64", "one", "minus"])
def test_add_computes_in_the_values_dtype_whatever_the_delta(dtype, delta_kind, alpha):
    # The reference casts the delta to the Value's dtype first and computes there, as SGD's
    # update p -= lr * g does in numpy with p and g of one dtype.
    rng = np.random.default_rng(0)
    start = rng.normal(size=5).astype(dtype)
    delta64 = rng.normal(size=5)
    delta = {"same dtype": delta64.astype(dtype), "float64 array": delta64, "list": delta64.tolist()}
    p = Value(start.copy())
    array = p.data
    p.add_(delta[delta_kind], alpha=alpha)
    cast = np.asarray(delta[delta_kind]).astype(dtype)
    expected = start + (cast if alpha == 1.0 else -cast if alpha == -1.0 else cast * dtype(alpha))
    assert p.data is array and p.dtype == dtype
    np.testing.assert_array_equal(p.data, expected)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_takes_pytorchs_set_to_none_and_training_goes_on_the_same(set_to_none: bool) -> None:
    from autonet import compile as compile_step

    def make():
        model = nn.Linear(2, 1, rng=0)
        return model, SGD(model.parameters(), lr=0.1)

    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    losses = []
    for use_module, compiled in ((False, False), (True, False), (False, True)):
        model, optimizer = make()

        def step(inputs, model=model, optimizer=optimizer, use_module=use_module):
            (model if use_module else optimizer).zero_grad(set_to_none=set_to_none)
            loss = (model(inputs) ** 2).sum()
            loss.backward()
            optimizer.step()
            return loss.item()

        step = compile_step(step) if compiled else step
        losses.append([step(x) for _ in range(4)])
        model.zero_grad(set_to_none=set_to_none)
        assert model.weight.grad.tolist() == [[0.0, 0.0]] and model.bias.grad.tolist() == [0.0]
    assert losses[0] == losses[1] == losses[2] and losses[0][-1] < losses[0][0]


@pytest.mark.parametrize(
    "alpha", [-0.1, -1.0, 1.0, -2, np.float32(-0.1)], ids=["float", "minus", "one", "int", "f32"]
)
def test_add_gradients_moves_each_value_as_add_does_and_keeps_recorded_graphs_whole(alpha) -> None:
    def values():
        rng = np.random.default_rng(3)  # the same Values and gradients in each call
        made = [
            Value(rng.normal()),  # a float64 scalar: the float path
            Value(rng.normal(size=(2, 3)).astype(np.float32)),
            Value(rng.normal(size=4)),
            Value.from_numpy(rng.normal(size=3)),  # an array the caller may keep
            Value(rng.normal(size=2)),  # a live graph keeps its numbers (below)
            Value(rng.normal(size=2)),  # no gradient: left alone
        ]
        for v in made[:5]:
            v.grad = rng.normal(size=v.shape).astype(v.dtype) if v.shape else rng.normal()
        return made

    one_by_one, together = values(), values()
    for v in one_by_one[:5]:
        v.add_(stored_gradient(v), alpha=alpha)
    kept = together[3:5]
    pending = [(v * v).sum() for v in kept]  # records their current arrays for a backward
    before = [stored_data(v).copy() for v in kept]
    add_gradients_(together, alpha)
    for a, b in zip(one_by_one, together, strict=True):
        assert a.dtype == b.dtype and np.array_equal(stored_data(a), stored_data(b))
    for v, loss, numbers in zip(kept, pending, before, strict=True):
        v.zero_grad()
        loss.backward()
        np.testing.assert_array_equal(v.grad, 2 * numbers)  # the numbers its forward saw
