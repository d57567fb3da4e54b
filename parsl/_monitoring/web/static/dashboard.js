/* parsl-visualize dashboard: draws the charts of a page with plotly.js (served by
   parsl-visualize itself) from the page's JSON endpoint, and refreshes them every second
   while the workflow runs.  Zooming a time chart asks the server for that window again,
   so the detail follows the zoom (bars of single tries instead of counts). */
(function () {
  "use strict";
  var PV = window.PV || {};
  var COLORS = PV.colors || {};
  var win = {t0: null, t1: null};           // the zoomed time window, null = whole run
  var timer = null, inflight = false, lastLive = true;
  var CONF = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"]};

  function q(extra) {
    var p = new URLSearchParams(location.search);
    if (win.t0) { p.set("t0", win.t0); p.set("t1", win.t1); }
    for (var k in (extra || {})) { p.set(k, extra[k]); }
    var s = p.toString();
    return s ? "?" + s : "";
  }
  function el(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function bytes(n) {
    if (n == null) return "";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n.toFixed(0)) + " " + u[i];
  }
  function secs(n) { return n == null ? "" : (n < 10 ? n.toFixed(2) : n.toFixed(1)) + " s"; }
  function layout(title, ytitle, extra) {
    var l = {title: {text: title, font: {size: 14}}, margin: {l: 60, r: 60, t: 40, b: 40}, height: 280,
             xaxis: {type: "date", title: {text: "time"}}, yaxis: {title: {text: ytitle}, rangemode: "tozero"},
             legend: {orientation: "h", y: -0.25}, uirevision: "keep", hovermode: "x unified"};
    for (var k in (extra || {})) { l[k] = extra[k]; }
    return l;
  }
  function draw(id, traces, lay) {
    var d = el(id);
    if (!d) return;
    var first = !d.dataset.drawn;
    Plotly.react(d, traces, lay, CONF);
    if (first) {
      d.dataset.drawn = "1";
      d.on("plotly_relayout", function (ev) {
        if (ev["xaxis.range[0]"]) { zoom(ev["xaxis.range[0]"], ev["xaxis.range[1]"]); }
        else if (ev["xaxis.autorange"]) { zoom(null, null); }
      });
    }
  }
  function zoom(a, b) {
    win.t0 = a; win.t1 = b;
    var note = el("window");
    if (note) note.textContent = a ? "window " + a.slice(0, 19) + " – " + b.slice(0, 19) + " (double-click a chart for the whole run)" : "";
    refresh(true);
  }

  // a note in an empty chart, saying why it is empty
  function none(values, text) {
    var any = values.some(function (v) { return v; });
    return any ? {annotations: []} : {annotations: [{text: text, showarrow: false, xref: "paper", yref: "paper",
      x: 0.5, y: 0.6, font: {color: "#888", size: 12}}]};
  }

  // ---------------------------------------------------------------- overview
  function overview(d) {
    var cards = el("states");
    if (cards) {
      cards.innerHTML = Object.keys(d.states).sort().map(function (s) {
        return '<div class="card"><span class="chip" style="background:' + (COLORS[s] || "#888") + '">' +
          esc(s) + "</span><b>" + d.states[s] + "</b></div>";
      }).join("") || '<p class="note">No tasks yet.</p>';
    }
    var f = d.flow, x = f.x, unit = f.width_s >= 1 ? f.width_s.toFixed(1) + " s" : (f.width_s * 1000).toFixed(0) + " ms";
    draw("chart-completed", [
      {x: x, y: f.completed, type: "bar", name: "completed per " + unit, marker: {color: COLORS.exec_done}},
      {x: x, y: f.failed, type: "bar", name: "failed per " + unit, marker: {color: COLORS.failed}},
      {x: x, y: f.completed_total, type: "scatter", mode: "lines", name: "completed so far", yaxis: "y2",
       line: {color: "#2d3e50"}}],
      layout("Tasks completed", "tasks per " + unit, {barmode: "stack",
        yaxis2: {title: {text: "tasks completed (total)"}, overlaying: "y", side: "right", rangemode: "tozero"}}));
    draw("chart-queue", [
      {x: x, y: f.queued, type: "scatter", mode: "lines", name: "queued (waiting to run)", line: {color: COLORS.launched, shape: "hv"}},
      {x: x, y: f.running, type: "scatter", mode: "lines", name: "running", line: {color: COLORS.running, shape: "hv"}}],
      layout("Tasks queued and running", "tasks"));
    var w = d.workers;
    draw("chart-workers", [
      {x: x, y: w.connected, type: "scatter", mode: "lines", name: "connected workers", line: {color: "#7f7f7f", shape: "hv"}},
      {x: x, y: w.busy, type: "scatter", mode: "lines", name: "busy workers", line: {color: COLORS.running, shape: "hv"}},
      {x: x, y: w.busy_fraction.map(function (v) { return v == null ? null : 100 * v; }), type: "scatter",
       mode: "lines", name: "busy ÷ connected (%)", yaxis: "y2", line: {color: "#ff7f0e", dash: "dot"}}],
      layout("Workers", "workers", Object.assign({yaxis2: {title: {text: "busy (%)"}, overlaying: "y", side: "right",
        range: [0, 105]}}, none(w.connected, "No managers reported: busy workers are the running tries."))));
    var b = d.blocks;
    draw("chart-blocks", ["requested", "running", "released"].map(function (g, i) {
      return {x: x, y: b[g], type: "scatter", mode: "lines", stackgroup: "b", name: g + " blocks",
              line: {shape: "hv", color: ["#9ecae1", "#31a354", "#bbbbbb"][i]}};
    }), layout("Blocks", "blocks", none(b.requested.concat(b.running, b.released),
        "No blocks recorded: this run's executors start no blocks (a thread pool) or have not reported yet.")));
  }

  // ---------------------------------------------------------------- task stream
  function stream(d) {
    var s = d.stream, note = el("stream-note");
    if (s.mode === "heat") {
      if (note) note.textContent = "Zoomed out: each cell counts the tries that started on a block in " +
        secs(s.width_s) + ". Zoom in (drag on the chart) to see every try.";
      draw("chart-stream", [{type: "heatmap", x: s.x, y: s.y, z: s.z, colorscale: "Blues",
        colorbar: {title: {text: "tries started"}}, hovertemplate: "%{y}<br>%{x}<br>%{z} tries started<extra></extra>"}],
        layout("Task stream (tries per block over time)", "block", {height: Math.max(300, 60 + 22 * s.y.length),
          hovermode: "closest", yaxis: {title: {text: "block"}, type: "category", autorange: "reversed", uirevision: "heat"}}));
      return;
    }
    var bars = s.bars, lanes = {}, laneNames = [];
    bars.forEach(function (b) {
      var k = "block " + b.block + " · " + b.lane;
      b.y = k;
      if (!(k in lanes)) { lanes[k] = 1; laneNames.push(k); }
    });
    laneNames.sort(function (a, b) { return a.localeCompare(b, undefined, {numeric: true}); });
    if (note) note.textContent = bars.length + " tries. A bar is one try on a worker of its block: " +
      "launched (waiting for a worker), then running; the mark at its end is how it ended. Click a bar for its task.";
    function seg(kind, from, to) {
      var xs = [], base = [], ys = [], text = [], ids = [];
      bars.forEach(function (b) {
        var s0 = b[from], s1 = to === "end" ? b.end : b[to];
        if (!s0) return;
        s1 = s1 || b.end;
        var dur = new Date(s1.replace(" ", "T")) - new Date(s0.replace(" ", "T"));
        if (dur < 0) return;
        base.push(s0); xs.push(Math.max(dur, 1)); ys.push(b.y); ids.push(b.task);
        text.push("task " + b.task + " (" + esc(b.app) + "), try " + b["try"] + "<br>launched " + (b.launched || "") +
          "<br>running " + (b.running || "") + "<br>returned " + (b.returned || "(still running)") +
          "<br>host " + esc(b.host || "") + (b.outcome ? "<br>" + b.outcome : ""));
      });
      return {type: "bar", orientation: "h", base: base, x: xs, y: ys, name: kind, customdata: ids,
              marker: {color: COLORS[kind]}, hovertext: text, hoverinfo: "text", width: 0.8};
    }
    var ends = {};
    bars.forEach(function (b) { if (b.outcome) { (ends[b.outcome] = ends[b.outcome] || []).push(b); } });
    var traces = [seg("launched", "launched", "running"), seg("running", "running", "end")];
    Object.keys(ends).forEach(function (o) {
      traces.push({type: "scatter", mode: "markers", name: o, x: ends[o].map(function (b) { return b.returned; }),
        y: ends[o].map(function (b) { return b.y; }), customdata: ends[o].map(function (b) { return b.task; }),
        marker: {color: COLORS[o], symbol: "line-ns", size: 12, line: {width: 3, color: COLORS[o]}},
        hovertext: ends[o].map(function (b) { return "task " + b.task + " " + o; }), hoverinfo: "text"});
    });
    draw("chart-stream", traces, layout("Task stream (one bar per try)", "block · worker lane", {
      // a lane per worker busy at once; past ~90 lanes they get thinner rather than the page taller
      barmode: "overlay", hovermode: "closest", height: Math.min(1500, Math.max(320, 80 + 16 * laneNames.length)),
      margin: {l: 110, r: 30, t: 40, b: 40},
      yaxis: {type: "category", categoryorder: "array", categoryarray: laneNames, autorange: "reversed",
              title: {text: "block · worker lane"}, uirevision: "bars" + laneNames.length,
              showticklabels: laneNames.length <= 90}}));
    var div = el("chart-stream");
    if (!div.dataset.clicks) {
      div.dataset.clicks = "1";
      div.on("plotly_click", function (ev) {
        var p = ev.points && ev.points[0];
        if (p && p.customdata != null) location.href = PV.base + "task/" + p.customdata;
      });
    }
  }

  // ---------------------------------------------------------------- resources
  function resources(d) {
    var by = (el("res-by") || {}).value || "app";
    var groups = d.over_time[by] || {}, x = d.x;
    function lines(key, scale) {
      return Object.keys(groups).map(function (g) {
        return {x: x, y: groups[g][key].map(function (v) { return v == null ? null : v / scale; }),
                type: "scatter", mode: "lines", connectgaps: false, name: (by === "app" ? "app " : "node ") + g};
      });
    }
    var what = (by === "app" ? "per app" : "per node") + (d.sampled_every > 1 ? ", every " + d.sampled_every + "th task" : "");
    draw("chart-cpu", lines("cpu", 1), layout("CPU " + what + " (mean of samples)", "CPU (% of one core)"));
    draw("chart-rss", lines("rss", 1048576), layout("Memory " + what + " (mean resident set)", "resident memory (MiB)"));
    draw("chart-io", lines("io", 1048576), layout("I/O " + what + " (mean bytes read + written per task so far)", "I/O (MiB)"));
    var s = d.summary, t = el("summary");
    if (t) {
      var row = function (v, f) { return v ? "<td>" + f(v.mean) + "</td><td>" + f(v.p95) + "</td><td>" + f(v.max) + "</td>" : "<td></td><td></td><td></td>"; };
      t.innerHTML = "<table><thead><tr><th rowspan=2>app</th><th rowspan=2>tasks measured</th>" +
        "<th colspan=3>peak memory (RSS)</th><th colspan=3>CPU time</th><th colspan=3>wall time</th></tr><tr>" +
        "<th>mean</th><th>p95</th><th>max</th><th>mean</th><th>p95</th><th>max</th><th>mean</th><th>p95</th><th>max</th>" +
        "</tr></thead><tbody>" + s.apps.map(function (a) {
          return "<tr><td>" + esc(a.app) + "</td><td>" + a.tasks + "</td>" + row(a.rss, bytes) + row(a.cpu, secs) + row(a.wall, secs) + "</tr>";
        }).join("") + "</tbody></table>" + (s.sampled_every > 1 ? '<p class="note">From every ' + s.sampled_every +
        "th task (" + s.tasks + " tasks in all).</p>" : "");
    }
  }

  // ---------------------------------------------------------------- DAG
  function dag(d) {
    var g = d.graph, by = PV.dagBy, pos = {}, note = el("dag-note");
    g.nodes.forEach(function (n) { pos[n.id] = n; });
    var ex = [], ey = [], sizes = [], mx = [], my = [], mt = [], within = {}, flip = 1;
    g.edges.forEach(function (e) {
      var a = pos[e.from], b = pos[e.to];
      if (!a || !b) return;
      if (e.from === e.to) { within[e.from] = e.count; return; }   // a self-loop: said on the node
      // an edge that skips a column bends around the nodes between; the arrowhead sits
      // short of the target so the node does not hide it
      var span = Math.abs(b.x - a.x), bx = (a.x + b.x) / 2, by = (a.y + b.y) / 2;
      if (span > 1 || (span === 0 && a.y !== b.y)) { by += flip * 0.28 * Math.max(1, span - 0.5); flip = -flip; }
      var px = bx + 0.82 * (b.x - bx), py = by + 0.82 * (b.y - by);
      ex.push(a.x, bx, px, b.x, null); ey.push(a.y, by, py, b.y, null); sizes.push(0, 0, 13, 0, 0);
      if (e.count != null) { mx.push(bx); my.push(by); mt.push(String(e.count)); }
    });
    var traces = [{type: "scatter", mode: "lines+markers", x: ex, y: ey, hoverinfo: "skip", showlegend: false,
      line: {color: "#999", width: 1}, marker: {symbol: "arrow", angleref: "previous", size: sizes, color: "#666"}}];
    if (mt.length) traces.push({type: "scatter", mode: "text", x: mx, y: my, text: mt, hoverinfo: "skip",
      showlegend: false, textfont: {color: "#555", size: 11}});
    var apps = [];
    g.nodes.forEach(function (n) { if (apps.indexOf(n.app) < 0) apps.push(n.app); });
    var palette = PV.palette || [];
    function appColor(a) { return palette[apps.indexOf(a) % palette.length]; }
    var groups = {};
    g.nodes.forEach(function (n) {
      var key = g.kind === "apps" || by === "apps" ? "app " + n.app : n.state;
      (groups[key] = groups[key] || []).push(n);
    });
    Object.keys(groups).sort().forEach(function (k) {
      var ns = groups[k];
      var color = g.kind === "apps" || by === "apps" ? appColor(ns[0].app) : (COLORS[ns[0].state] || "#888");
      var small = g.nodes.length <= 80 || g.kind === "apps";
      traces.push({type: "scatter", mode: small ? "markers+text" : "markers", name: k,
        x: ns.map(function (n) { return n.x; }), y: ns.map(function (n) { return n.y; }),
        customdata: ns.map(function (n) { return n.id; }), textposition: "top center",
        text: ns.map(function (n) {
          return g.kind === "apps" ? esc(n.app) + " (" + n.total + (within[n.id] ? ", " + within[n.id] + " within" : "") + ")"
            : esc(n.app) + " #" + n.id; }),
        hovertext: ns.map(function (n) {
          return g.kind === "apps" ? "app " + esc(n.app) + ": " + n.total + " tasks<br>" + Object.keys(n.counts).sort().map(
            function (s) { return s + " " + n.counts[s]; }).join("<br>") : "task " + n.id + " (" + esc(n.app) + "): " + n.state; }),
        hoverinfo: "text",
        marker: {color: color, line: {color: "#333", width: 1},
                 size: g.kind === "apps" ? ns.map(function (n) { return 14 + 6 * Math.log10(1 + n.total); }) : (small ? 14 : 9)}});
    });
    if (note) note.textContent = g.kind === "apps" ? "The graph of apps: a node is an app (its task count, and how many dependencies stay within the app; hover for states), " +
      "an edge counts the task dependencies between two apps" + (g.edge_sample > 1 ? " (estimated from 1 task in " + g.edge_sample + ")" : "") + ". Click an app for its tasks." :
      g.nodes.length + " tasks, " + g.edges.length + " dependencies" + (g.truncated ? " (the first " + g.nodes.length + " tasks)" : "") +
      ". Arrows point from a task to the tasks that depend on it. Click a task for its page.";
    var cols = 1 + Math.max.apply(null, g.nodes.map(function (n) { return n.x; }).concat([0]));
    var rows = 1 + Math.max.apply(null, g.nodes.map(function (n) { return Math.abs(n.y) * 2; }).concat([0]));
    draw("chart-dag", traces, {margin: {l: 20, r: 20, t: 20, b: 20}, height: Math.min(1400, Math.max(360, 28 * rows + 80)),
      hovermode: "closest", uirevision: "keep", showlegend: true, legend: {orientation: "h"},
      xaxis: {visible: false, range: [-0.5, cols - 0.5]}, yaxis: {visible: false}});
    var div = el("chart-dag");
    if (!div.dataset.clicks) {
      div.dataset.clicks = "1";
      div.on("plotly_click", function (ev) {
        var p = ev.points && ev.points[0];
        if (!p || p.customdata == null) return;
        location.href = PV.base + (pos[p.customdata] && pos[p.customdata].counts ? "app/" + encodeURIComponent(p.customdata) : "task/" + p.customdata);
      });
    }
  }

  // ---------------------------------------------------------------- task samples
  function samples() {
    var s = PV.samples;
    if (!s || !s.length) return;
    var tries = {};
    s.forEach(function (r) { (tries[r.try_id] = tries[r.try_id] || []).push(r); });
    function tr(key, scale) {
      return Object.keys(tries).map(function (t) {
        return {x: tries[t].map(function (r) { return r.timestamp; }), y: tries[t].map(function (r) { return r[key] == null ? null : r[key] / scale; }),
                type: "scatter", mode: "lines+markers", name: "try " + t};
      });
    }
    var L = function (t, y) { return layout(t, y, {hovermode: "closest", height: 260}); };
    Plotly.newPlot("chart-task-cpu", tr("cpu", 1), L("CPU", "CPU (% of one core)"), CONF);
    Plotly.newPlot("chart-task-rss", tr("rss", 1048576), L("Resident memory", "memory (MiB)"), CONF);
    Plotly.newPlot("chart-task-io", tr("io", 1048576), L("I/O (read + written so far)", "MiB"), CONF);
  }

  var RENDER = {overview: overview, stream: stream, resources: resources, dag: dag};

  // Tables rendered by the server (marked data-swap) follow the run too, less often.
  var swaps = 0;
  function swapTables(force) {
    if (!document.querySelector("[data-swap]") || (!force && ++swaps % 3)) return;
    fetch(location.href, {cache: "no-store", credentials: "same-origin"}).then(function (r) { return r.text(); })
      .then(function (t) {
        var doc = new DOMParser().parseFromString(t, "text/html");
        document.querySelectorAll("[data-swap]").forEach(function (e) {
          var n = doc.getElementById(e.id);
          if (n && n.innerHTML !== e.innerHTML) e.innerHTML = n.innerHTML;
        });
      }).catch(function () {});
  }

  function refresh(now) {
    var kind = PV.kind, fn = RENDER[kind];
    if (!fn || !PV.api) return;
    if (inflight && !now) return;
    inflight = true;
    fetch(PV.api + q(PV.apiExtra ? PV.apiExtra() : null), {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) {
        fn(d);
        if (d.live || lastLive) swapTables(!d.live);
        lastLive = d.live;
        var live = el("live");
        if (live) live.textContent = d.live ? "live: updated " + new Date().toLocaleTimeString() : "";
        document.body.dataset.updated = String(Date.now());
        document.body.dataset.live = d.live ? "1" : "0";
      })
      .catch(function (e) { var live = el("live"); if (live) live.textContent = "update failed: " + e.message; })
      .then(function () { inflight = false; schedule(); });
  }
  function schedule() {
    clearTimeout(timer);
    if (lastLive) timer = setTimeout(refresh, 1000);
  }

  // Pages without charts (task lists, a task) swap in their new <main> while the run lives.
  function swapLoop() {
    var m = document.querySelector("main");
    if (!m || m.dataset.live !== "1") return;
    setTimeout(function () {
      fetch(location.href, {cache: "no-store", credentials: "same-origin"}).then(function (r) { return r.text(); })
        .then(function (t) {
          var n = new DOMParser().parseFromString(t, "text/html").querySelector("main");
          if (n && n.innerHTML !== m.innerHTML) {
            m.innerHTML = n.innerHTML;
            var s = n.querySelector("script[data-samples]");
            if (s) { PV.samples = JSON.parse(s.textContent); samples(); }
          }
          if (n) m.dataset.live = n.dataset.live;
          document.body.dataset.updated = String(Date.now());
        }).catch(function () {}).then(swapLoop);
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("pre.tail").forEach(function (e) { e.scrollTop = e.scrollHeight; });
    var by = el("res-by");
    if (by) by.addEventListener("change", function () { refresh(true); });
    if (PV.kind === "task") samples();
    if (RENDER[PV.kind]) refresh(true); else swapLoop();
  });
})();
