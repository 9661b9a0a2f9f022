"""autonet.compile: a replayed step computes exactly what the eager step computes.

Each test runs one training twice from the same start, eagerly and compiled, and compares the
losses and every parameter bit for bit (``np.array_equal``) over many steps; the rest pin the
signature cache, the guards and the errors that send a user back to the eager path.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import autonet
from autonet import Value, nn, optim


def _batches(count: int, batch: int = 32, features: int = 2, classes: int = 10, dtype=np.float64):
    rng = np.random.default_rng(7)
    return [
        (rng.standard_normal((batch, features)).astype(dtype), rng.integers(0, classes, batch))
        for _ in range(count)
    ]


def _mlp_training(make_optimizer, dtype=np.float64):
    rng = np.random.default_rng(0)
    model = nn.MLP(2, [16, 16, 10], activation="relu", dtype=dtype)
    for p in model.parameters():
        p.copy_(rng.standard_normal(p.shape) * 0.5)
    return model, _classifier_step(model, make_optimizer(model.parameters()))


def _classifier_step(model, optimizer, criterion=nn.cross_entropy):
    """One training step of ``model`` on a batch and its class labels."""

    def step(x, labels):
        optimizer.zero_grad()
        loss = criterion(model(Value(x, requires_grad=False)), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def _same(models_a, models_b) -> bool:
    pairs = list(zip(models_a, models_b, strict=True))
    return all(a.dtype == b.dtype and np.array_equal(a.data, b.data) for a, b in pairs)


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "amsgrad": lambda p: optim.AdamW(p, lr=0.01, amsgrad=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}


def test_labels_that_start_to_be_ignored_after_the_trace_replay_as_eagerly() -> None:
    # The trace saw only real classes; later batches pad some labels with -100 (ignored), one
    # batch all of them (a nan loss that changes nothing). The fused op decides per call.
    batches = _batches(6)
    rng = np.random.default_rng(3)
    for index, (_, labels) in enumerate(batches[1:], start=1):
        labels[rng.random(labels.size) < 0.3 if index != 4 else slice(None)] = -100
    eager_model, eager_step = _mlp_training(OPTIMIZERS["momentum"])
    model, step = _mlp_training(OPTIMIZERS["momentum"])
    compiled = autonet.compile(step)
    eager_losses = [eager_step(x, y) for x, y in batches]
    losses = [compiled(x, y) for x, y in batches]
    assert np.array_equal(losses, eager_losses, equal_nan=True) and np.isnan(losses[4])
    assert compiled.traces == 1
    assert _same(model.parameters(), eager_model.parameters())


@pytest.mark.parametrize(
    "options", [{}, {"weight": [1.0, 3.0, 0.5]}, {"ignore_index": 2}, {"reduction": "sum"}], ids=str
)
def test_log_softmax_and_nll_loss_replay_new_labels_in_every_call(options) -> None:
    # PyTorch's classic pairing: the labels' positions are made from each call's labels, so the
    # step replays (one trace, no warning) and a batch whose labels are all ignored gives nan.
    def make():
        model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1), nn.LogSoftmax(dim=1))
        return model, _classifier_step(model, optim.SGD(model.parameters(), lr=0.1), nn.NLLLoss(**options))

    (eager_model, eager), (model, step) = make(), make()
    compiled = autonet.compile(step)
    rng = np.random.default_rng(5)
    batches = [(rng.normal(size=(16, 4)), rng.integers(0, 3, 16)) for _ in range(6)]
    batches[3][1][:] = 2  # all ignored where ignore_index is 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", autonet.CompileWarning)
        losses = [compiled(x, y) for x, y in batches]
    assert np.array_equal(losses, [eager(x, y) for x, y in batches], equal_nan=True)
    assert compiled.traces == 1 and np.isnan(losses[3]) == ("ignore_index" in options)
    assert _same(model.parameters(), eager_model.parameters())


@pytest.mark.parametrize("form", ["(N, 1)", "whole floats"])
def test_labels_converted_by_cross_entropy_are_converted_again_in_every_replay(form: str) -> None:
    def make():
        model = nn.Linear(4, 3, rng=0)
        return _classifier_step(model, optim.SGD(model.parameters(), lr=0.1))

    eager, compiled = make(), autonet.compile(make())
    rng = np.random.default_rng(2)
    for _ in range(4):
        x, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
        y = y[:, None] if form == "(N, 1)" else y.astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("error", autonet.CompileWarning)
            assert compiled(x, y) == eager(x, y)
    assert compiled.traces == 1


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_compiled_mlp_training_equals_the_eager_one_bit_for_bit(name: str) -> None:
    eager_model, eager_step = _mlp_training(OPTIMIZERS[name])
    model, step = _mlp_training(OPTIMIZERS[name])
    compiled = autonet.compile(step)
    batches = _batches(25)
    eager_losses = [eager_step(x, y) for x, y in batches]
    losses = [compiled(x, y) for x, y in batches]
    assert losses == eager_losses
    assert eager_losses[-1] < eager_losses[0]  # it trains
    assert _same(model.parameters(), eager_model.parameters())
    assert compiled.traces == 1  # one trace, 24 replays


def test_a_values_only_mlp_replays_its_maths_exactly() -> None:
    # benchmarks/mlp.py's autonet_values_step: x @ W + b, relu, log_softmax times a one-hot.
    def training():
        rng = np.random.default_rng(3)
        sizes = [(2, 16), (16, 16), (16, 10)]
        params = []
        for fan_in, fan_out in sizes:
            params += [Value(rng.standard_normal((fan_in, fan_out))), Value(np.zeros(fan_out))]

        def step(x, onehot):
            for p in params:
                p.grad = None
            h = Value(x, requires_grad=False)
            for index in range(0, len(params), 2):
                h = h @ params[index] + params[index + 1]
                if index < len(params) - 2:
                    h = h.relu()
            loss = (h.log_softmax(axis=1) * onehot).sum() * (-1.0 / len(x))
            loss.backward()
            for p in params:
                p.add_(p.grad, alpha=-0.1)
            return loss

        return params, step

    eager_params, eager_step = training()
    params, step = training()
    compiled = autonet.compile(step)
    eager, replayed = [], []
    for x, labels in _batches(20):
        onehot = np.eye(10)[labels]
        eager.append(eager_step(x, onehot).item())
        result = compiled(x, onehot)
        assert isinstance(result, Value)
        replayed.append(result.item())
    assert replayed == eager
    assert _same(params, eager_params)
    assert compiled.traces == 1


def test_a_conv_net_replays_exactly() -> None:
    def training():
        rng = np.random.default_rng(5)
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, dtype=np.float32),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Layer(4 * 4 * 4, 3, activation=None, dtype=np.float32),
        )
        for p in model.parameters():
            p.copy_(rng.standard_normal(p.shape) * 0.3)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

        def step(images, labels):
            optimizer.zero_grad()
            loss = nn.cross_entropy(model(Value(images, requires_grad=False)).relu(), labels)
            loss.backward()
            optimizer.step()
            return loss.item()

        return model, step

    rng = np.random.default_rng(6)
    batches = [
        (rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 4)) for _ in range(4)
    ]
    eager_model, eager_step = training()
    model, step = training()
    compiled = autonet.compile(step)
    assert [compiled(x, y) for x, y in batches] == [eager_step(x, y) for x, y in batches]
    assert _same(model.parameters(), eager_model.parameters())


def test_a_new_batch_size_or_dtype_traces_again_and_each_trace_is_kept() -> None:
    eager_model, eager_step = _mlp_training(OPTIMIZERS["sgd"])
    model, step = _mlp_training(OPTIMIZERS["sgd"])
    compiled = autonet.compile(step)
    sizes = [8, 8, 16, 8, 16, 16]
    for size, (x, y) in zip(sizes, _batches(6, batch=16), strict=True):
        assert compiled(x[:size], y[:size]) == eager_step(x[:size], y[:size])
    assert compiled.traces == 2
    assert _same(model.parameters(), eager_model.parameters())

    for dtype in (np.float32, np.float64):
        w = Value(np.ones(3, dtype=dtype))

        @autonet.compile
        def loss_of(x, w=w):
            w.zero_grad()
            loss = (w * x).sum()
            loss.backward()
            return loss

        for x in (np.arange(3.0, dtype=dtype), np.arange(3.0, dtype=np.float32), np.arange(3.0, dtype=dtype)):
            result = loss_of(x)
            assert result.dtype == np.result_type(dtype, x.dtype)
            assert w.grad.tolist() == [0.0, 1.0, 2.0]
        assert loss_of.traces == (1 if dtype == np.float32 else 2)


def test_without_an_optimizer_gradients_accumulate_as_in_eager() -> None:
    # No zero_grad: backward adds to .grad across calls, replayed or not; the grads come back.
    def setup():
        rng = np.random.default_rng(1)
        w, b = Value(rng.standard_normal((3, 2))), Value(rng.standard_normal(2))

        def loss_and_grads(x):
            loss = ((x @ w + b).tanh() ** 2).mean()
            loss.backward()
            return loss, [w.grad, b.grad]

        return (w, b), loss_and_grads

    (w0, b0), eager = setup()
    (w1, b1), step = setup()
    compiled = autonet.compile(step)
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = rng.standard_normal((4, 3))
        loss, grads = compiled(x)
        eager_loss, eager_grads = eager(x)
        assert np.array_equal(loss.data, eager_loss.data)
        assert all(np.array_equal(g, e) for g, e in zip(grads, eager_grads, strict=True))
        assert np.array_equal(w1.grad, w0.grad) and np.array_equal(b1.grad, b0.grad)
    assert np.array_equal(w1.data, w0.data)  # no update happened: only gradients


def test_a_parameter_given_new_numbers_replays_and_a_new_shape_traces_again() -> None:
    w = Value(np.ones(3))

    @autonet.compile
    def total() -> float:
        w.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss.item()

    assert total() == total() == 3.0
    w.copy_(np.full(3, 2.0))  # new numbers, same shape: read afresh by the replay
    assert total() == 12.0 and total.traces == 1
    w.data = np.ones(5)  # a new shape: the replay's guard notices and traces again
    assert total() == 5.0 and total.traces == 2
    assert w.grad.tolist() == [2.0] * 5


def test_the_signature_name_and_docstring_are_the_functions() -> None:
    def step(x: np.ndarray, scale: float = 2.0, *, label: str = "") -> float:
        """One step."""
        return float((Value(x) * scale).sum().item())

    compiled = autonet.compile(step)
    assert inspect.signature(compiled) == inspect.signature(step)
    assert compiled.__name__ == "step" and compiled.__doc__ == "One step."
    assert compiled.__wrapped__ is step
    assert compiled(np.ones(2), scale=3.0) == compiled(np.ones(2), scale=3.0) == 6.0
    assert compiled(np.ones(2), scale=4.0) == 8.0  # a Python number is part of the signature
    assert compiled.traces == 2


def test_eager_only_features_raise_and_say_where_they_work() -> None:
    x = Value([1.0, 2.0])

    def with_anomaly():
        with autonet.detect_anomaly():
            return (x * x).sum().item()

    def with_create_graph():
        (x * x).sum().backward(create_graph=True)

    def with_gradients():
        return autonet.gradients((x * x).sum(), [x])

    def with_data_assignment():
        x.data = x.data * 2

    def with_steps():
        return list(autonet.backward_steps((x * x).sum()))

    for fn in (with_anomaly, with_create_graph, with_gradients, with_data_assignment, with_steps):
        with pytest.raises(RuntimeError, match="eager path"):
            autonet.compile(fn)()
    with autonet.detect_anomaly(), pytest.raises(RuntimeError, match="detect_anomaly"):
        autonet.compile(lambda: (x * x).sum().item())()
    # The eager path still has them all.
    assert autonet.compile(with_anomaly, disable=True)() == 5.0
    with_create_graph()
    x.grad = None


def test_data_dependent_control_flow_is_refused_or_warned_about() -> None:
    x = Value([1.0, -2.0])

    def branch():
        if x.sum():
            return x * 2
        return x

    with pytest.raises(RuntimeError, match="control flow"):
        autonet.compile(branch)()

    def scaled():
        s = x.sum().item()  # a number the step then computes with: frozen in a replay
        return (x * s).sum().item()

    compiled = autonet.compile(scaled)
    with pytest.warns(autonet.CompileWarning, match="Python number"):
        compiled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert autonet.compile(lambda: x.sum().item())() == -1.0  # returned: no warning


def test_dropout_draws_a_new_mask_in_each_replay_as_in_eager() -> None:
    def training():
        w = Value(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
        generator = np.random.default_rng(11)

        def step(x):
            w.zero_grad()
            loss = (autonet.dropout(x @ w, 0.5, generator=generator) ** 2).sum()
            loss.backward()
            w.add_(w.grad, alpha=-0.01)
            return loss.item()

        return w, step

    (w0, eager), (w1, step) = training(), training()
    compiled = autonet.compile(step)
    x = np.ones((5, 3))
    losses = [compiled(x) for _ in range(6)]
    assert losses == [eager(x) for _ in range(6)]
    assert len(set(losses)) > 1  # new masks: not the traced one again
    assert np.array_equal(w1.data, w0.data)


def test_gradients_of_value_arguments_come_back() -> None:
    @autonet.compile
    def input_gradient(x: Value) -> np.ndarray:
        (x.exp() * x).sum().backward()
        return x.grad

    for numbers in ([0.0, 1.0], [2.0, -1.0], [0.5, 0.25]):
        x, eager_x = Value(numbers), Value(numbers)
        expected = input_gradient.__wrapped__(eager_x).tolist()
        assert np.allclose(expected, np.exp(numbers) * (1 + np.array(numbers)))
        assert input_gradient(x).tolist() == expected
        assert x.grad.tolist() == expected  # stored on the Value passed in
    assert input_gradient.traces == 1


def _batch_norm_training(compiled: bool):
    rng = np.random.default_rng(3)
    model = nn.Sequential(
        nn.Layer(3, 4, activation=None, rng=rng),
        nn.BatchNorm1d(4),
        nn.ReLU(),
        nn.Layer(4, 2, activation=None, rng=rng),
    )
    step = _classifier_step(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    return model, autonet.compile(step) if compiled else step


def test_batch_norm_trains_inside_a_compiled_step_and_its_buffers_follow_the_eager_ones() -> None:
    (eager, eager_step), (model, step) = _batch_norm_training(False), _batch_norm_training(True)
    batches = _batches(12, batch=8, features=3, classes=2)
    assert [step(*b) for b in batches] == [eager_step(*b) for b in batches]
    assert step.traces == 1
    assert _same(model.parameters(), eager.parameters())
    buffers, eager_buffers = dict(model.named_buffers()), dict(eager.named_buffers())
    assert buffers["1.num_batches_tracked"] == 12
    for name, array in eager_buffers.items():  # running mean and variance: the same updates
        assert np.array_equal(buffers[name], array), name


def test_a_compiled_evaluation_reads_the_running_statistics_as_they_are_now() -> None:
    norm = nn.BatchNorm1d(3).eval()
    x = np.random.default_rng(0).standard_normal((5, 3))
    evaluate = autonet.compile(lambda x: norm(Value(x)).sum().item())
    assert evaluate(x) == norm(Value(x)).sum().item()
    norm.train()
    norm(Value(x * 4 + 2))  # the running statistics move
    norm.eval()
    assert evaluate(x) == norm(Value(x)).sum().item() and evaluate.traces == 1


def test_a_cumulative_batch_norm_is_refused_inside_a_compiled_step() -> None:
    norm = nn.BatchNorm1d(3, momentum=None)
    with pytest.raises(RuntimeError, match=r"BatchNorm1d with momentum=None.*eager path"):
        autonet.compile(lambda x: norm(Value(x)).sum().item())(np.ones((4, 3)))


def _clipped_training(compiled: bool):
    scalar, vector = Value(1.0), Value(np.array([2.0, -1.0, 0.5]))

    def step(x):
        scalar.zero_grad()
        vector.zero_grad()
        loss = (scalar * x) ** 2 + ((vector * x).sum() ** 2)
        loss.backward()
        norm = nn.utils.clip_grad_norm_([scalar, vector], 1.0)
        nn.utils.clip_grad_value_(iter([scalar]), 0.3)  # a generator is read once, as in eager
        for p in (scalar, vector):
            p.add_(p.grad, alpha=-0.1)  # the clipped gradient (a float scalar's as a 0-d array)
        return loss.item(), norm, scalar.grad

    return (scalar, vector), autonet.compile(step) if compiled else step


def test_gradients_clipped_inside_a_compiled_step_are_the_replayed_ones() -> None:
    (eager, eager_step), (params, step) = _clipped_training(False), _clipped_training(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: every number is replayed
        results = [step(np.array(float(x))) for x in range(1, 8)]
    expected = [eager_step(np.array(float(x))) for x in range(1, 8)]
    assert [r[:2] for r in results] == [e[:2] for e in expected]
    assert [r[2].item() for r in results] == [e[2].item() for e in expected]
    assert step.traces == 1 and _same(params, eager)
    assert results[-1][1] > 1.0  # the norms were clipped, not just passed through


def test_arguments_reach_the_replay_however_the_step_turns_them_into_values() -> None:
    w = Value(np.array([0.5, -1.0, 2.0]))
    scale = Value(1.5)

    def step(x, factor, mask, row):
        w.zero_grad()
        scale.zero_grad()
        h = (w * Value(x)).tanh()
        kept = h.detach() * mask  # a copy of an op's numbers; an integer mask lifted to a float
        shifted = Value.from_numpy(row) + kept  # the argument's own memory
        loss = ((scale * factor) * shifted.sum()) ** 2 + (h * kept).sum()  # factor: a 0-d array
        loss.backward()
        w.add_(w.grad, alpha=-0.01)
        scale.add_(scale.grad, alpha=-0.01)
        return loss.item(), kept

    compiled = autonet.compile(step)
    rng = np.random.default_rng(5)
    for _ in range(6):
        x, factor = rng.standard_normal(3), np.array(rng.uniform(0.5, 2.0))
        mask, row = rng.integers(0, 2, 3), rng.standard_normal(3)
        state = (w.data.copy(), scale.item())
        replayed, replayed_kept = compiled(x, factor, mask, row)
        w.data, scale.data = state[0], state[1]  # the eager step from the same start
        expected, expected_kept = step(x, factor, mask, row)
        assert replayed == expected and np.array_equal(replayed_kept.data, expected_kept.data)
    assert compiled.traces == 1


def test_a_step_that_raises_while_tracing_leaves_the_engine_eager() -> None:
    @autonet.compile
    def failing(x):
        (Value(x) * 2).sum()
        raise ValueError("the step's own error")

    with pytest.raises(ValueError, match="own error"):
        failing(np.ones(2))
    assert failing.traces == 0
    y = Value([1.0, 2.0])
    (y * y).sum().backward()  # recorded and walked as ever
    assert y.grad.tolist() == [2.0, 4.0]


def test_arrays_closed_over_are_read_again_and_what_the_trace_cannot_see_stays_eager() -> None:
    w = Value(np.ones(2))
    closed_over = np.array([1.0, 2.0])
    weighted = autonet.compile(lambda: (w * closed_over).sum().item())
    assert [weighted() for _ in range(3)] == [3.0, 3.0, 3.0]
    closed_over[:] = [10.0, 20.0]  # a replay lifts the array again, as the eager step does
    assert weighted() == 30.0 and weighted.traces == 1

    # numpy's own draws, and numpy work on an argument: the trace changes from call to call, so
    # the step runs eagerly (the same numbers as uncompiled), and says why.
    rng, again = np.random.default_rng(0), np.random.default_rng(0)
    drawn = autonet.compile(lambda: (w * rng.normal(size=2)).sum().item())
    with pytest.warns(autonet.CompileWarning, match=r"traced differently on 3 calls.*runs eagerly"):
        values = [drawn() for _ in range(5)]
    assert values == [float((np.ones(2) * again.normal(size=2)).sum()) for _ in range(5)]
    halved = autonet.compile(lambda x: (w * Value(x / 2)).sum().item())
    with pytest.warns(autonet.CompileWarning, match="numpy work on an argument"):
        assert [halved(np.full(2, k)) for k in (2.0, 4.0, 6.0, 8.0)] == [2.0, 4.0, 6.0, 8.0]


def _twin_runs(make, calls):
    """The results of ``make()``'s step run eagerly and compiled, from the same start, on ``calls``
    (argument tuples, or a callable of the step and the call's index that makes a change)."""
    results = []
    for compiled in (False, True):
        state, step = make()
        step = autonet.compile(step) if compiled else step
        out = []
        for index, call in enumerate(calls):
            out.append(call(state, step, index) if callable(call) else step(*call))
        results.append((out, state))
    return results


def test_a_constant_equal_to_an_argument_and_one_array_passed_twice_stay_what_they_are() -> None:
    def make():
        w = Value(np.ones(2))

        def step(x, h):
            w.zero_grad()
            loss = ((w * x) + Value(np.zeros(2)) + Value(h)).sum()  # zeros: h's numbers at first
            loss.backward()
            return loss.item()

        return w, step

    zeros, x = np.zeros(2), np.ones(2)
    calls = [(x, zeros), (x, np.full(2, 3.0)), (x, np.full(2, 5.0)), (x, np.full(2, 7.0))]
    (eager, _), (replayed, _) = _twin_runs(make, calls)
    assert replayed == eager and eager[1] == 8.0
    same = np.ones(2)
    calls = [(same, same), (same, np.full(2, 2.0)), (same, np.full(2, 4.0)), (same, np.full(2, 6.0))]
    (eager, _), (replayed, _) = _twin_runs(make, calls)
    assert replayed == eager


def test_namedtuples_and_ordered_dicts_of_arrays_are_arguments_like_tuples_and_dicts() -> None:
    from collections import OrderedDict, namedtuple

    Batch = namedtuple("Batch", "x y")

    def make():
        w = Value(np.array([0.5, -0.5]))

        def step(batch, extra):
            w.zero_grad()
            loss = ((w * batch.x).sum() - batch.y) ** 2 + (w * extra[("k", 1)]).sum()
            loss.backward()
            w.add_(w.grad, alpha=-0.1)
            return loss.item()

        return w, step

    results = []
    for compiled in (False, True):
        w, step = make()
        step = autonet.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        # Made afresh in the loop, as a data loader would: a temporary's id is soon reused.
        out = [
            step(
                Batch(rng.standard_normal(2), np.array(float(i))),
                OrderedDict({("k", 1): rng.standard_normal(2)}),
            )
            for i in range(6)
        ]
        results.append((out, w.data.copy()))
    (eager, w_eager), (replayed, w_replayed) = results
    assert replayed == eager and np.array_equal(w_replayed, w_eager) and step.traces == 1


def test_a_replay_follows_train_eval_and_requires_grad_switched_between_calls() -> None:
    def make():
        rng = np.random.default_rng(1)
        model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Dropout(0.5, rng=rng), nn.Linear(4, 1, rng=rng))
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = (model(Value(x, requires_grad=False)) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.item()

        return model, step

    x = np.random.default_rng(2).standard_normal((5, 3))

    def switch(action):
        def call(model, step, index):
            action(model)
            return step(x)

        return call

    plain = switch(lambda model: None)
    to_eval, to_train = switch(lambda m: m.eval()), switch(lambda m: m.train())
    freeze, thaw = switch(lambda m: m[0].requires_grad_(False)), switch(lambda m: m[0].requires_grad_(True))
    calls = [plain, plain, plain, to_eval, plain, plain, to_train, plain, freeze, plain, plain, thaw, plain]
    (eager, model_eager), (replayed, model) = _twin_runs(make, calls)
    assert replayed == eager
    pairs = zip(model.parameters(), model_eager.parameters(), strict=True)
    assert all(np.array_equal(a.data, b.data) for a, b in pairs)


def test_batch_norm_statistics_passed_as_arguments_are_the_replayed_ones() -> None:
    def make():
        x = Value(np.array([[1.0, 2.0], [3.0, 5.0]]))

        def step(mean, var):
            return autonet.batch_norm(x, mean, var, training=False).sum().item()

        return x, step

    calls = [(np.zeros(2), np.ones(2)), (np.ones(2), np.full(2, 4.0)), (np.full(2, 2.0), np.ones(2))] * 2
    (eager, _), (replayed, _) = _twin_runs(make, calls)
    assert replayed == eager and len(set(eager)) == 3


def test_a_0d_float32_parameter_trains_and_keeps_an_array_gradient() -> None:
    def make():
        a = Value(np.float32(0.5))

        def step(t):
            a.zero_grad()
            loss = a * t + a * a  # two paths meet at a: a sum of 0-d gradients
            loss.backward()
            a.add_(a.grad, alpha=-0.1)
            return loss.item(), a.grad

        return a, step

    calls = [(np.float32(k),) for k in (1.0, 2.0, 3.0, 4.0, 5.0)]
    (eager, a_eager), (replayed, a) = _twin_runs(make, [(np.array(t[0]),) for t in calls])
    assert [r[0] for r in replayed] == [e[0] for e in eager]
    assert [r[1].item() for r in replayed] == [e[1].item() for e in eager]
    assert type(a.data) is np.ndarray and a.dtype == np.float32 and a.item() == a_eager.item()
    assert type(a.grad) is np.ndarray and a.grad.dtype == np.float32


def test_argmax_inside_a_compiled_step_is_computed_from_the_replayed_numbers() -> None:
    layer = nn.Linear(3, 4, rng=0)
    predict = autonet.compile(lambda x: layer(Value(x, requires_grad=False)).argmax(axis=1))
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((6, 3))
        np.testing.assert_array_equal(predict(x), np.argmax(layer(x).data, axis=1))
    assert predict.traces == 1


def test_numpy_writing_into_grad_or_data_inside_a_step_is_refused_by_name() -> None:
    w = Value(np.array([1.0, -2.0]))

    def halved_gradient(x):
        w.zero_grad()
        (w * x).sum().backward()
        w.grad[...] *= 0.5  # a replay would not repeat this
        w.add_(w.grad, alpha=-0.1)

    with pytest.raises(RuntimeError, match=r"numpy writing into a Value's \.grad.*clip_grad_value_"):
        autonet.compile(halved_gradient)(np.ones(2))

    def doubled_weights():
        np.multiply(w.data, 2.0, out=w.data)
        return (w * 2.0).sum().item()

    with pytest.raises(RuntimeError, match=r"numpy writing into a Value's \.data.*v\.add_"):
        autonet.compile(doubled_weights)()
    assert autonet.compile(lambda x: (w * x).sum().data)(np.ones(2)) == w.data.sum()  # reading is fine


def test_a_replay_follows_module_settings_replaced_parts_and_what_the_step_closes_over() -> None:
    rng = np.random.default_rng(0)
    layer, dropout = nn.Linear(3, 2, rng=rng), nn.Dropout(0.5, rng=rng)
    model = nn.Sequential(layer, dropout)
    state = {"model": model}
    forward = autonet.compile(lambda x: state["model"](Value(x)).sum().item())
    x = np.ones((4, 3))
    for _ in range(3):
        forward(x)
    dropout.p = 0.0  # a module's setting
    assert forward(x) == layer(x).sum().item()
    model[0].weight = Value(np.zeros((2, 3)))  # a parameter replaced by a new Value
    assert forward(x) == model(x).sum().item() == model[0].bias.data.sum() * 4

    scale = 2.0

    def scaled(v):
        return (Value(v) * scale).sum().item()

    compiled = autonet.compile(scaled)
    assert [compiled(np.ones(2)) for _ in range(3)] == [4.0] * 3
    scale = 3.0  # what the step closes over, rebound
    assert compiled(np.ones(2)) == 6.0


def test_numbers_the_step_computes_outside_the_ops_and_endless_signatures_are_warned_about() -> None:
    w = Value(np.ones(2))
    optimizer = optim.SGD([w], lr=0.1)
    with pytest.warns(
        autonet.CompileWarning, match=r"returns numbers that no recorded op computed \(a learning rate"
    ):
        autonet.compile(lambda x: ((w * x).sum().item(), optimizer.param_groups[0]["lr"]))(np.ones(2))
    counted = autonet.compile(lambda x, step: ((w * x).sum() * 0 + step).item())
    with pytest.warns(autonet.CompileWarning, match=r"has traced 10 signatures.*a step counter"):
        assert [counted(np.ones(2), step) for step in range(12)] == list(range(12))


def test_batch_norm_statistics_updated_under_no_grad_replay() -> None:
    # The update_bn pattern: a pass over data in training mode, without gradients.
    compiled_norm, eager_norm = nn.BatchNorm1d(3), nn.BatchNorm1d(3)

    def update(norm, x):
        with autonet.no_grad():
            norm(Value(x))

    step = autonet.compile(lambda x: update(compiled_norm, x))
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(6):
            x = rng.standard_normal((8, 3))
            step(x)
            update(eager_norm, x)
    assert step.traces == 1
    assert np.array_equal(compiled_norm.running_mean, eager_norm.running_mean)
    assert np.array_equal(compiled_norm.running_var, eager_norm.running_var)


def test_a_step_runs_its_python_once_and_twice_only_where_it_makes_arrays_outside_the_ops() -> None:
    w = Value(np.array([1.0, 2.0]))
    runs = []

    def plain(x):
        runs.append("plain")  # Python the replay does not run: it counts the eager runs
        return (w * Value(x)).sum().item()

    def with_a_constant(x):
        runs.append("constant")
        return (w * Value(x) + Value(np.full(2, 0.5))).sum().item()  # an array made with numpy

    compiled_plain, compiled_constant = autonet.compile(plain), autonet.compile(with_a_constant)
    for k in range(5):
        x = np.full(2, float(k))
        assert (compiled_plain(x), compiled_constant(x)) == (3.0 * k, 3.0 * k + 1.0)
    assert runs.count("plain") == 1  # traced once, replayed from the second call
    assert runs.count("constant") == 2  # traced again on the second call, to see the tape repeat


@pytest.mark.parametrize("layer", ["mlp", "conv", "recurrent", "batch_norm"])
def test_a_float32_model_fed_float64_batches_replays_from_its_second_call(layer: str) -> None:
    def make():
        rng = np.random.default_rng(0)
        f32 = np.float32
        model, shape = {
            "mlp": (lambda: nn.MLP(3, [4, 2], rng=rng, dtype=f32), (5, 3)),
            "conv": (lambda: nn.Sequential(nn.Conv1d(1, 2, 3, rng=rng, dtype=f32), nn.Flatten()), (5, 1, 4)),
            "recurrent": (lambda: nn.GRU(3, 2, batch_first=True, rng=rng, dtype=f32), (5, 2, 3)),
            "batch_norm": (lambda: nn.BatchNorm1d(3, dtype=f32), (5, 3)),
        }[layer]
        model = model()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        runs = []

        def step(x, target):
            runs.append(1)
            optimizer.zero_grad()
            out = model(x)
            loss = nn.mse_loss((out[0] if isinstance(out, tuple) else out).sum(axis=-1), target)
            loss.backward()
            optimizer.step()
            return loss.item()

        return (model, runs, shape), step

    rng = np.random.default_rng(1)
    shape = make()[0][2]
    calls = [(rng.standard_normal(shape), rng.standard_normal(shape[:-1])) for _ in range(5)]  # float64
    (eager, (model_eager, _, _)), (replayed, (model, runs, _)) = _twin_runs(make, calls)
    # A recurrent layer makes its zero initial state with numpy: its tape is checked once more.
    assert replayed == eager and len(runs) == (2 if layer == "recurrent" else 1)
    assert all(
        np.array_equal(a.data, b.data)
        for a, b in zip(model.parameters(), model_eager.parameters(), strict=True)
    )


def test_a_float_vjp_that_divides_by_zero_only_in_a_replay_gives_the_eager_gradient() -> None:
    # Traced at 4.0, sqrt's vjp (g / 2 sqrt x) runs on Python floats; replayed at 0.0 that division
    # raises in Python, where the eager backward gives numpy's inf.
    def step(x):
        (x.sqrt() * 3.0).backward()
        return x.grad

    compiled = autonet.compile(step)
    for start in (4.0, 4.0, 0.0, 1.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's divide by zero, as in eager
            assert compiled(Value(start)) == step(Value(start))
    assert compiled.traces == 1 and np.isinf(compiled(Value(0.0)))
