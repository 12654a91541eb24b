// IPAS console: the Uploads page's chart of the upload rate against the
// limit over the last day, drawn as plain SVG (after app.js).
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const CHART_W = 1440, CHART_H = 200; // one unit per minute of a day

function svgEl(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

async function loadHistory() {
  try {
    renderChart(await api("GET", "/api/v1/replication/history"));
    setText("up-chart-error", "");
  } catch (e) {
    setText("up-chart-error", e.message);
  }
}

// renderChart draws h (admin.RateHistory): the newest interval ends at the
// right edge; the left edge is a day ago, or an hour ago while the daemon
// has run for less, so that its first minutes are visible.
function renderChart(h) {
  const rates = h.bytes_per_second, limits = h.limit_bytes_per_second;
  const n = rates.length;
  const interval = h.interval_seconds || 60;
  const day = Math.round(86400 / interval);
  const slots = Math.min(day, Math.max(n, Math.round(3600 / interval)));
  const step = CHART_W / slots;
  const span = slots * interval;
  setText("up-chart-from", span >= 86400 ? "24 h ago" : duration(span) + " ago");
  setText("up-chart-mid", duration(span / 2) + " ago");
  setText("up-chart-title", span >= 86400 ? "Upload rate, last 24 h" : "Upload rate since the daemon started");
  const limited = limits.filter((l) => l > 0);
  const top = Math.max(1, ...rates, ...limited) * 1.1;
  const x = (i) => CHART_W - (n - i) * step; // left edge of interval i
  const y = (v) => (CHART_H - (v / top) * CHART_H).toFixed(1);
  const parts = [];
  // Paused intervals, shaded.
  for (let i = 0; i < n; i++) {
    if (limits[i] === -1) parts.push(svgEl("rect", { class: "paused", x: x(i).toFixed(1), y: 0, width: step.toFixed(2), height: CHART_H }));
  }
  // The rate, as an area of steps.
  if (n) {
    let d = "M" + x(0).toFixed(1) + " " + CHART_H;
    for (let i = 0; i < n; i++) d += " L" + x(i).toFixed(1) + " " + y(rates[i]) + " L" + (x(i) + step).toFixed(1) + " " + y(rates[i]);
    d += " L" + CHART_W + " " + CHART_H + " Z";
    parts.push(svgEl("path", { class: "rate", d }));
  }
  // The limit, as a line broken where there was none (unlimited or paused).
  let d = "", open = false;
  for (let i = 0; i < n; i++) {
    if (limits[i] > 0) {
      d += (open ? " L" : " M") + x(i).toFixed(1) + " " + y(limits[i]) + " L" + (x(i) + step).toFixed(1) + " " + y(limits[i]);
      open = true;
    } else {
      open = false;
    }
  }
  if (d) parts.push(svgEl("path", { class: "limit", d: d.trim() }));
  $("up-chart").replaceChildren(...parts);

  const peak = n ? Math.max(...rates) : 0;
  const avg = n ? rates.reduce((a, b) => a + b, 0) / n : 0;
  const cap = [];
  if (!n) {
    cap.push("No data yet: a point is added every " + duration(h.interval_seconds) + " from the daemon's start.");
  } else {
    cap.push("Peak " + bytes(peak) + "/s, average " + bytes(avg) + "/s over " + duration(n * h.interval_seconds));
    cap.push(limited.length ? "limit up to " + bytes(Math.max(...limited)) + "/s (dashed)" : "no limit in force");
    if (limits.includes(-1)) cap.push("shaded: paused");
  }
  setText("up-chart-caption", cap.join(" · "));
  $("up-chart").dataset.points = String(n);
}

// The chart follows the daemon's minute while the Uploads page is shown.
setInterval(() => { if (csrf && !$("uploads").hidden) loadHistory(); }, 60000);
