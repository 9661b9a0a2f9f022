"""``python -m autonet check``: gradient-check every registered op and print a table.

Each op is checked by ``autonet.gradcheck.check_op`` on cases that
``autonet.testing.checks.sample_cases`` draws in the op's domain, with numpy alone (Hypothesis is
not needed). The exit status is 0 when every check passes, 1 when one fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from ..gradcheck import MODES, OpCheck, check_op
from ..ops import REGISTRY

# The draws the command checks, shared with autonet.testing.check_user_op; still importable here.
from ..testing.checks import sample_cases

__all__ = ["add_command", "run_check_command", "sample_cases"]


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``check`` and its options to ``commands`` (what ``ArgumentParser.add_subparsers`` returns).

    >>> parser = argparse.ArgumentParser()
    >>> _ = add_command(parser.add_subparsers())
    >>> parser.parse_args(["check", "--op", "exp", "--op", "sum"]).op
    ['exp', 'sum']
    """
    check = commands.add_parser("check", help="gradient-check every registered op and print a table")
    check.add_argument("--op", action="append", help="check only this op (repeatable)")
    check.add_argument("--second-order", action="store_true", help="also check second derivatives")
    check.add_argument("--examples", type=int, default=5, help="examples per op (default 5)")
    check.add_argument("--seed", type=int, default=0, help="random seed")
    check.add_argument(
        "--mode",
        choices=MODES,
        default="reverse",
        help="check reverse mode (the vjps, the default), forward mode (the jvps) or both",
    )
    check.set_defaults(handler=run_check_command)
    return check


def _refusal(names: Sequence[str], examples: int) -> str | None:
    """Why the options cannot run, or None."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        known = ", ".join(sorted(REGISTRY))
        return f"check: unknown op {', '.join(map(repr, unknown))}; known ops: {known}"
    if examples < 1:
        return f"check: --examples must be at least 1, got {examples}"
    return None


def _row(result: OpCheck, width: int) -> str:
    verdict = "pass" if result.passed else "FAIL"
    return (
        f"{result.name:<{width}} {result.order:>5} {result.examples:>8} {result.max_abs_error:>14.2e} "
        f"{result.max_rel_error:>14.2e}  {verdict}"
    )


def _summary(names: Sequence[str], results: Sequence[OpCheck], examples: int, seconds: float) -> str:
    failed = [r for r in results if not r.passed]
    verdict = (
        "all passed"
        if not failed
        else f"{len(failed)} failed: {', '.join(f'{r.name} (order {r.order})' for r in failed)}"
    )
    counts = f"{len(names)} ops, {len(results)} checks, {examples} examples each"
    return f"checked {counts} in {seconds:.1f} s: {verdict}"


def run_check_command(args: argparse.Namespace) -> int:
    """``python -m autonet check``: gradient-check every registered op (or ``--op`` ones) and print a table.

    ``args`` carries ``op`` (a list of names, or None for every op), ``second_order``,
    ``examples``, ``seed`` and optionally ``mode`` (``"reverse"`` when absent: the vjps; or
    ``"forward"``, the jvps, or ``"both"``). Returns 0 when every check passes, 1 when one
    fails, 2 for an unknown op name or a bad option.

    >>> import argparse
    >>> run_check_command(argparse.Namespace(op=["exp"], second_order=True, examples=1, seed=0))
    op  order examples  max abs error  max rel error  result
    ...
    exp     1        1 ...  pass
    exp     2        1 ...  pass
    ...
    checked 1 ops, 2 checks, 1 examples each in ... s: all passed
    0
    """
    names = list(args.op) if args.op else list(REGISTRY)
    refusal = _refusal(names, args.examples)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    start = time.perf_counter()
    width = max(len(n) for n in [*names, "op"])
    header = (
        f"{'op':<{width}} {'order':>5} {'examples':>8} {'max abs error':>14} {'max rel error':>14}  result"
    )
    print(header)
    print("-" * len(header))
    results, skipped = [], []
    for name in names:
        op = REGISTRY[name]
        orders = [1, 2] if args.second_order and op.twice_differentiable else [1]
        if args.second_order and not op.twice_differentiable:
            skipped.append(name)
        for order in orders:
            cases = sample_cases(op, args.examples, args.seed, order)
            results.append(
                check_op(op, cases, order=order, seed=args.seed, mode=getattr(args, "mode", "reverse"))
            )
            print(_row(results[-1], width), flush=True)
    print("-" * len(header))
    if skipped:
        print(f"no second-order check for {', '.join(skipped)} (not marked twice_differentiable)")
    for result in results:
        if not result.passed:
            print(f"\n{result.name} (order {result.order}) failed:\n{result.message}")
    print("\n" + _summary(names, results, args.examples, time.perf_counter() - start))
    return 0 if all(r.passed for r in results) else 1
