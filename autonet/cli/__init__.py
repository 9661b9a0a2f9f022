"""The command line: ``python -m autonet demo | graph | explore | check``, also installed as ``autonet``.

Each command is one module of this package holding its options and its handler
(``autonet.cli.demo``, ``autonet.cli.graph``, ``autonet.cli.explore``, ``autonet.cli.check``); this
module only gathers them into one parser. The commands use autonet's public API, as any program could: nothing
below this package imports it.

>>> main(["check", "--op", "tanh", "--examples", "1"])
op    order examples  max abs error  max rel error  result
...
checked 1 ops, 1 checks, 1 examples each in ... s: all passed
0
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import check, demo, explore, graph

__all__ = ["build_parser", "main"]

# The commands in the order ``--help`` lists them.
_COMMANDS = (demo, graph, explore, check)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m autonet``: every command with its options.

    Each parsed command carries its handler as ``handler`` (``args.handler(args)`` runs it).

    >>> args = build_parser().parse_args(["check", "--op", "exp", "--second-order"])
    >>> args.command, args.op, args.second_order, args.examples
    ('check', ['exp'], True, 5)
    """
    parser = argparse.ArgumentParser(
        prog="python -m autonet",
        description="autonet: reverse-mode autograd on numpy. Train, draw a graph, check gradients.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for command in _COMMANDS:
        command.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    0 means success; each command documents its other statuses (2 is always a bad option).

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()):
    ...     main(["demo", "--epochs", "0"])
    2
    """
    args = build_parser().parse_args(argv)
    return args.handler(args)
