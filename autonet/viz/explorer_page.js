(function () {
  var body = document.body;
  function fail(message) {
    body.setAttribute("data-errors", (body.getAttribute("data-errors") || "") + message + "\n");
  }
  window.addEventListener("error", function (e) { fail(String(e.message)); });
  try {
    var D = JSON.parse(document.getElementById("explorer-data").textContent);
    var F = D.forward.length, total = F + D.backward.length;
    var state = { step: 0, sample: 0, picked: null, timer: null };
    var svgNodes = {}, byTitle = {}, opOf = {};
    document.querySelectorAll("#graph g.node").forEach(function (g) {
      var title = g.querySelector("title");
      if (title) byTitle[title.textContent] = g;
      if (/^n\d+$/.test(g.id)) svgNodes[+g.id.slice(1)] = g;
    });
    document.querySelectorAll("#graph g.edge").forEach(function (g) {
      var ends = g.querySelector("title").textContent.split("->");
      if (ends[0].indexOf("op") === 0) opOf[ends[1]] = byTitle[ends[0]];
    });
    function titleOf(i) { var g = svgNodes[i]; return g ? g.querySelector("title").textContent : ""; }

    function num(x) {
      if (typeof x === "string") return x;
      if (x === 0) return "0";
      var a = Math.abs(x);
      return (a >= 1e4 || a < 1e-3) ? x.toExponential(3) : String(+x.toPrecision(4));
    }
    function rows(values, shape) {
      if (shape.length === 0) return num(values[0]);
      if (shape.length === 1) return "[" + values.map(num).join(", ") + "]";
      var step = values.length / shape[0], out = [];
      for (var r = 0; r < shape[0]; r++) out.push(rows(values.slice(r * step, (r + 1) * step), shape.slice(1)));
      return "[" + out.join(",\n ") + "]";
    }
    // An array, or the chosen sample's row of one that carries the batch.
    function show(a, batched) {
      if (!a) return '<span class="muted">—</span>';
      if (a.summary) {
        return "<pre>shape (" + a.shape.join(", ") + "): min " + num(a.summary[0]) + ", mean " +
          num(a.summary[1]) + ", max " + num(a.summary[2]) + "</pre>";
      }
      var values = a.values, shape = a.shape, note = "";
      if (batched && D.batch && shape[0] === D.batch) {
        var size = values.length / shape[0];
        values = values.slice(state.sample * size, (state.sample + 1) * size);
        shape = shape.slice(1);
        note = '<span class="muted">row ' + state.sample + " of " + D.batch + "</span> ";
      }
      return note + "<pre>" + rows(values, shape) + "</pre>";
    }
    function name(i) { var n = D.nodes[i]; return n.name + (n.op && n.labelled ? " (" + n.op + ")" : ""); }
    function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }

    function forwardPanel(k) {
      var i = D.forward[k], n = D.nodes[i];
      var html = "<h2>Forward " + (k + 1) + " of " + F + ": " + esc(name(i)) + "</h2><table><tr><th>input</th><th>data</th></tr>";
      n.inputs.forEach(function (j) {
        html += "<tr><td>" + esc(name(j)) + "</td><td>" + show(D.nodes[j].data, D.nodes[j].batched) + "</td></tr>";
      });
      return html + "</table><p><b>" + esc(n.op) + "</b> gives</p>" + show(n.data, n.batched);
    }
    function backwardPanel(k) {
      var s = D.backward[k], n = D.nodes[s.node];
      var html = "<h2>Backward " + (k + 1) + " of " + D.backward.length + ": " + esc(name(s.node)) + "</h2>" +
        "<p>upstream gradient (all of its consumers have passed theirs on):</p>" + show(s.upstream, n.batched);
      if (!s.inputs.length) return html + "<p class='muted'>a leaf: nothing to pass on</p>";
      html += "<table><tr><th>to input</th><th>local derivative</th><th>upstream × local</th><th>contribution</th></tr>";
      s.inputs.forEach(function (e) {
        var into = D.nodes[e.node], contribution = show(e.contribution, into.batched);
        if (e.samples) contribution = "<span class='muted'>sample " + state.sample + ":</span>" + show(e.samples[state.sample], false) +
          "<span class='muted'>all samples:</span>" + contribution;
        html += "<tr><td>" + esc(name(e.node)) + "</td><td>" + (e.contribution ? show(e.local, n.batched) : "<span class='muted'>needs no gradient</span>") +
          "</td><td>" + show(e.product, n.batched) + "</td><td>" + contribution + "</td></tr>";
      });
      return html + "</table><p class='muted'>local derivative: elementwise ops only; for the others the contribution is the op's vector-Jacobian product.</p>";
    }
    function chainPanel(i) {
      var n = D.nodes[i], html = "<h2>Chain rule at " + esc(name(i)) + "</h2>";
      if (!n.grad) return html + "<p class='muted'>needs no gradient</p>";
      var terms = [];
      D.backward.forEach(function (s) {
        s.inputs.forEach(function (e) { if (e.node === i && e.contribution) terms.push([s.node, e.contribution]); });
      });
      html += "<table><tr><th>from consumer</th><th>contribution</th></tr>";
      if (!terms.length) html += "<tr><td colspan=2>the root: its gradient is the seed</td></tr>";
      terms.forEach(function (t) { html += "<tr><td>" + esc(name(t[0])) + "</td><td>" + show(t[1], n.batched) + "</td></tr>"; });
      html += "<tr><th>sum = grad</th><th>" + show(n.grad, n.batched) + "</th></tr></table>";
      if (n.numeric) {
        var worst = 0;
        n.grad.values && n.grad.values.forEach(function (g, k) {
          var d = n.numeric.values[k];
          if (typeof g === "number" && typeof d === "number") worst = Math.max(worst, Math.abs(g - d) / Math.max(1, Math.abs(d)));
        });
        html += "<p>central difference of the forward:</p>" + show(n.numeric, n.batched) +
          "<p class='" + (worst < 1e-4 ? "ok'>agrees" : "bad'>differs") + " (largest relative difference " + num(worst) + ")</p>";
      }
      return html;
    }

    function mark(i, cls) { var g = svgNodes[i]; if (g) g.classList.add(cls); var op = opOf[titleOf(i)]; if (op) op.classList.add(cls); }
    function apply(k) {
      state.step = Math.max(0, Math.min(total - 1, k));
      document.querySelectorAll("#graph g.node").forEach(function (g) { g.classList.remove("current", "sending", "done", "picked"); });
      var panel;
      if (state.step < F) {
        panel = forwardPanel(state.step);
        mark(D.forward[state.step], "current");
      } else {
        var b = state.step - F, s = D.backward[b];
        for (var j = 0; j < b; j++) mark(D.backward[j].node, "done");
        s.inputs.forEach(function (e) { if (e.contribution) mark(e.node, "sending"); });
        mark(s.node, "current");
        panel = backwardPanel(b);
      }
      if (state.picked !== null) { mark(state.picked, "picked"); panel += chainPanel(state.picked); }
      document.getElementById("step-panel").innerHTML = panel;
      document.getElementById("where").textContent = (state.step < F ? "forward" : "backward") + " · step " + state.step + " / " + (total - 1);
      body.setAttribute("data-step", String(state.step));
      if (state.picked !== null) body.setAttribute("data-node", String(state.picked));
    }
    function play() {
      var button = document.getElementById("play");
      if (state.timer) { clearInterval(state.timer); state.timer = null; button.textContent = "Play"; return; }
      button.textContent = "Pause";
      state.timer = setInterval(function () {
        if (state.step >= total - 1) { play(); return; }
        apply(state.step + 1);
      }, 900);
    }

    document.getElementById("prev").onclick = function () { apply(state.step - 1); };
    document.getElementById("next").onclick = function () { apply(state.step + 1); };
    document.getElementById("play").onclick = play;
    document.addEventListener("keydown", function (e) {
      if (e.key === "ArrowRight") apply(state.step + 1);
      else if (e.key === "ArrowLeft") apply(state.step - 1);
      else if (e.key === " ") { e.preventDefault(); play(); }
    });
    Object.keys(svgNodes).forEach(function (i) {
      svgNodes[i].addEventListener("click", function () { state.picked = +i; apply(state.step); });
    });
    var picker = document.getElementById("sample");
    if (D.batch) {
      for (var r = 0; r < D.batch; r++) picker.add(new Option("sample " + r, String(r)));
      picker.onchange = function () { state.sample = +picker.value; apply(state.step); };
    } else {
      picker.parentNode.style.display = "none";
    }
    var hash = location.hash.slice(1), found;
    if ((found = /(?:^|&)sample=(\d+)/.exec(hash)) && D.batch) state.sample = Math.min(+found[1], D.batch - 1);
    if ((found = /(?:^|&)node=(\d+)/.exec(hash)) && +found[1] < D.nodes.length) state.picked = +found[1];
    picker.value = String(state.sample);
    found = /(?:^|&)step=(\d+)/.exec(hash);
    apply(found ? +found[1] : 0);
    body.setAttribute("data-ready", "1");
  } catch (error) {
    fail(String(error && error.stack || error));
  }
})();
