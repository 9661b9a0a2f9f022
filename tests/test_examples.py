"""Every script in examples/ runs from the command line in its quick mode and does what it says:
the accuracies it prints are reached, and the pictures it announces are real files of their format.

Each runs as a subprocess in a fresh temporary directory, as a user would run it."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from autonet import nn

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def run_example(
    name: str, *args: str, cwd: Path, env: dict[str, str] | None = None, quick: bool = True
) -> str:
    """Run examples/<name> with ``args`` in ``cwd``; return its output, failing with it on a non-zero exit."""
    environment = {**os.environ, **(env or {})}
    # The checkout under test comes first, whatever autonet is installed.
    paths = [(env or {}).get("PYTHONPATH"), str(ROOT), os.environ.get("PYTHONPATH")]
    environment["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    environment.pop("AUTONET_EXAMPLE_QUICK", None)
    if quick:
        environment["AUTONET_EXAMPLE_QUICK"] = "1"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{name} exited with {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def written(output: str) -> list[Path]:
    """The files an example says it wrote ("wrote PATH" lines)."""
    return [Path(line.removeprefix("wrote ")) for line in output.splitlines() if line.startswith("wrote ")]


def assert_picture(path: Path) -> None:
    """A PNG file that decodes to an image with something drawn in it (not one flat colour)."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) >= 200, f"{path} has shape {pixels.shape}"
    assert pixels[..., :3].std() > 0.05, f"{path} is almost one flat colour"


def percent(output: str, pattern: str) -> float:
    match = re.search(pattern + r"[^\n]*?(\d+)%", output)
    assert match, f"no line matching {pattern!r} in:\n{output}"
    return float(match.group(1))


def test_every_example_is_run_by_this_file() -> None:
    tested = {
        "neuron.py",
        "xor.py",
        "moons.py",
        "spirals.py",
        "sequence_lstm.py",
        "draw_graph.py",
        "gradcheck_my_function.py",
        "vanishing_gradients.py",
        "digits_cnn.py",
        "transfer_digits.py",
    }
    assert {path.name for path in EXAMPLES.glob("*.py")} == tested


def test_neuron_prints_sigmoid_of_7_and_plots_the_activations_into_the_current_directory(
    tmp_path: Path,
) -> None:
    output = run_example("neuron.py", cwd=tmp_path)  # no --out: pictures go to the current directory
    assert output.count("0.9990889488") == 2  # by hand and by nn.Neuron
    by_autonet, by_hand = re.search(r"d output / d weights: \[(.*?)\].*\[(.*?)\]", output).groups()
    assert np.allclose([float(v) for v in by_autonet.split()], [float(v) for v in by_hand.split()])
    assert written(output) == [tmp_path / "activations.png"]
    assert_picture(tmp_path / "activations.png")


def test_xor_learns_all_four_cases_and_plots_its_loss(tmp_path: Path) -> None:
    output = run_example("xor.py", "--out", "pictures", cwd=tmp_path)
    assert "300 epochs" in output  # the quick run
    assert "accuracy: 100% (4/4)" in output
    losses = [float(x) for x in re.findall(r"epoch\s+\d+\s+loss (\S+)", output)]
    assert losses[-1] < losses[0] / 10
    assert written(output) == [Path("pictures/xor_loss.png")]
    assert_picture(tmp_path / "pictures" / "xor_loss.png")


def test_xor_options_change_the_run(tmp_path: Path) -> None:
    output = run_example("xor.py", "--epochs", "5", "--lr", "0.1", "--seed", "1", cwd=tmp_path, quick=False)
    assert "lr 0.1, 5 epochs, seed 1" in output
    assert len(re.findall(r"^  epoch", output, re.M)) == 5


