"""Run every benchmark workload and print Markdown tables: times, ratios, losses, peak memory.

    pip install -e ".[bench]"
    python benchmarks/run.py                 # all workloads (a few minutes)
    python benchmarks/run.py --quick         # fewer steps, chain up to 100,000
    python benchmarks/run.py --only small    # one workload: big, small, scalar, chain, cnn
    python benchmarks/run.py --baseline main # also the autonet of a git revision, side by side

Threads are pinned to one (OMP/OPENBLAS/MKL and torch) before numpy loads. Peers that are not
installed are skipped. A framework's time counts only if its loss after the run matches the
reference's (same weights, same data, same maths).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import platform
import sys
from collections.abc import Callable
from typing import Any

import _harness  # pins the thread counts: keep it the first import that can load numpy
import baseline
import chain
import cnn
import mlp
import numpy as np
import scalar_mlp

WORKLOADS = ("big", "small", "scalar", "chain", "cnn")


def installed(module: str | None) -> bool:
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def versions() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    found = [f"Python {platform.python_version()}"]
    for package in ("numpy", "autonet", "torch", "jax", "micrograd", "mygrad", "autograd"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} not installed")
    return found


def machine() -> list[str]:
    lines = []
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines.append(f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} logical CPUs")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lines.append(
                f"BLAS: {pool.get('internal_api')} {pool.get('version')}, kernel {pool.get('architecture')}, "
                f"{pool.get('num_threads')} thread(s)"
            )
    except ImportError:
        lines.append("BLAS: (install threadpoolctl to see which kernel numpy uses)")
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        lines.append(f"{name}={os.environ[name]}" if name in os.environ else f"{name} unset")
    return lines


def with_baseline(frameworks: dict, args: argparse.Namespace) -> dict:
    """``frameworks`` plus, right after each autonet entry, the same entry for the baseline package."""
    if not args.baseline_package:
        return frameworks
    widened = {}
    for name, entry in frameworks.items():
        widened[name] = entry
        if name.startswith("autonet"):
            builder, module, *rest = entry
            label = name.replace("autonet", f"autonet {args.baseline}", 1)
            before = functools.partial(builder, package=args.baseline_package)
            widened[label] = (before, module.replace("autonet", args.baseline_package, 1), *rest)
    return widened


def build_contenders(
    frameworks: dict, build: Callable[[Callable[..., Any]], Callable[[], float]], args: argparse.Namespace
) -> tuple[list[_harness.Contender], list[str]]:
    """A contender for each framework that is installed and picked by ``--frameworks`` (with the
    baseline's autonet beside each autonet entry), and why the others were skipped."""
    contenders = []
    skipped = []
    for name, (builder, module, traced) in with_baseline(frameworks, args).items():
        if name == "autonet (nn.MLP)" and not mlp.autonet_nn_available():
            skipped.append(f"{name}: autonet.nn / autonet.optim not available")
            continue
        if "compiled" in name and not mlp.autonet_compiled_available():
            skipped.append(f"{name}: autonet.compile not available")
            continue
        if not installed(module):
            skipped.append(f"{name}: not installed")
            continue
        if args.frameworks and not any(f.lower() in name.lower() for f in args.frameworks):
            continue
        try:
            step = build(builder)
        except Exception as error:  # a peer that cannot build the workload is reported, not fatal
            skipped.append(f"{name}: {type(error).__name__}: {error}")
            continue
        contenders.append(_harness.Contender(name, step, traced=traced))
    return contenders, skipped


def mlp_workload(problem: mlp.Problem, args: argparse.Namespace) -> str:
    contenders, skipped = build_contenders(
        mlp.FRAMEWORKS, lambda builder: builder(problem, _harness.SEED), args
    )
    print(f"running {problem.title}: {', '.join(c.name for c in contenders)}", file=sys.stderr)
    _harness.run_workload(contenders, args.warmup, args.steps, block=args.block, memory=not args.no_memory)
    reference = contenders[0]
    rtol = 1e-3 if problem.dtype == np.float32 else 1e-8
    _harness.check_losses(contenders, reference, rtol)
    text = _harness.table(problem.title, contenders, reference)
    if skipped:
        text += "\nskipped: " + "; ".join(skipped)
    return text


def cnn_workload(args: argparse.Namespace) -> str:
    contenders, skipped = build_contenders(cnn.FRAMEWORKS, lambda builder: builder(_harness.SEED), args)
    if not contenders:
        return f"### {cnn.TITLE}\n\nnothing to run: " + "; ".join(skipped)
    reference = contenders[0]
    # The first step's losses must agree before anything is timed (same weights, same batch);
    # every contender takes this step, so the last losses stay comparable too.
    for contender in contenders:
        contender.losses.append(contender.step())
    _harness.check_losses(contenders, reference, 1e-5)
    differing = [f"{c.name}: first-step {c.error}" for c in contenders if c.error]
    if differing:
        return f"### {cnn.TITLE}\n\nnot timed: " + "; ".join(differing)
    print(f"running CNN: {', '.join(c.name for c in contenders)}", file=sys.stderr)
    _harness.run_workload(contenders, args.warmup, args.steps, block=args.block, memory=not args.no_memory)
    _harness.check_losses(contenders, reference, 1e-3)
    text = _harness.table(cnn.TITLE, contenders, reference)
    if skipped:
        text += "\nskipped: " + "; ".join(skipped)
    return text


def scalar_workload(args: argparse.Namespace) -> str:
    contenders = []
    skipped = []
    for name, (builder, module) in with_baseline(scalar_mlp.FRAMEWORKS, args).items():
        if not installed(module):
            skipped.append(f"{name}: not installed")
            continue
        contenders.append(_harness.Contender(name, builder(_harness.SEED)))
    print(f"running scalar MLP: {', '.join(c.name for c in contenders)}", file=sys.stderr)
    steps = max(5, args.steps // 2) if args.quick else args.steps
    # Steps of a second or so: one untimed step per block re-warms enough.
    _harness.run_workload(
        contenders, min(args.warmup, 2), steps, block=args.block, memory=not args.no_memory, rewarm=1
    )
    reference = contenders[0]
    _harness.check_losses(contenders, reference, 1e-9)
    title = f"Scalar MLP 2-16-16-1 over {scalar_mlp.POINTS} points (micrograd's demo, same code for both)"
    text = _harness.table(title, contenders, reference)
    if skipped:
        text += "\nskipped: " + "; ".join(skipped)
    return text


def chain_workload(args: argparse.Namespace) -> str:
    lengths = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    repeats = 5 if args.quick else args.chain_repeats
    print(f"running chain: N = {lengths}, {repeats} runs each", file=sys.stderr)
    tables = []
    for package in ["autonet", *([args.baseline_package] if args.baseline_package else [])]:
        rows = chain.run(lengths, repeats, lambda line: print(line, file=sys.stderr), package)
        tables.append(chain.table(rows, repeats, package))
    return "\n\n".join(tables)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), help="workloads")
    parser.add_argument(
        "--frameworks", nargs="+", help="MLP and CNN workloads: only frameworks whose name has one of these"
    )
    parser.add_argument("--steps", type=int, default=30, help="timed steps per framework (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument(
        "--block",
        type=int,
        default=5,
        help="timed steps per framework per turn (default 5); 1 alternates single steps, the steadiest "
        "before/after comparison on a drifting machine",
    )
    parser.add_argument("--chain-repeats", type=int, default=20, help="runs per chain length (default 20)")
    parser.add_argument("--quick", action="store_true", help="fewer steps and a shorter chain")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc peak-memory step")
    parser.add_argument("--output", help="also write the tables to this Markdown file")
    parser.add_argument(
        "--baseline", metavar="REV", help="also run the autonet of this git revision, side by side"
    )
    args = parser.parse_args(argv)
    if args.block < 1:
        parser.error(f"--block must be at least 1, got {args.block}")
    args.baseline_package = baseline.load(args.baseline) if args.baseline else None
    if args.quick:
        args.steps = min(args.steps, 20)
        args.warmup = min(args.warmup, 3)
    if args.steps < 20 and not args.quick:
        print("note: fewer than 20 timed steps; medians are less steady", file=sys.stderr)

    header = "\n".join(
        [
            "## Machine",
            "",
            *(f"- {line}" for line in machine()),
            "",
            "## Versions",
            "",
            "- " + ", ".join(versions()),
        ]
    )
    sections = [header]
    print(header + "\n", flush=True)
    for workload in args.only:
        if workload == "big":
            sections.append(mlp_workload(mlp.BIG, args))
        elif workload == "small":
            sections.append(mlp_workload(mlp.SMALL, args))
        elif workload == "scalar":
            sections.append(scalar_workload(args))
        elif workload == "chain":
            sections.append(chain_workload(args))
        elif workload == "cnn":
            sections.append(cnn_workload(args))
        print(sections[-1] + "\n", flush=True)
    if args.output:
        with open(args.output, "w") as out:
            out.write("\n\n".join(sections) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
