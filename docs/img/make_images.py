"""Regenerate the pictures of docs/visualisation.md with autonet's own command line.

Run from the repository root:  python docs/img/make_images.py
A test (tests/test_viz.py) redraws them and fails when a committed picture is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autonet.cli import main

HERE = Path(__file__).resolve().parent

# file name -> the arguments of `python -m autonet graph` that draw it
TITLE = "2-2-1 sigmoid network: one forward and backward pass"
PICTURES = {
    "network-2-2-1.svg": ["--model", "mlp:2,2,1", "--title", TITLE],
    "network-2-2-1-modules.svg": ["--model", "mlp:2,2,1", "--collapse", "modules", "--title", "collapsed"],
    "tanh-expression.svg": ["--expr", "tanh(a*b + c)", "--set", "a=2", "b=-3", "c=10"],
}


def make_images(directory: Path = HERE) -> list[Path]:
    """Draw every picture into ``directory`` and return their paths."""
    written = []
    for name, args in PICTURES.items():
        path = directory / name
        if main(["graph", *args, "-o", str(path)]) != 0:
            raise SystemExit(f"could not draw {name}")
        written.append(path)
    return written


if __name__ == "__main__":
    make_images(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