def test_moons_separates_the_two_moons_and_draws_boundary_and_curves(tmp_path: Path) -> None:
    output = run_example("moons.py", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert "40 steps" in output
    assert percent(output, "final accuracy") >= 90
    pictures = written(output)
    assert [p.name for p in pictures] == ["moons_boundary.png", "moons_loss.png"]
    for picture in pictures:
        assert_picture(picture)


def test_moons_still_trains_without_matplotlib(tmp_path: Path) -> None:
    # A package named matplotlib that fails to import stands in for a missing one.
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib is blocked for this test')\n")
    output = run_example("moons.py", cwd=tmp_path, env={"PYTHONPATH": str(blocker.parent)})
    assert "matplotlib is not installed" in output
    assert percent(output, "final accuracy") >= 90
    assert written(output) == [] and not list(tmp_path.glob("*.png"))


def test_spirals_linear_softmax_fails_where_the_mlp_succeeds(tmp_path: Path) -> None:
    output = run_example("spirals.py", cwd=tmp_path)
    assert "100 steps" in output
    assert percent(output, "linear softmax") < 70
    assert percent(output, "MLP 2-32-32-3") >= 90
    assert written(output) == [tmp_path / "spirals_boundary.png"]
    assert_picture(tmp_path / "spirals_boundary.png")


def test_sequence_lstm_learns_binary_addition_and_carries_into_longer_numbers(tmp_path: Path) -> None:
    output = run_example("sequence_lstm.py", cwd=tmp_path)
    assert "150 steps" in output  # the quick run
    losses = [float(x) for x in re.findall(r"step\s+\d+\s+loss (\S+)", output)]
    assert losses[-1] < losses[0] / 10
    assert percent(output, "test accuracy") >= 95  # whole 8-bit sums, every bit right
    assert percent(output, "longer numbers") >= 90  # 16-bit sums: twice the training length


def test_draw_graph_writes_three_svg_pictures_with_values_and_gradients(tmp_path: Path) -> None:
    output = run_example("draw_graph.py", cwd=tmp_path)
    pictures = written(output)
    assert [p.name for p in pictures] == ["neuron_graph.svg", "network_graph.svg", "mlp_modules.svg"]
    texts = {p.name: [t.text or "" for t in ET.parse(p).getroot().iter(f"{SVG}text")] for p in pictures}
    neuron = texts["neuron_graph.svg"]
    assert {"tanh", "x1", "w1", "b", "out", "data 0.7071", "grad 1"} <= set(neuron)
    assert "grad -1.5" in neuron  # d out / d x1 = w1 * (1 - 0.7071^2) = -3 * 0.5
    assert {"layers.0.w", "layers.1.b", "loss"} <= set(texts["network_graph.svg"])
    assert "MLP.layers.1" in texts["mlp_modules.svg"]


def test_draw_graph_falls_back_to_dot_source_without_graphviz(tmp_path: Path) -> None:
    output = run_example("draw_graph.py", cwd=tmp_path, env={"PATH": str(tmp_path)})  # no `dot` there
    assert "writing DOT source instead" in output
    pictures = written(output)
    assert [p.suffix for p in pictures] == [".dot"] * 3
    assert all(p.read_text().lstrip().startswith("//") and "digraph" in p.read_text() for p in pictures)


def test_draw_graph_writes_png_on_request(tmp_path: Path) -> None:
    output = run_example("draw_graph.py", "--format", "png", cwd=tmp_path)
    for picture in written(output):
        assert picture.read_bytes()[:8] == PNG_SIGNATURE


def test_gradcheck_example_passes_good_gradients_and_catches_the_bad_ones(tmp_path: Path) -> None:
    output = run_example("gradcheck_my_function.py", cwd=tmp_path)
    assert "layer_norm: gradcheck passed, gradgradcheck passed" in output
    assert "normalize_wrong: gradcheck caught the wrong gradient" in output
    assert "analytic (reverse mode)" in output
    assert "softsign (right derivative): gradcheck passed, gradgradcheck passed" in output
    assert "softsign (forgotten square): gradcheck failed" in output
    assert output.rstrip().endswith("every check behaved as expected")


def gradient_ratios(output: str) -> dict[str, float]:
    """activation -> the first layer's gradient norm over the last layer's, as printed."""
    return {m[0]: float(m[1]) for m in re.findall(r"^\s*(\w+): first step .*?\(ratio (\S+)\)", output, re.M)}


def test_vanishing_gradients_shows_the_sigmoid_networks_first_layer_starved_and_draws_both(
    tmp_path: Path,
) -> None:
    output = run_example("vanishing_gradients.py", "--out", "pictures", cwd=tmp_path)
    assert "8 layers" in output and "30 steps" in output
    ratios = gradient_ratios(output)
    assert ratios.keys() == {"sigmoid", "relu"}
    assert ratios["sigmoid"] < 1e-3 < 1e-2 < ratios["relu"]
    assert percent(output, r"relu: .*accuracy") > percent(output, r"sigmoid: .*accuracy")
    pictures = written(output)
    assert [p.as_posix() for p in pictures] == [
        f"pictures/{net}/{name}.png" for net in ("sigmoid", "relu") for name in ("metrics", "grad_norms")
    ]
    for picture in pictures:
        assert_picture(tmp_path / picture)


def test_vanishing_gradients_writes_tensorboard_event_files_and_trains_without_matplotlib(
    tmp_path: Path,
) -> None:
    # Packages that fail to import stand in for a missing matplotlib, and keep tensorboardX from
    # loading PyTorch (which it does whenever it can, for seconds).
    blockers = tmp_path / "blockers"
    for package in ("matplotlib", "torch"):
        (blockers / package).mkdir(parents=True)
        (blockers / package / "__init__.py").write_text(f"raise ImportError('{package} is blocked')\n")
    output = run_example(
        "vanishing_gradients.py",
        "--logdir",
        "runs",
        "--steps",
        "3",
        cwd=tmp_path,
        env={"PYTHONPATH": str(blockers)},
    )
    assert "matplotlib is not installed" in output and written(output) == []
    assert gradient_ratios(output)["sigmoid"] < 1e-3
    assert "tensorboard --logdir runs" in output
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for net in ("sigmoid", "relu"):
        events = EventAccumulator(str(tmp_path / "runs" / net))
        events.Reload()
        assert [e.step for e in events.Scalars("loss")] == [0, 1, 2]
        assert "grad_norm/layers.7.w" in events.Tags()["scalars"]
        assert [h.step for h in events.Histograms("grads/layers.0.w")] == [0]


def decimal_percent(output: str, pattern: str) -> float:
    """The first percentage with one decimal (96.4%) on the first line matching ``pattern``."""
    match = re.search(pattern + r"[^\n]*?(\d+\.\d)%", output, re.M)
    assert match, f"no line matching {pattern!r} in:\n{output}"
    return float(match.group(1))


def block_imports(directory: Path, *packages: str) -> dict[str, str]:
    """An environment in which importing each of ``packages`` fails, as if it were not installed:
    a package of that name that raises ImportError, first on the path."""
    for package in packages:
        (directory / package).mkdir(parents=True)
        (directory / package / "__init__.py").write_text(f"raise ImportError('{package} is blocked')\n")
    return {"PYTHONPATH": str(directory)}


def test_digits_cnn_learns_the_digits_and_writes_the_monitor_pictures_and_event_files(
    tmp_path: Path,
) -> None:
    # torch is kept out: tensorboardX would load it (seconds) only to accept torch tensors.
    env = block_imports(tmp_path / "blockers", "torch")
    output = run_example("digits_cnn.py", "--out", "monitor", cwd=tmp_path, env=env)
    assert "1437 training and 360 test images" in output and "2 epochs" in output  # the quick run
    losses = [float(x) for x in re.findall(r"epoch +\d+  loss (\S+)", output)]
    assert len(losses) == 2 and losses[-1] < losses[0] / 2
    final = decimal_percent(output, "^test accuracy:")
    assert final >= 90  # two epochs; twenty reach 98%
    assert re.search(r"/360\), 2 epochs in \d+\.\d s$", output, re.M)
    assert written(output) == [Path("monitor/metrics.png"), Path("monitor/grad_norms.png")]
    for picture in written(output):
        assert_picture(tmp_path / picture)
    assert "tensorboard --logdir monitor" in output

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "monitor"), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    steps = 2 * 23  # 1437 images in batches of 64: 23 a epoch
    assert [e.step for e in events.Scalars("loss")] == list(range(steps))
    rates = events.Scalars("learning_rate")
    assert [e.step for e in rates] == list(range(steps))
    assert [e.value for e in rates][:: steps // 2] == pytest.approx([0.005, 0.0025])  # the cosine, per epoch
    accuracy = events.Scalars("test_accuracy")
    assert [e.step for e in accuracy] == [0, 23, 46]  # before training and after each epoch
    assert accuracy[0].value < 0.3 < 0.9 <= accuracy[-1].value  # from guessing to trained
    assert accuracy[-1].value == pytest.approx(final / 100, abs=0.001)  # what the script printed
    names = [
        "0.weight",
        "0.bias",
        "3.weight",
        "3.bias",
        "7.w",
        "7.b",
    ]  # the two convolutions, the linear layer
    for name in names:
        assert [e.step for e in events.Scalars(f"grad_norm/{name}")] == list(range(steps))  # none for the end
        assert [e.step for e in events.Scalars(f"weight_norm/{name}")] == list(range(steps + 1))
        assert [h.step for h in events.Histograms(f"grads/{name}")] == [0, 23]  # once an epoch
        assert all(e.value > 0 for e in events.Scalars(f"grad_norm/{name}"))
    # Training moves the weights: the first convolution's filters are not what they started as.
    first = events.Scalars("weight_norm/0.weight")
    assert first[-1].value != pytest.approx(first[0].value, rel=1e-3)


def test_digits_cnn_trains_without_matplotlib_or_tensorboardx(tmp_path: Path) -> None:
    env = block_imports(tmp_path / "blockers", "matplotlib", "tensorboardX")
    output = run_example("digits_cnn.py", "--epochs", "1", "--out", "monitor", cwd=tmp_path, env=env)
    assert "matplotlib is not installed" in output and "tensorboardX is not installed" in output
    assert decimal_percent(output, "^test accuracy:") >= 50  # one epoch reaches about 85%
    assert written(output) == [] and not (tmp_path / "monitor").exists()


def test_transfer_digits_scores_every_draw_for_each_arm_and_their_mean(tmp_path: Path) -> None:
    output = run_example("transfer_digits.py", cwd=tmp_path)
    assert "2 draws (heads 50 steps, scratch 20, unfrozen 10)" in output  # the quick run
    # Scored: every image of 5-9 that neither trains the draw nor is a validation image.
    assert "(596 images: the 179 test images and the training images not drawn)" in output
    assert "frozen convolutions after fine-tuning: unchanged" in output
    rows = re.findall(r"^ +(\d+)" + r" +(\d+\.\d)%" * 4 + "$", output, re.M)
    assert [int(row[0]) for row in rows] == [0, 1]
    # Columns: pretrained, scratch, random, unfrozen.
    per_draw = np.array([[float(x) / 100 for x in row[1:]] for row in rows])
    assert ((per_draw >= 0) & (per_draw <= 1)).all()
    # Which arm wins is what the example measures, not what it promises; the summary must be the
    # summary of the rows it printed (to the printed precision).
    arms = ("pretrained convolutions", "from scratch", "random convolutions", "pretrained, then every layer")
    for column, arm in enumerate(arms):
        mean, spread = re.search(rf"^  {arm}.*? (\d+\.\d)% \+- (\d+\.\d)%$", output, re.M).groups()
        assert float(mean) / 100 == pytest.approx(per_draw[:, column].mean(), abs=0.001)
        assert float(spread) / 100 == pytest.approx(per_draw[:, column].std(), abs=0.001)
    difference = re.search(
        r"^pretrained minus scratch: ([+-]\d+\.\d+) points on average, standard error (\d+\.\d+) "
        r".*ahead in (\d) of 2\)$",
        output,
        re.M,
    )
    gaps = 100 * (per_draw[:, 0] - per_draw[:, 1])
    assert float(difference.group(1)) == pytest.approx(gaps.mean(), abs=0.11)
    assert float(difference.group(2)) == pytest.approx(gaps.std(ddof=1) / np.sqrt(2), abs=0.11)
    assert int(difference.group(3)) == int(np.sum(gaps > 0))


def test_transfer_digits_scores_the_validation_images_when_asked(tmp_path: Path) -> None:
    output = run_example("transfer_digits.py", "--validate", "--draws", "1", cwd=tmp_path)
    assert "(the 200 validation images)" in output
    assert "ahead in" in output and "standard error nan" in output  # one draw has no spread


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{Path(name).stem}", EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fine_tuning_a_frozen_body_leaves_it_bit_identical_and_trains_only_the_new_head() -> None:
    transfer = load_example("transfer_digits.py")
    rng = np.random.default_rng(0)
    images, labels = rng.random((10, 1, 8, 8)), np.arange(10) % 5
    body = transfer.features(rng)
    with pytest.raises(ValueError, match="freeze the body first"):
        transfer.fine_tune(body, images, labels, steps=3, rng=rng)
    body.requires_grad_(False)
    before = body.state_dict()
    model = transfer.fine_tune(body, images, labels, steps=3, rng=rng)
    assert model[0] is body
    assert all(np.array_equal(before[name], array) for name, array in body.state_dict().items())
    assert not np.array_equal(model[1].state_dict()["b"], np.zeros(5))  # the head moved
    # One backward through the whole model: the gradient reaches the head and nothing else.
    nn.cross_entropy(model(images), labels).backward()
    assert all(not np.any(p.grad) for p in body.parameters())  # a frozen parameter's .grad reads as 0
    assert all(np.any(p.grad) for p in model[1].parameters())


def test_the_validation_images_are_apart_from_the_pool_the_draws_come_from() -> None:
    transfer = load_example("transfer_digits.py")
    labels = np.random.default_rng(0).integers(0, 10, 1000)
    validation, pool = transfer.split_high(labels)
    assert np.bincount(labels[validation], minlength=10).tolist() == [0] * 5 + [40] * 5
    assert not set(validation) & set(pool)
    assert sorted([*validation, *pool]) == np.flatnonzero(labels >= 5).tolist()
    assert np.array_equal(transfer.split_high(labels)[0], validation)  # the same set every run


def test_shifted_moves_each_image_by_at_most_one_pixel_and_keeps_its_pixels() -> None:
    transfer = load_example("transfer_digits.py")
    images = np.zeros((50, 1, 8, 8))
    images[:, 0, 3, 4] = 1.0  # one lit pixel, away from the border
    moved = transfer.shifted(images, np.random.default_rng(0))
    assert moved.shape == images.shape and (moved.sum(axis=(1, 2, 3)) == 1).all()
    rows, columns = np.nonzero(moved[:, 0])[1:]
    assert set(rows) <= {2, 3, 4} and set(columns) <= {3, 4, 5}
    assert len(set(zip(rows, columns, strict=True))) == 9  # every shift occurs in 50 draws


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_explains_itself_with_help(name: str, tmp_path: Path) -> None:
    output = run_example(name, "--help", cwd=tmp_path)
    assert "--quick" in output
