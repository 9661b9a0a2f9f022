"""The backprop explorer: one self-contained page drawn before the backward, whose steps are
backward_steps', and which a headless browser runs without errors, showing a different step
for a different #step=N."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from autonet import Value, backward_steps, nn
from autonet.cli.graph import model_loss
from autonet.viz import Explorer, explore


def page_data(page: Explorer) -> dict:
    found = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', page.html, re.S)
    return json.loads(found.group(1))


def tanh_expression() -> tuple[Value, Value, Value, Value]:
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    return (a * b + c).tanh(), a, b, c


def test_the_page_is_self_contained_and_its_nodes_map_to_steps() -> None:
    root, *_ = tanh_expression()
    page = explore(root)
    assert "<svg" in page.html and "<?xml" not in page.html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.html)  # nothing fetched when viewed
    data = page_data(page)
    ids = set(re.findall(r'<g id="(n\d+)" class="node\b', page.html))
    assert ids == {f"n{i}" for i in range(len(data["nodes"]))}
    names = [data["nodes"][s["node"]]["name"] for s in data["backward"]]
    assert names[0].startswith("tanh") and {"a", "b", "c"} < set(names) and len(names) == 6
    assert page.forward == 3 and page.backward == 6 and page.steps == 9


def test_the_steps_are_those_of_backward_steps_and_the_grads_those_of_backward() -> None:
    root, a, *_ = tanh_expression()
    data = page_data(explore(root))
    twin, twin_a, *_ = tanh_expression()
    expected = list(backward_steps(twin))
    assert [d["upstream"]["values"][0] for d in data["backward"]] == pytest.approx(
        [float(s.upstream) for s in expected], rel=1e-5
    )
    assert a.grad == twin_a.grad and root.graph_released  # explore ran the backward
    leaf = next(n for n in data["nodes"] if n["name"] == "a")
    assert leaf["numeric"]["values"][0] == pytest.approx(float(a.grad), rel=1e-5)
    tanh_step = data["backward"][0]
    (entry,) = tanh_step["inputs"]
    assert entry["local"]["values"][0] == pytest.approx(1 - np.tanh(4.0) ** 2, rel=1e-5)


def test_a_batch_gives_a_sample_choice_and_each_samples_part_of_a_parameter_gradient() -> None:
    loss = model_loss("mlp:2,2,1", batch=3)
    params = [v for v in _leaves(loss) if v.requires_grad]
    data = page_data(explore(loss))
    assert data["batch"] == 3
    batched = {n["name"] for n in data["nodes"] if n["batched"]}
    assert "x" in batched and "out" in batched and "layers.0.w" not in batched
    parts = [e for s in data["backward"] for e in s["inputs"] if "samples" in e]
    assert parts  # the linear layers' gradients for w and b, sample by sample
    for entry in parts:
        whole = np.array(entry["contribution"]["values"])
        by_sample = sum(np.array(p["values"]) for p in entry["samples"])
        assert np.allclose(by_sample, whole, rtol=1e-4, atol=1e-9)
    assert all(np.any(p.grad != 0) for p in params)


def _leaves(root: Value) -> list[Value]:
    seen, stack, found = set(), [root], []
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            found += [v] if v.is_leaf else []
            stack.extend(v.parents)
    return found


def test_a_released_graph_is_refused_with_the_fix() -> None:
    root, *_ = tanh_expression()
    root.backward()
    with pytest.raises(RuntimeError, match="before any backward"):
        explore(root)


def test_save_writes_the_page_and_jupyter_gets_an_iframe(tmp_path: Path) -> None:
    page = explore(Value(3.0, label="x") * 2.0, tmp_path / "p.html", title="x & <2>")
    text = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert text == page.html and "<title>x &amp; &lt;2&gt;</title>" in text
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and html.unescape(frame.split('"')[1]) == page.html


def test_a_label_cannot_end_the_data_script_early() -> None:
    x = Value(1.0, label="</script><b>")
    data = page_data(explore(x * x))
    assert data["nodes"][0]["name"] == "</script><b>"


# --------------------------------------------------------------------------- in a browser


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "these tests need Chromium to run the explorer page headless: apt-get install chromium "
        "(.ci/run installs it)"
    )


def run_page(path: Path, fragment: str) -> tuple[str, str]:
    """The page's DOM after its script ran, and the browser's log (console messages)."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={path.parent / 'profile'}",
            "--dump-dom",
            f"{path.as_uri()}#{fragment}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def body_attributes(dom: str) -> dict[str, str]:
    body = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', body))


def step_panel(dom: str) -> str:
    return re.search(r'<div id="step-panel">(.*?)</div>\s*</div>', dom, re.S).group(1)


def test_the_page_runs_in_a_browser_and_stepping_changes_what_is_shown(tmp_path: Path) -> None:
    model = nn.MLP(2, [2, 1], activation="tanh", rng=np.random.default_rng(0))
    x = Value(np.array([[0.5, -1.0], [1.0, 2.0]]), label="x", requires_grad=False)
    path = explore(nn.mse_loss(model(x), Value(np.zeros((2, 1)), requires_grad=False))).save(
        tmp_path / "p.html"
    )
    panels = {}
    for fragment in ("step=0", "step=5", "step=10&sample=1&node=3"):
        dom, log = run_page(path, fragment)
        attributes = body_attributes(dom)
        assert "Uncaught" not in log, log[-2000:]
        assert attributes.get("data-ready") == "1" and not attributes.get("data-errors"), attributes
        assert attributes["data-step"] == fragment.split("&")[0].split("=")[1]
        panels[fragment] = step_panel(dom)
    assert "Forward 1 of" in panels["step=0"] and panels["step=0"] != panels["step=5"]
    last = panels["step=10&sample=1&node=3"]
    assert "Backward" in last and "Chain rule at" in last and "row 1 of 2" in last
    assert re.search(r'<g id="n\d+" class="node[^"]*\bcurrent\b', dom)
    assert re.search(r'<g id="n3" class="node[^"]*\bpicked\b', dom)
