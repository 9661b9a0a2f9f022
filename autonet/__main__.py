"""The command line: ``python -m autonet demo | graph | check``.

Each command lives beside the part of autonet it shows; this file only routes to them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args)


def _graph(args: argparse.Namespace) -> int:
    from .viz import run_graph_command

    return run_graph_command(args)


def _check(args: argparse.Namespace) -> int:
    from .gradcheck import run_check_command

    return run_check_command(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m autonet`` (every command and its options)."""
    parser = argparse.ArgumentParser(
        prog="python -m autonet",
        description="autonet: reverse-mode autograd on numpy. Train, draw a graph, check gradients.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo", help="train the XOR network and a moons MLP, showing the loss as it falls"
    )
    demo.add_argument("--epochs", type=int, default=None, help="XOR epochs (default 1000)")
    demo.add_argument("--steps", type=int, default=None, help="moons training steps (default 100)")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quiet", action="store_true", help="print only the final results")
    demo.set_defaults(handler=_demo)

    graph = commands.add_parser("graph", help="run one forward and backward pass and draw its graph")
    source = graph.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model such as mlp:2,4,1 (inputs, hidden sizes..., outputs)")
    source.add_argument("--expr", help='an expression such as "tanh(a*b + c)"')
    graph.add_argument(
        "--set", nargs="*", default=[], metavar="NAME=VALUE", help="values of the expression's inputs"
    )
    graph.add_argument(
        "-o", "--output", required=True, help="the picture to write (.svg, .png, .pdf or .dot)"
    )
    graph.add_argument("--format", help="override the format given by the output's extension")
    graph.add_argument(
        "--collapse", choices=["none", "modules"], default="none", help="draw each module call as one node"
    )
    graph.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"], help="layout direction")
    graph.add_argument("--title", help="a title drawn above the graph")
    graph.add_argument("--seed", type=int, default=0, help="random seed of --model's weights and sample")
    graph.set_defaults(handler=_graph)

    check = commands.add_parser("check", help="gradient-check every registered op and print a table")
    check.add_argument("--op", action="append", help="check only this op (repeatable)")
    check.add_argument("--second-order", action="store_true", help="also check second derivatives")
    check.add_argument("--examples", type=int, default=5, help="examples per op (default 5)")
    check.add_argument("--seed", type=int, default=0, help="random seed")
    check.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
