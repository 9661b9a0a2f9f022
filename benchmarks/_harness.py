"""What every workload shares: pinned threads, timing in rounds, the loss check, peak memory, the table.

Import this module before numpy anywhere in the benchmarks: the BLAS libraries read their thread
counts once, when they load.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_name] = "1"

import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

SEED = 0


@dataclass
class Contender:
    """One framework running one workload.

    ``step()`` runs one training step (zero grads, forward, backward, update) and returns the
    loss of that step as a float. ``traced`` says whether tracemalloc sees its allocations
    (it sees numpy's and Python's, not torch's own allocator).
    """

    name: str
    step: Callable[[], float]
    traced: bool = True
    times: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    peak_bytes: int | None = None
    error: str = ""


def run_workload(
    contenders: list[Contender],
    warmup: int,
    steps: int,
    block: int = 5,
    memory: bool = True,
    rewarm: int = 2,
) -> None:
    """Time ``steps`` steps of each contender after ``warmup`` untimed ones.

    The contenders take turns in rounds of ``block`` steps each, so that a change in the load of
    the machine during the run falls on all of them alike; every one runs exactly the same
    number of steps from the same start, so their last losses must agree. Each block starts
    with ``rewarm`` untimed steps (the caches are cold after another framework's block) and an
    untimed garbage collection; the collector stays on within a block (it is part of what a step
    costs in Python). ``block=1`` alternates single steps with neither: the contenders' steps
    follow each other A B A B ..., which holds best on a machine whose speed drifts within
    seconds (a before/after comparison of two autonet versions, ``run.py --baseline REV --block 1``).
    """
    for contender in contenders:
        for _ in range(warmup):
            contender.losses.append(contender.step())
    gc.collect()
    done = 0
    while done < steps:
        count = min(block, steps - done)
        for contender in contenders:
            step = contender.step
            if block > 1:
                # Each block starts from a collected heap: one framework's cyclic garbage (micrograd
                # leaves a cycle per node) must not be collected on another's time. Alternated
                # single steps skip this, so compare frameworks that leave no cycles with them.
                gc.collect()
                for _ in range(rewarm):
                    contender.losses.append(step())
            for _ in range(count):
                start = time.perf_counter()
                loss = step()
                contender.times.append(time.perf_counter() - start)
                contender.losses.append(loss)
        done += count
    if memory:
        for contender in contenders:
            if contender.traced:
                contender.peak_bytes = peak_memory(contender.step)


def peak_memory(step: Callable[[], float]) -> int:
    """Bytes allocated at the peak of one step, above what was held when the step began."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def check_losses(contenders: list[Contender], reference: Contender, rtol: float, atol: float = 1e-12) -> None:
    """Mark every contender whose last loss differs from the reference's: its time does not count."""
    want = reference.losses[-1]
    for contender in contenders:
        got = contender.losses[-1]
        if not np.isfinite(got) or abs(got - want) > atol + rtol * abs(want):
            contender.error = f"loss {got:.8g} != {want:.8g} (rtol {rtol:g}): time not counted"


def median(times: list[float]) -> float:
    return statistics.median(times)


def format_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} us"


def format_bytes(count: int | None) -> str:
    if count is None:
        return "-"
    if count >= 1 << 20:
        return f"{count / (1 << 20):.2f} MiB"
    return f"{count / 1024:.1f} KiB"


def table(title: str, contenders: list[Contender], reference: Contender) -> str:
    """A Markdown table: median step time, ratio to the reference, last loss, peak memory and its ratio."""
    base = median(reference.times)
    base_memory = reference.peak_bytes
    lines = [
        f"### {title}",
        "",
        f"| framework | median step | ratio to {reference.name} | last loss | peak memory of a step "
        "| memory ratio |",
        "|---|---|---|---|---|---|",
    ]
    for contender in contenders:
        if not contender.times:
            lines.append(f"| {contender.name} | - | - | - | - | {contender.error or 'not run'} |")
            continue
        t = median(contender.times)
        ratio = f"{t / base:.2f}x" if not contender.error else contender.error
        memory_ratio = (
            f"{contender.peak_bytes / base_memory:.2f}x"
            if contender.peak_bytes is not None and base_memory
            else "-"
        )
        lines.append(
            f"| {contender.name} | {format_time(t)} | {ratio} | {contender.losses[-1]:.6g} | "
            f"{format_bytes(contender.peak_bytes)} | {memory_ratio} |"
        )
    steps = len(reference.times)
    lines.append("")
    lines.append(f"median of {steps} timed steps per framework, after warm-up; one thread")
    return "\n".join(lines)
