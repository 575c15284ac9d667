"""The explorable page: one self-contained HTML file (no network) with the picture's SVG and a
small script. Hover a box or a line for its role, step, layer, shape, values and gradient norm;
click one to light up everything upstream and downstream of it (click the background to clear);
the values' statistics are there where the forward pass ran inside ``record_values()``;
walk along time with the step slider or the ← and → keys; switch the gradient colours off and
on. What the script knows of each node and line is a JSON table written into the page from the
records, keyed by the ids the renderer gave them (``n5``; ``e12`` for a line)."""
from __future__ import annotations

import json
import math
from html import escape

from . import style


def page_html(picture) -> str:
    """The page for a drawn ``picture`` (what ``draw`` returned)."""
    records = picture.records
    svg = picture.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: the SVG goes inline
    data = {"nodes": _nodes(records), "edges": _edges(records), "grads": bool(records.grads),
            "steps": sorted({n.step.step for n in records.nodes.values() if n.step is not None})}
    title = "minigrad graph"
    return (TEMPLATE.replace("{{title}}", escape(title))
            .replace("{{svg}}", svg)
            .replace("{{data}}", json.dumps(data).replace("</", "<\\/")))


def _number(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _stats(value) -> str | None:
    if value is None:
        return None
    if not hasattr(value, "size"):
        return style.value_text(value)
    flat = value.ravel().astype("float64")
    if flat.size == 0:
        return "empty"
    return (f"{style.value_text(value)}  (mean {flat.mean():.3g}, min {flat.min():.3g}, "
            f"max {flat.max():.3g})")


def _summary(stats) -> str | None:
    """mean ± std [min, max] of a value (record_values)."""
    if stats is None:
        return None
    mean, std, lo, hi = stats
    return f"mean {mean:.3g} ± {std:.3g}, range [{lo:.3g}, {hi:.3g}]"


def _nodes(records) -> dict:
    out = {}
    for i, (nid, n) in enumerate(records.nodes.items()):
        key = n.step
        out[f"n{i}"] = {
            "kind": n.kind, "op": n.op, "role": n.role, "name": n.name,
            "shape": list(n.shape) if n.shape is not None else None,
            "step": key.step if key else None, "layer": key.layer if key else None,
            "direction": key.direction if key else None, "group": key.group if key else None,
            "value": _stats(n.value), "stats": _summary(n.stats), "grad": _number(n.grad_norm)}
    return out


def _edges(records) -> list:
    ids = {nid: f"n{i}" for i, nid in enumerate(records.nodes)}
    return [{"src": ids[e.src], "dst": ids[e.dst], "role": e.role, "kind": e.kind,
             "shape": list(e.shape) if e.shape is not None else None,
             "grad": _number(e.grad_norm)}
            for e in records.edges if e.kind != "invisible"]


TEMPLATE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
<style>
body { font: 13px Helvetica, Arial, sans-serif; margin: 0; color: #202020; }
#bar { position: sticky; top: 0; background: #f7f7f7; border-bottom: 1px solid #ddd;
       padding: 6px 10px; display: flex; gap: 16px; align-items: center; z-index: 2; }
#picture { padding: 8px; overflow: auto; }
#picture svg { max-width: none; }
#info { position: fixed; right: 10px; bottom: 10px; min-width: 220px; max-width: 380px;
        background: #fffef0; border: 1px solid #c8c090; padding: 8px 10px; white-space: pre-line;
        box-shadow: 0 1px 4px rgba(0,0,0,.15); z-index: 3; }
