"""``python -m autonet explore``: a model or an expression (read as ``graph`` reads them) becomes one
explorer page; mistakes get a clear message and exit status 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

from autonet.cli import main


def page_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'id="explorer-data">(.*?)</script>', text, re.S).group(1))


def test_an_expression_becomes_a_page_of_its_steps(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tanh.html"
    status = main(["explore", "--expr", "tanh(a*b + c)", "--set", "a=2", "b=-3", "c=10", "-o", str(out)])
    assert status == 0
    assert capsys.readouterr().out.strip() == f"wrote {out} (9 steps: 3 forward, 6 backward)"
    data = page_data(out)
    a = next(n for n in data["nodes"] if n["name"] == "a")
    assert abs(a["grad"]["values"][0] - (-3 * (1 - __import__("math").tanh(4.0) ** 2))) < 1e-6
    assert data["title"] == "explore tanh(a*b + c)"


def test_a_batched_model_lets_the_page_pick_a_sample(tmp_path: Path) -> None:
    out = tmp_path / "mlp.html"
    assert main(["explore", "--model", "mlp:2,2,1", "--batch", "4", "-o", str(out), "--seed", "3"]) == 0
    data = page_data(out)
    assert data["batch"] == 4
    x = next(n for n in data["nodes"] if n["name"] == "x")
    assert x["shape"] == [4, 2] and x["batched"]


def test_mistakes_exit_with_status_2_and_say_why(tmp_path: Path, capsys) -> None:
    out = tmp_path / "p.html"
    assert main(["explore", "--expr", "a*", "-o", str(out)]) == 2
    assert "not a valid expression" in capsys.readouterr().err
    assert main(["explore", "--expr", "2 * 3", "-o", str(out)]) == 2
    assert "no backward" in capsys.readouterr().err
    assert main(["explore", "--model", "mlp:2,2,1", "--batch", "0", "-o", str(out)]) == 2
    assert "--batch" in capsys.readouterr().err
    assert not out.exists()
