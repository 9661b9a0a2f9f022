"""``python -m autonet demo``: it trains both networks in front of the user and reports accuracy;
``demo digits`` trains a small CNN on the 8x8 digits the same way."""

from __future__ import annotations

import argparse
import io
import re

import numpy as np

from autonet.cli import build_parser, main
from autonet.cli.demo import run_demo
from autonet.demo import XOR_SEED, train_moons, train_xor, xor_seed_sweep


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def options(**overrides) -> argparse.Namespace:
    settings = {"epochs": None, "steps": None, "seed": 0, "quiet": False, **overrides}
    return argparse.Namespace(**settings)


def test_the_default_demo_learns_xor_and_the_moons(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    # The classic settings stall on seed 0 and on most others; momentum learns it on most.
    classic = next(line for line in out.splitlines() if line.startswith("XOR classic:"))
    better = next(line for line in out.splitlines() if line.startswith("XOR momentum:"))
    assert "seed 0 accuracy 100% (4/4)" in better and "(4/4)" not in classic
    learned = [int(line.split("learned by ")[1].split("/")[0]) for line in (classic, better)]
    assert learned[0] <= 5 < 12 <= learned[1]
    assert "seed 0:  input   target   classic   momentum" in out
    assert "moons: accuracy 100% (100/100)" in out
    assert "epoch 1000/1000  loss" in out and "step 100/100  loss" in out


def test_progress_lines_show_the_loss_falling_when_not_a_terminal():
    out = io.StringIO()
    assert run_demo(options(epochs=50, steps=20), stream=out) == 0
    lines = [line for line in out.getvalue().splitlines() if "  loss " in line]
    epochs = [line for line in lines if "epoch" in line]
    assert 10 <= len(epochs) <= 24 and "\r" not in out.getvalue()  # the classic run, then momentum
    first, last = (float(line.split("loss ")[1].split()[0]) for line in (epochs[0], epochs[-1]))
    assert last < first


def test_a_terminal_gets_one_line_rewritten_in_place():
    out = Terminal()
    run_demo(options(epochs=20, steps=5), stream=out)
    text = out.getvalue()
    assert "\r  epoch 20/20" in text and "\r  step 5/5" in text


def test_quiet_prints_only_the_results():
    out = io.StringIO()
    assert run_demo(options(epochs=3, steps=3, quiet=True), stream=out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("XOR classic: seed 0 accuracy")
    assert lines[1].startswith("XOR momentum: seed 0 accuracy") and lines[2].startswith("moons: accuracy")


def test_an_invalid_count_is_refused(capsys):
    assert run_demo(options(epochs=0)) == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_the_training_functions_report_their_runs():
    xor = train_xor(epochs=100, seed=XOR_SEED)
    assert len(xor.losses) == 100 and xor.losses[-1] < xor.losses[0] and xor.seconds > 0
    moons = train_moons(steps=30, seed=0, n=40)
    assert len(moons.losses) == 30 and moons.losses[-1] < moons.losses[0] and 0.5 < moons.accuracy <= 1.0


def test_the_seed_sweep_trains_each_network_as_it_would_alone():
    sweep = xor_seed_sweep([3, XOR_SEED], epochs=40, momentum=0.9)
    alone = train_xor(epochs=40, seed=XOR_SEED, momentum=0.9)
    np.testing.assert_allclose(sweep.losses[:, 1], alone.losses, rtol=1e-12)
    assert sweep.outputs.shape == (2, 4) and sweep.seeds == [3, XOR_SEED]
    assert not np.allclose(sweep.losses[:, 0], sweep.losses[:, 1])


def test_momentum_changes_the_xor_run():
    plain, heavy = (train_xor(epochs=30, seed=0, momentum=m).losses for m in (0.0, 0.9))
    assert heavy[-1] != plain[-1]


def test_demo_alone_is_xor_and_moons_and_digits_is_a_choice():
    parser = build_parser()
    assert parser.parse_args(["demo"]).network == "xor-moons"
    assert parser.parse_args(["demo", "digits", "--epochs", "3"]).network == "digits"


def test_digits_shows_progress_then_the_test_accuracy_and_time():
    out = io.StringIO()
    assert run_demo(options(network="digits", epochs=1), stream=out) == 0
    text = out.getvalue()
    steps = re.findall(r"^  step +\d+/23  loss ", text, re.M)
    assert 5 <= len(steps) <= 14 and "step 23/23" in text
    found = re.search(
        r"^digits: test accuracy (\d+\.\d)% \((\d+)/360\), .*1 epochs in \d+\.\d s$", text, re.M
    )
    assert found, text
    assert float(found.group(1)) > 60  # one epoch is far above the 10% of guessing


def test_digits_refuses_the_moons_option(capsys):
    assert run_demo(options(network="digits", steps=5)) == 2
    assert "--steps counts the moons steps" in capsys.readouterr().err
