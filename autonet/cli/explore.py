"""``python -m autonet explore``: write the backprop explorer page of a model or an expression.

``--model mlp:2,2,1`` (with ``--batch N`` samples) and ``--expr "tanh(a*b + c)" --set a=2 b=-3
c=10`` are read as ``python -m autonet graph`` reads them (``autonet.cli.graph``); the page is
``autonet.viz.explore``'s, one HTML file that works offline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..viz import GraphvizNotFoundError, explore
from .graph import add_source_arguments, expression_value, model_loss

__all__ = ["add_command", "run_explore_command"]


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``explore`` and its options to ``commands`` (what ``ArgumentParser.add_subparsers`` returns).

    >>> parser = argparse.ArgumentParser()
    >>> _ = add_command(parser.add_subparsers())
    >>> parser.parse_args(["explore", "--model", "mlp:2,2,1", "--batch", "4"]).output
    'backprop.html'
    """
    page = commands.add_parser("explore", help="write a page that steps through forward and backward")
    add_source_arguments(page)
    page.add_argument("--batch", type=int, default=1, help="samples in --model's batch (default 1)")
    page.add_argument("--seed", type=int, default=0, help="random seed of --model's weights and samples")
    page.add_argument("--title", help="a title shown on the page")
    page.add_argument(
        "-o", "--output", default="backprop.html", help="the page to write (default backprop.html)"
    )
    page.set_defaults(handler=run_explore_command)
    return page


def run_explore_command(args: argparse.Namespace) -> int:
    """``python -m autonet explore``: build the graph, step through its backward, write the page.

    Returns the exit status: 0 on success, 2 for a bad model or expression, 1 when drawing or
    writing fails.

    >>> import argparse, os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "p.html")
    >>> run_explore_command(argparse.Namespace(model=None, expr="a*b", set=["a=2", "b=3"], output=out,
    ...                     batch=1, seed=0, title=None))
    wrote ... (4 steps: 1 forward, 3 backward)
    0
    """
    try:
        if args.model:
            root = model_loss(args.model, seed=args.seed, batch=args.batch)
        else:
            root = expression_value(args.expr, args.set or [])
        if not root.requires_grad:
            raise ValueError("the expression depends on no input, so it has no backward to step through")
    except (ArithmeticError, ValueError, TypeError) as error:  # ExpressionError is a ValueError
        print(f"autonet explore: error: {error}", file=sys.stderr)
        return 2
    title = args.title or (f"explore {args.model}" if args.model else f"explore {args.expr}")
    try:
        page = explore(root, title=title)
        path = page.save(Path(args.output))
    except (GraphvizNotFoundError, ValueError, RuntimeError, OSError) as error:
        print(f"autonet explore: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({page.steps} steps: {page.forward} forward, {page.backward} backward)")
    return 0