.dim { opacity: 0.15; }
.lit > ellipse, .lit > polygon, .lit > path { stroke-width: 2.5px; }
.plain path, .plain polygon { stroke: #909090 !important; }
.plain polygon { fill: #909090 !important; }
</style></head><body>
<div id="bar">
  <label>step <input id="step" type="range" min="-1" value="-1"> <span id="stepText">all</span></label>
  <label><input id="grads" type="checkbox" checked> gradient colours</label>
  <span>hover: details · click: upstream and downstream · ← →: steps</span>
</div>
<div id="picture">{{svg}}</div>
<div id="info">hover a box or a line</div>
<script id="graph-data" type="application/json">{{data}}</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var svg = document.querySelector("#picture svg");
  var info = document.getElementById("info");
  var nodes = {}, edges = [], ups = {}, downs = {};
  svg.querySelectorAll("g.node").forEach(function (g) {
    var name = g.querySelector("title").textContent;
    if (data.nodes[name]) { nodes[name] = g; g.setAttribute("data-node", name); }
  });
  svg.querySelectorAll("g.edge").forEach(function (g) {
    var ends = g.querySelector("title").textContent.split("->");
    var src = ends[0].split(":")[0], dst = ends[1].split(":")[0];  // (a port: "n8:n")
    if (g.querySelector("path") && g.querySelector("path").getAttribute("stroke") === "none") return;
    var dirBack = false;  // the record, whichever way the DOT line was written
    var rec = data.edges.find(function (e) { return e.src === src && e.dst === dst; });
    if (!rec) { rec = data.edges.find(function (e) { return e.src === dst && e.dst === src; }); dirBack = !!rec; }
    if (!rec) return;
    var item = {g: g, src: dirBack ? dst : src, dst: dirBack ? src : dst, rec: rec};
    edges.push(item);
    g.setAttribute("data-edge", String(edges.length - 1));
    (downs[item.src] = downs[item.src] || []).push(item);
    (ups[item.dst] = ups[item.dst] || []).push(item);
  });
  function num(x) { return x === null || x === undefined ? "—" : Number(x).toPrecision(3); }
  function shape(s) { return s ? "(" + s.join(", ") + ")" : "—"; }
  function describe(d) {
    var lines = [(d.role || d.name || d.op || d.kind) + "  [" + d.kind + (d.op ? " " + d.op : "") + "]"];
    if (d.step !== null) lines.push("step " + d.step + " · layer " + d.layer + " · " + d.direction + " (" + d.group + ")");
    lines.push("shape " + shape(d.shape));
    if (d.value) lines.push("values " + d.value);
    if (d.stats) lines.push(d.stats);
    lines.push("|grad| " + num(d.grad));
    return lines.join("\n");
  }
  function describeEdge(e) {
    return "line " + (e.rec.role || "") + "  [" + e.rec.kind + "]\nfrom " + describe(data.nodes[e.src]).split("\n")[0] +
      "\nto " + describe(data.nodes[e.dst]).split("\n")[0] + "\nshape " + shape(e.rec.shape) +
      "\n|grad| carried back " + num(e.rec.grad);
  }
  Object.keys(nodes).forEach(function (name) {
    nodes[name].addEventListener("mouseover", function () { info.textContent = describe(data.nodes[name]); });
    nodes[name].addEventListener("click", function (ev) { ev.stopPropagation(); highlight(name); });
  });
  edges.forEach(function (e) {
    e.g.addEventListener("mouseover", function () { info.textContent = describeEdge(e); });
  });
  function walk(start, links, key) {
    var seen = {}, todo = [start]; seen[start] = true;
    while (todo.length) {
      var n = todo.pop();
      (links[n] || []).forEach(function (e) { var m = e[key]; if (!seen[m]) { seen[m] = true; todo.push(m); } });
    }
    return seen;
  }
  function highlight(name) {
    var up = walk(name, ups, "src"), down = walk(name, downs, "dst");
    Object.keys(nodes).forEach(function (n) {
      var on = up[n] || down[n];
      nodes[n].classList.toggle("dim", !on);
      nodes[n].classList.toggle("lit", !!on);
    });
    edges.forEach(function (e) {
      var on = (up[e.src] && up[e.dst]) || (down[e.src] && down[e.dst]);
      e.g.classList.toggle("dim", !on);
    });
    svg.setAttribute("data-selected", name);
  }
  function clear() {
    svg.querySelectorAll(".dim, .lit").forEach(function (el) { el.classList.remove("dim", "lit"); });
    svg.removeAttribute("data-selected");
  }
  svg.addEventListener("click", clear);
  var slider = document.getElementById("step"), stepText = document.getElementById("stepText");
  slider.max = String(data.steps.length - 1);
  function showStep(k) {
    slider.value = String(k);
    var t = k < 0 ? null : data.steps[k];
    stepText.textContent = t === null ? "all" : "t = " + t;
    Object.keys(nodes).forEach(function (n) {
      var s = data.nodes[n].step;
      nodes[n].classList.toggle("dim", t !== null && s !== null && s !== t);
    });
    svg.setAttribute("data-step", t === null ? "all" : String(t));
  }
  slider.addEventListener("input", function () { showStep(Number(slider.value)); });
  document.addEventListener("keydown", function (ev) {
    var k = Number(slider.value);
    if (ev.key === "ArrowRight") showStep(Math.min(k + 1, data.steps.length - 1));
    if (ev.key === "ArrowLeft") showStep(Math.max(k - 1, -1));
  });
  var grads = document.getElementById("grads");
  grads.disabled = !data.grads;
  grads.addEventListener("change", function () {
    edges.forEach(function (e) { e.g.classList.toggle("plain", !grads.checked); });
    svg.querySelectorAll("g.node").forEach(function (g) { g.classList.toggle("plain", !grads.checked); });
  });
})();
</script>
</body></html>
"""
