"""The code in README.md and docs/*.md runs as written: every ```python block of a page runs in
order in one namespace, so the docs cannot drift from the library."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest
from helpers import import_tensorboardx_without_torch

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

matplotlib.use("Agg")


@pytest.fixture(scope="module", autouse=True)
def tensorboardx_without_torch() -> None:
    import_tensorboardx_without_torch()  # docs/monitor.md writes event files


def python_blocks(page: Path) -> list[str]:
    return FENCE.findall(page.read_text(encoding="utf-8"))


def test_the_docs_have_code_to_run() -> None:
    assert sum(len(python_blocks(page)) for page in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # pictures and saved models the docs write land here
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(python_blocks(page), start=1):
        code = compile(block, f"{page.name} block {number}", "exec")
        exec(code, namespace)
