"""The page of the backprop explorer (``autonet.viz.explorer``): HTML, style and script in one template.

``PAGE`` has three markers that ``explore`` fills: ``{{TITLE}}``, ``{{SVG}}`` (the graph drawn by
Graphviz, each Value's node with the id ``n<position>``) and ``{{DATA}}`` (JSON: the nodes, the
forward order, the backward steps, the batch size). The script needs nothing from the network.

What the JSON holds: ``nodes[i]`` = name, op, kind, shape, data, grad, numeric (the central
difference of a leaf), inputs (positions), batched; ``forward`` = positions of the op results in
the order they were computed; ``backward[k]`` = node, upstream, inputs (node, local, product,
contribution, and per sample for a parameter's gradient); arrays are ``{shape, values}`` or
``{shape, summary: [min, mean, max]}``.

>>> "{{SVG}}" in PAGE and "{{DATA}}" in PAGE
True
"""

from pathlib import Path

__all__ = ["PAGE"]

_HERE = Path(__file__).parent
# The style and the script are files of their own (autonet/viz/explorer_page.css and .js, shipped as
# package data) so that they read as CSS and JavaScript; the page inlines them.
_STYLE = (_HERE / "explorer_page.css").read_text(encoding="utf-8")
_SCRIPT = (_HERE / "explorer_page.js").read_text(encoding="utf-8")

PAGE = (
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>"""
    + _STYLE
    + """</style></head>
<body data-ready="0">
<div id="graph">{{SVG}}</div>
<div id="side">
<h1>{{TITLE}}</h1>
<div class="bar"><button id="prev">◀ Previous</button><button id="next">Next ▶</button>
<button id="play">Play</button> <span id="where" class="muted"></span></div>
<div class="bar"><label>trace <select id="sample"></select></label></div>
<p class="muted">Arrow keys step, space plays. Click a node for its chain-rule sum.</p>
<div id="step-panel"></div>
</div>
<script type="application/json" id="explorer-data">{{DATA}}</script>
<script>"""
    + _SCRIPT
    + """</script>
</body></html>
"""
)
