"""A chain of N scalar ops, then backward: depth costs memory, never the recursion limit.

The chain alternates ``y * 0.9999`` and ``y + 0.0001``. Time per node should not grow with N;
a backward without ``retain_graph`` frees what the vjps needed, and the chain's structure stays
(drawable) while the result is held. PyTorch, where installed, builds and walks the same chain
of 0-d float64 tensors beside it: how fast building a graph in Python can be when its nodes live
in C++, out of reach of Python's cyclic collector.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import _harness


def build(value_type: type, length: int) -> tuple[Any, Any]:
    x = value_type(0.5)
    y = x
    for i in range(length):
        y = y * 0.9999 if i % 2 == 0 else y + 0.0001
    return x, y


def expected_grad(length: int) -> float:
    return 0.9999 ** ((length + 1) // 2)


def timed(value_type: Callable[[float], Any], length: int, repeats: int) -> tuple[float, float]:
    """Median build and backward time per node over ``repeats`` chains, each one's gradient checked."""
    forward: list[float] = []
    backward: list[float] = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        x, y = build(value_type, length)
        middle = time.perf_counter()
        y.backward()
        end = time.perf_counter()
        forward.append((middle - start) / length)
        backward.append((end - middle) / length)
        grad = float(x.grad)
        if abs(grad - expected_grad(length)) > 1e-9:
            raise AssertionError(f"chain of {length}: x.grad = {grad}, expected {expected_grad(length)}")
        del x, y
    return statistics.median(forward), statistics.median(backward)


def measure(value_type: type, length: int, repeats: int) -> dict[str, Any]:
    """Median forward and backward time per node, and the memory the graph holds after backward."""
    forward, backward = timed(value_type, length, repeats)
    return {
        "length": length,
        "forward": forward,
        "backward": backward,
        "held_after_backward": held_after_backward(value_type, length),
    }


def held_after_backward(value_type: type, length: int) -> tuple[int, int]:
    """Bytes held by the graph after forward (before backward) and after backward, root still held."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        x, y = build(value_type, length)
        built, _ = tracemalloc.get_traced_memory()
        y.backward()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del x, y
    return built - base, after - base


def micrograd_note(length: int) -> str:
    """What micrograd does with the same chain (its recursive sort meets Python's recursion limit)."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return "micrograd not installed"
    _, y = build(Value, length)
    try:
        start = time.perf_counter()
        y.backward()
        seconds = time.perf_counter() - start
    except RecursionError:
        return "RecursionError"
    return f"{seconds / length * 1e6:.2f} us/node backward"


def torch_note(length: int, repeats: int) -> str:
    """PyTorch's median build and backward time per node on the same chain (0-d float64 tensors)."""
    try:
        import torch
    except ImportError:
        return "torch not installed"
    torch.set_num_threads(1)

    def tensor(number: float) -> Any:
        return torch.tensor(number, dtype=torch.float64, requires_grad=True)

    # A million-node torch chain takes seconds to build and walk: fewer repeats on long chains.
    built, walked = timed(tensor, length, min(repeats, 5) if length >= 100_000 else repeats)
    return f"{built * 1e6:.2f} us build, {walked * 1e6:.2f} us backward"


def run(
    lengths: list[int], repeats: int, report: Callable[[str], None], package: str = "autonet"
) -> list[dict[str, Any]]:
    Value = importlib.import_module(package).Value

    rows = []
    for length in lengths:
        row = measure(Value, length, repeats)
        row["micrograd"] = micrograd_note(length)
        row["torch"] = torch_note(length, repeats) if package == "autonet" else "-"
        rows.append(row)
        report(
            f"  chain {length:>9,}: forward {row['forward'] * 1e6:.2f} us/node, backward "
            f"{row['backward'] * 1e6:.2f} us/node"
        )
    return rows


def table(rows: list[dict[str, Any]], repeats: int, package: str = "autonet") -> str:
    lines = [
        f"### Chain of N scalar ops (alternating * and +), {package}",
        "",
        "| N | forward per node | backward per node | graph held before backward | held after backward "
        "| micrograd | PyTorch per node |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        built, after = row["held_after_backward"]
        lines.append(
            f"| {row['length']:,} | {row['forward'] * 1e6:.2f} us | {row['backward'] * 1e6:.2f} us | "
            f"{_harness.format_bytes(built)} | {_harness.format_bytes(after)} | {row['micrograd']} | "
            f"{row['torch']} |"
        )
    lines.append("")
    lines.append(
        f"median of {repeats} runs per N; 'held' is what tracemalloc sees with the result still referenced"
    )
    return "\n".join(lines)
