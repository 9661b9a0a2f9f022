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
import json
import os
import statistics
import subprocess
import sys
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
    """Each length's row, every framework measured in a process of its own: the cyclic collector's
    full passes visit every tracked object of the process, so building a graph beside an imported
    PyTorch (or JAX) took twice as long as alone, which no user of one framework pays."""
    rows = []
    for length in lengths:
        row = _fresh(package, "autonet", length, repeats)
        row["micrograd"] = _fresh(package, "micrograd", length, repeats)
        row["torch"] = _fresh(package, "torch", length, repeats) if package == "autonet" else "-"
        rows.append(row)
        report(
            f"  chain {length:>9,}: forward {row['forward'] * 1e6:.2f} us/node, backward "
            f"{row['backward'] * 1e6:.2f} us/node"
        )
    return rows


def _fresh(package: str, framework: str, length: int, repeats: int) -> Any:
    """``measure_one`` in a new Python process (the same interpreter, paths and environment)."""
    command = [sys.executable, __file__, package, framework, str(length), str(repeats)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"the chain of {length} ({framework}) failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def measure_one(package: str, framework: str, length: int, repeats: int) -> Any:
    """One framework's figures for one chain length: autonet's row (of ``package``), or the note
    of micrograd or PyTorch."""
    if framework == "micrograd":
        return micrograd_note(length)
    if framework == "torch":
        return torch_note(length, repeats)
    return measure(importlib.import_module(package).Value, length, repeats)


if __name__ == "__main__":
    print(json.dumps(measure_one(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))


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
