"""autonet.monitor.Monitor: what it records is what training had, in its history, in event files
that TensorBoard's own reader reads back, and in pictures; a deep sigmoid network shows its
vanishing gradients there; wrong metrics and missing extras fail with errors that say what to do.

tensorboardX imports PyTorch whenever it can, only to accept torch tensors (a few seconds);
these tests keep it out, since the Monitor hands tensorboardX numpy arrays."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from helpers import import_tensorboardx_without_torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from autonet import Value, data, nn, optim
from autonet.monitor import Monitor


@pytest.fixture(scope="module", autouse=True)
def tensorboardx_without_torch() -> None:
    import_tensorboardx_without_torch()


def moons_training(
    *,
    activation: str = "relu",
    depth: int = 2,
    steps: int = 5,
    **options: object,
) -> tuple[Monitor, nn.Module, list[dict[str, tuple[np.ndarray, np.ndarray]]], list[float]]:
    """Train an MLP on the moons for ``steps`` SGD steps under a Monitor (made with ``options``);
    return it (closed), the model, each step's ``name -> (weights, gradient)`` copies as they
    were when recorded, and the losses."""
    inputs, labels = data.make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8] * (depth - 1) + [1], activation=activation, rng=0)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    batch = Value(inputs, requires_grad=False)
    seen, losses = [], []
    with Monitor(model, **options) as monitor:
        for step in range(steps):
            logits = model(batch)[:, 0]
            loss = nn.binary_cross_entropy_with_logits(logits, labels)
            loss.backward()
            accuracy = float(np.mean((logits.data > 0) == (labels > 0)))
            monitor.record(step, loss=loss.item(), accuracy=accuracy)
            seen.append({n: (np.array(p), np.array(p.grad)) for n, p in model.named_parameters()})
            losses.append(loss.item())
            optimizer.step()
            optimizer.zero_grad()
    return monitor, model, seen, losses


def read_events(logdir: Path) -> EventAccumulator:
    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    return events


# --------------------------------------------------------------------------- what is recorded


def test_history_holds_each_metric_and_the_norms_of_each_parameter_at_each_step() -> None:
    monitor, model, seen, losses = moons_training(steps=4)
    assert monitor.history["loss"] == list(enumerate(losses))
    assert [step for step, _ in monitor.history["accuracy"]] == [0, 1, 2, 3]
    names = [name for name, _ in model.named_parameters()]
    expected = {"loss", "accuracy"} | {f"{kind}/{n}" for kind in ("weight_norm", "grad_norm") for n in names}
    assert set(monitor.history) == expected
    for name in names:
        for kind, which in (("weight_norm", 0), ("grad_norm", 1)):
            steps, norms = zip(*monitor.history[f"{kind}/{name}"], strict=True)
            assert steps == (0, 1, 2, 3)
            assert norms == pytest.approx([np.linalg.norm(step[name][which]) for step in seen], rel=1e-12)
    assert monitor.logdir is None  # no event files


def test_event_files_hold_the_recorded_scalars_and_steps_and_a_histogram_of_each_parameter(
    tmp_path: Path,
) -> None:
    monitor, model, seen, _ = moons_training(steps=5, logdir=tmp_path / "run", histogram_every=2)
    assert monitor.logdir == tmp_path / "run"
    events = read_events(tmp_path / "run")
    assert set(events.Tags()["scalars"]) == set(monitor.history)
    for name, points in monitor.history.items():
        # Event files hold float32, TensorBoard's format; the history keeps float64.
        assert [(e.step, e.value) for e in events.Scalars(name)] == [
            (step, float(np.float32(value))) for step, value in points
        ]
    names = [name for name, _ in model.named_parameters()]
    assert set(events.Tags()["histograms"]) == {f"{kind}/{n}" for kind in ("weights", "grads") for n in names}
    for name in names:
        for kind, which in (("weights", 0), ("grads", 1)):
            histograms = events.Histograms(f"{kind}/{name}")
            assert [h.step for h in histograms] == [0, 2, 4]
            for h in histograms:
                numbers = seen[h.step][name][which]
                assert h.histogram_value.num == numbers.size
                assert h.histogram_value.min == pytest.approx(numbers.min())
                assert h.histogram_value.max == pytest.approx(numbers.max())
                assert h.histogram_value.sum == pytest.approx(numbers.sum(), abs=1e-9)


def test_a_parameter_without_a_gradient_is_recorded_as_missing_not_as_zero(tmp_path: Path) -> None:
    used, unused = Value([1.0, 2.0]), Value([3.0, 4.0])
    with Monitor([("used", used), ("later", unused)], logdir=tmp_path, histogram_every=1) as monitor:
        (used * used).sum().backward()
        monitor.record(0, loss=5.0)
        (used * unused).sum().backward()
        monitor.record(1, loss=11.0)
    assert monitor.history["weight_norm/later"] == [(0, 5.0), (1, 5.0)]
    assert monitor.history["grad_norm/later"] == [(1, pytest.approx(np.sqrt(5.0)))]  # step 1 only
    events = read_events(tmp_path)
    assert [e.step for e in events.Scalars("grad_norm/later")] == [1]
    assert [h.step for h in events.Histograms("grads/later")] == [1]
    assert [h.step for h in events.Histograms("weights/later")] == [0, 1]


def test_a_module_and_its_named_parameters_are_watched_alike() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    by_module, by_pairs = Monitor(model), Monitor(model.named_parameters())
    model(np.ones((4, 2))).sum().backward()
    for monitor in (by_module, by_pairs):
        monitor.record(7, loss=1.0)
    assert by_module.history == by_pairs.history
    assert "grad_norm/layers.1.b" in by_module.history


def test_gradients_from_create_graph_are_recorded_by_their_numbers() -> None:
    w = Value([3.0, 4.0])
    monitor = Monitor([("w", w)])
    (w * w).sum().backward(create_graph=True)  # w.grad is a Value: 2w
    monitor.record(0)
    assert monitor.history == {"weight_norm/w": [(0, 5.0)], "grad_norm/w": [(0, 10.0)]}


def test_a_deep_sigmoid_network_shows_vanishing_gradients_and_a_relu_one_does_not() -> None:
    sigmoid, *_ = moons_training(activation="sigmoid", depth=8, steps=3)
    relu, *_ = moons_training(activation="relu", depth=8, steps=3)
    for monitor, smallest, largest in ((sigmoid, 0.0, 1e-3), (relu, 1e-2, 1e2)):
        first = [norm for _, norm in monitor.history["grad_norm/layers.0.w"]]
        last = [norm for _, norm in monitor.history["grad_norm/layers.7.w"]]
        ratios = np.array(first) / np.array(last)
        assert np.all((smallest < ratios) & (ratios < largest)), ratios


def test_histograms_skip_what_tensorboard_cannot_bin(tmp_path: Path) -> None:
    empty, broken = Value(np.zeros(0)), Value([1.0, np.nan, np.inf, 2.0])
    with Monitor([("empty", empty), ("broken", broken)], logdir=tmp_path, histogram_every=1) as monitor:
        monitor.record(0)
    assert monitor.history["weight_norm/empty"] == [(0, 0.0)]
    assert np.isnan(monitor.history["weight_norm/broken"][0][1])  # the norm tells of the nan
    events = read_events(tmp_path)
    assert events.Tags()["histograms"] == ["weights/broken"]
    (histogram,) = events.Histograms("weights/broken")
    assert (histogram.histogram_value.num, histogram.histogram_value.sum) == (2, 3.0)  # the finite ones


# --------------------------------------------------------------------------- pictures


def assert_picture(path: Path, min_size: int = 300) -> None:
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) >= min_size, pixels.shape
    assert pixels[..., :3].std() > 0.05, f"{path} is almost one flat colour"


def test_save_plots_draws_the_metric_curves_and_the_gradient_norms(tmp_path: Path) -> None:
    monitor, *_ = moons_training(steps=4)
    paths = monitor.save_plots(tmp_path / "pictures", title="moons")
    assert paths == [tmp_path / "pictures" / "metrics.png", tmp_path / "pictures" / "grad_norms.png"]
    for path in paths:
        assert_picture(path)
    metrics = matplotlib.image.imread(paths[0])
    assert metrics.shape[1] > metrics.shape[0]  # two curves side by side


def test_save_plots_writes_only_pictures_with_something_to_show(tmp_path: Path) -> None:
    w = Value(1.0)
    monitor = Monitor([("w", w)])
    assert monitor.save_plots(tmp_path / "nothing") == []
    monitor.record(0)  # a weight norm, but no gradient and no metric yet
    assert monitor.save_plots(tmp_path / "nothing") == []
    (w * 0.0).backward()  # a gradient of exactly 0: no log scale to draw, still a picture
    monitor.record(1)
    assert [p.name for p in monitor.save_plots(tmp_path / "zero")] == ["grad_norms.png"]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (float("nan"), "'loss' is nan at step 3"),
        (float("inf"), "'loss' is inf at step 3"),
        (-np.inf, "'loss' is -inf"),
        ("0.5", "'loss' must be a finite number, not a str"),
        (None, "'loss' must be a finite number, not a NoneType"),
        (np.array([0.5, 0.25]), "'loss' must be a finite number, not a ndarray"),
        (Value(0.5), r"'loss' is a Value; pass its number: loss=loss.item\(\)"),
    ],
)
def test_a_metric_that_is_not_a_finite_number_is_refused_and_nothing_of_the_step_is_kept(
    value: object, says: str
) -> None:
    w = Value(1.0)
    monitor = Monitor([("w", w)])
    with pytest.raises(ValueError, match=says):
        monitor.record(3, accuracy=0.5, loss=value)
    assert monitor.history == {}
    monitor.record(3, loss=np.float32(0.5), accuracy=1)  # numpy and integer numbers are numbers
    assert monitor.history["loss"] == [(3, 0.5)] and monitor.history["accuracy"] == [(3, 1.0)]


def test_metric_names_of_the_parameter_norms_are_refused() -> None:
    with pytest.raises(ValueError, match="'grad_norm/w' would mix with the parameter norms"):
        Monitor([]).record(0, **{"grad_norm/w": 1.0})


def test_steps_are_integers_from_zero() -> None:
    monitor = Monitor([])
    with pytest.raises(TypeError, match="step must be an integer, not float"):
        monitor.record(1.5, loss=1.0)
    with pytest.raises(ValueError, match="step must be >= 0, not -1"):
        monitor.record(-1, loss=1.0)
    monitor.record(np.int64(2), loss=1.0)
    assert monitor.history["loss"] == [(2, 1.0)]


def test_what_a_monitor_watches_is_checked() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    with pytest.raises(
        TypeError, match=r"item 0 of model is a Value.*named_parameters\(\) \(not parameters\(\)\)"
    ):
        Monitor(model.parameters())
    with pytest.raises(TypeError, match="not a Value"):
        Monitor(Value(1.0))
    with pytest.raises(ValueError, match=r"given more than once: \['w'\]"):
        Monitor([("w", Value(1.0)), ("w", Value(2.0))])
    with pytest.raises(ValueError, match="histogram_every must be at least 1"):
        Monitor(model, histogram_every=0)


def test_a_closed_monitor_records_nothing_more(tmp_path: Path) -> None:
    with Monitor([], logdir=tmp_path) as monitor:
        monitor.record(0, loss=1.0)
    monitor.close()  # again: nothing happens
    with pytest.raises(RuntimeError, match="closed"):
        monitor.record(1, loss=0.5)
    assert [e.value for e in read_events(tmp_path).Scalars("loss")] == [1.0]
    assert monitor.history == {"loss": [(0, 1.0)]}


def test_without_tensorboardx_event_files_fail_with_the_install_command_and_history_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX raises ImportError
    with pytest.raises(ImportError, match=r'pip install "autonet\[monitor\]"'):
        Monitor([], logdir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    monitor = Monitor([])
    monitor.record(0, loss=1.0)
    assert monitor.history == {"loss": [(0, 1.0)]}


def test_without_matplotlib_save_plots_fails_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = Monitor([])
    monitor.record(0, loss=1.0)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "autonet\[plot\]"'):
        monitor.save_plots(tmp_path / "pictures")
    assert not (tmp_path / "pictures").exists()
