// The collapse calculator (book/explorer.md), shipped by collapse_utils/book/sphinx_ext.py.
//
// It reads the grid the build wrote into _static/explorer-data.js (computed by
// collapse_utils/book/explorer.py from the book's exact library functions) and
// draws it with the vendored plotly.js. It computes only what explorer.setting()
// computes in Python: the detector's effective real fraction, the grid point
// nearest to the resulting number of real points, and a look-up; the browser
// test checks both against the library.
(() => {
  "use strict";

  const COLORS = {setting: "#2e86c1", replace: "#c0392b"};
  const CURVES = {
    variance: {title: "E[σ²ₜ] / σ₀²", range: [0, 1.05]},
    mean_error: {title: "√E[μ²ₜ] / σ₀", range: null},
    presence: {title: "P(present at t)", range: [0, 1.05]},
  };

  // Kept share of the crawl and its human share (prop-09-detector), in the
  // order of operations of collapse_utils.exact.filtering.
  function effectiveRealFraction(s, r, f) {
    const human = (1 - s) * (1 - f);
    const kept = human + s * (1 - r);
    return {kept, lambda: kept > 0 ? human / kept : NaN};
  }

  // The stored k nearest to x on the scale log(1 + k), ties to the smaller k
  // (explorer.grid_point).
  function snap(ks, x) {
    const target = Math.log1p(x);
    let best = ks[0];
    for (const k of ks) {
      if (Math.abs(Math.log1p(k) - target) < Math.abs(Math.log1p(best) - target)) best = k;
    }
    return best;
  }

  // A stored curve at generation t: a curve that settled stops early and its last
  // value holds for every later generation (explorer.lookup).
  function at(curve, t) {
    return curve[Math.min(t, curve.length - 1)];
  }

  // Four significant digits, the grid's precision (toPrecision switches to an
  // exponent below 1e-6).
  function format(value) {
    if (!Number.isFinite(value)) return "–";
    return value === 0 ? "0" : value.toPrecision(4);
  }

  function cssColor(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function init() {
    const data = window.COLLAPSE_EXPLORER;
    const root = document.getElementById("explorer");
    if (!root) return;
    const status = document.getElementById("explorer-status");
    if (!data || !window.Plotly) {
      status.textContent = "The calculator could not load its numbers or its plotting library " +
        "(_static/explorer-data.js, _static/vendor/plotly-basic.min.js): rebuild the book.";
      status.hidden = false;
      return;
    }
    const $ = (id) => document.getElementById(id);
    const inputs = {
      n: $("explorer-n"), s: $("explorer-s"), r: $("explorer-r"), f: $("explorer-f"),
      w: $("explorer-w"), t: $("explorer-t"),
    };
    // the grid decides what the controls offer
    inputs.n.max = String(data.n.length - 1);
    inputs.t.max = String(data.generations);
    inputs.w.replaceChildren(...data.w.map((w, m) => new Option(String(w), String(m))));
    const start = {n: 100, w: 0.02};
    if (data.n.includes(start.n)) inputs.n.value = String(data.n.indexOf(start.n));
    if (data.w.includes(start.w)) inputs.w.value = String(data.w.indexOf(start.w));

    function state() {
      const i = Number(inputs.n.value);
      const source = document.querySelector("input[name='explorer-source']:checked").value;
      const s = parseFloat(inputs.s.value);
      const r = parseFloat(inputs.r.value);
      const f = parseFloat(inputs.f.value);
      const m = Number(inputs.w.value);
      const t = Number(inputs.t.value);
      const n = data.n[i];
      const {kept, lambda} = effectiveRealFraction(s, r, f);
      const realPoints = lambda * n;
      const j = kept > 0 ? data.k[i].indexOf(snap(data.k[i], realPoints)) : -1;
      return {i, j, m, n, source, s, r, f, t, w: data.w[m], kept, lambda, realPoints,
              k: j >= 0 ? data.k[i][j] : NaN};
    }

    function curveOf(st, name, j) {
      const row = data[st.source][name][st.i][j];
      return name === "presence" ? row[st.m] : row;
    }

    // the number in the text (a share as a percentage), in full in data-value
    function show(id, value, percent = false) {
      const element = $(id);
      element.textContent = percent && Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : format(value);
      element.dataset.value = Number.isFinite(value) ? String(value) : "";
    }

    function draw(st, name) {
      const ts = Array.from({length: st.t + 1}, (_, t) => t);
      const replace = curveOf(st, name, 0);
      const traces = [];
      if (st.j >= 0) {
        const setting = curveOf(st, name, st.j);
        traces.push({x: ts, y: ts.map((t) => at(setting, t)), name: `your pipeline (k = ${st.k})`,
                     mode: "lines", line: {color: COLORS.setting, width: 3}});
      }
      traces.push({x: ts, y: ts.map((t) => at(replace, t)), name: "no real data (k = 0)",
                   mode: "lines", line: {color: COLORS.replace, width: 2, dash: "dot"}});
      const text = cssColor("--pst-color-text-base", "#222");
      const grid = "rgba(128, 128, 128, 0.25)";
      const axis = {gridcolor: grid, zerolinecolor: grid, linecolor: grid, color: text};
      const layout = {
        height: 260, margin: {l: 60, r: 12, t: 8, b: 44},
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        font: {family: getComputedStyle(document.body).fontFamily, size: 13, color: text},
        xaxis: {...axis, title: {text: "generation t"}, range: [0, Math.max(st.t, 1)]},
        yaxis: {...axis, title: {text: CURVES[name].title},
                ...(CURVES[name].range ? {range: CURVES[name].range} : {rangemode: "tozero"})},
        legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom", bgcolor: "rgba(0,0,0,0)"},
        showlegend: true,
      };
      const plot = $(`explorer-plot-${name}`);
      window.Plotly.react(plot, traces, layout, {displayModeBar: false, responsive: true});
      const last = traces.map((trace) => `${trace.name}: ${format(trace.y[trace.y.length - 1])}`);
      plot.setAttribute("aria-label", `${CURVES[name].title} over generations 0 to ${st.t}; ` +
                        `at generation ${st.t}, ${last.join("; ")}`);
    }

    function update() {
      const st = state();
      $("explorer-n-value").textContent = String(st.n);
      $("explorer-s-value").textContent = `${Math.round(st.s * 100)}%`;
      $("explorer-r-value").textContent = `${Math.round(st.r * 100)}%`;
      $("explorer-f-value").textContent = `${Math.round(st.f * 100)}%`;
      $("explorer-t-value").textContent = String(st.t);
      for (const element of root.querySelectorAll(".explorer-at-t")) element.textContent = String(st.t);
      show("explorer-kept", st.kept, true);
      show("explorer-lambda", st.lambda, true);
      $("explorer-real-points").textContent = Number.isFinite(st.realPoints) ? st.realPoints.toFixed(1) : "–";
      $("explorer-k").textContent = Number.isFinite(st.k) ? String(st.k) : "–";
      $("explorer-k").dataset.value = Number.isFinite(st.k) ? String(st.k) : "";
      $("explorer-nothing").hidden = st.kept > 0;
      for (const name of Object.keys(CURVES)) {
        const id = name.replace("_", "-");
        show(`explorer-${id}-value`, st.j >= 0 ? at(curveOf(st, name, st.j), st.t) : NaN);
        show(`explorer-${id}-replace`, at(curveOf(st, name, 0), st.t));
        draw(st, name);
      }
      root.dataset.ready = "true";
    }

    root.addEventListener("input", update);
    root.addEventListener("change", update);
    // redraw in the other colour mode
    new MutationObserver(update).observe(document.documentElement, {attributes: true,
                                                                     attributeFilter: ["data-theme"]});
    window.collapseExplorer = {effectiveRealFraction, snap, at, state, update, data};
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
