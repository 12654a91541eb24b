// IPAS console: renders the JSON of /api/v1/* and the live "status" events.
// Data is only ever written with textContent, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let csrf = "";
let events = null;
let last = null;

const STATES = {
  "running": ["Uploading", "ok"],
  "idle": ["Idle", "ok"],
  "paused": ["Paused", "warn"],
  "paused-by-error": ["Stopped by an error", "bad"],
  "paused-by-timetable": ["Paused by the timetable", "warn"],
  "budget-spent": ["Monthly budget spent", "warn"],
  "standby": ["Standby (not the leader)", "warn"],
  "remote-unreachable": ["REMOTE UNREACHABLE", "bad"],
};

function bytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
}
const count = (n, one, many) => n + " " + (n === 1 ? one : many);
function duration(s) {
  s = Math.round(s);
  if (s < 90) return s + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " days";
}
const since = (t, now) => duration((now - new Date(t)) / 1000) + " ago";

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opt.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  if (r.status === 401) { signedOut(); throw new Error("signed out"); }
  if (!r.ok) {
    let msg = r.status + " " + r.statusText;
    try { msg = (await r.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return r.status === 204 ? null : r.json();
}

function show(id) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== id;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("current", a.dataset.page === id);
}

const PAGES = ["overview", "uploads", "browse", "remote", "drop", "log", "users"];

function route() {
  if (!csrf) return;
  const page = PAGES.includes(location.hash.slice(1)) ? location.hash.slice(1) : "overview";
  show(page);
  pageShown(page); // pages.js
}

function signedOut() {
  csrf = "";
  if (events) { events.close(); events = null; }
  $("nav").hidden = true;
  show("login");
  $("secret").value = "";
  hideSecret(); // users.js: a new secret never outlives the session
}

function signedIn(session) {
  csrf = session.csrf_token;
  $("nav").hidden = false;
  route();
  listen();
}

function listen() {
  if (events) events.close();
  events = new EventSource("/api/v1/events");
  events.addEventListener("status", (e) => { $("live").textContent = "Live."; render(JSON.parse(e.data)); });
  events.addEventListener("signed-out", signedOut);
  events.addEventListener("log", (e) => logChanged(JSON.parse(e.data).last)); // pages.js
  events.onerror = () => {
    $("live").textContent = "Reconnecting…";
    // A refused stream is not retried by the browser: find out why.
    if (events && events.readyState === EventSource.CLOSED) {
      setTimeout(() => api("GET", "/api/v1/session").then(listen).catch(() => {}), 3000);
    }
  };
}

function setText(id, text) { $(id).textContent = text; }

function render(st) {
  last = st;
  const now = new Date(st.time);
  const rep = st.replication, tot = st.totals, off = st.offsite;
  const [stateText, stateClass] = STATES[rep.state] || [rep.state, "warn"];
  const pendingObjects = off ? off.pending_objects : tot.queue_jobs;
  const pendingBytes = off ? off.pending_bytes : tot.queue_bytes;

  const verdict = $("verdict");
  if (st.remote.local) {
    verdict.className = "verdict bad";
    verdict.textContent = "NOT offsite: the remote is the built-in local copy on this machine. Configure a remote to protect the archive.";
  } else if (pendingObjects === 0 && !st.failing.length) {
    verdict.className = "verdict ok";
    verdict.textContent = "Everything is offsite.";
  } else {
    verdict.className = "verdict " + (stateClass === "bad" || st.failing.length ? "bad" : "warn");
    verdict.textContent = count(pendingObjects, "object", "objects") + " (" + bytes(pendingBytes) + ") not offsite yet.";
  }

  renderAlerts(st.alerts || [], now);
  const pub = st.public_buckets || [];
  $("public-warning").hidden = !pub.length;
  setText("public-warning", pub.length ? "Public: anyone can read " + (pub.length === 1 ? "bucket " : "buckets ") +
    pub.join(", ") + " without a key (by the bucket's policy)." : "");
  setText("ov-state", stateText);
  $("ov-state").className = "big";
  let detail = rep.error || rep.last_error || "";
  if (rep.paused_since) detail = "since " + since(rep.paused_since, now) + (detail ? ": " + detail : "");
  setText("ov-state-detail", detail || (rep.limit_bytes_per_second ? "limit " + bytes(rep.limit_bytes_per_second) + "/s" : "no bandwidth limit"));
  setText("ov-pending", count(pendingObjects, "object", "objects") + ", " + bytes(pendingBytes));
  const pd = [];
  if (off && off.oldest_pending) pd.push("oldest waiting " + since(off.oldest_pending, now));
  if (off && off.eta_seconds != null) pd.push("done in about " + duration(off.eta_seconds));
  if (tot.quarantined) pd.push(tot.quarantined + " quarantined");
  if (st.failing.length) pd.push(count(st.failing.length, "failing upload", "failing uploads"));
  setText("ov-pending-detail", pd.join(" · "));

  const r = st.remote;
  setText("ov-remote", r.local ? "NOT offsite" : r.bucket + (r.prefix ? "/" + r.prefix : ""));
  $("ov-remote").className = "big" + (r.local ? " error" : "");
  setText("ov-remote-detail", r.local ? "built-in local copy (" + r.bucket + ")" : r.endpoint);

  setText("ov-uploaded", count(tot.replicated_objects, "object", "objects") + ", " + bytes(tot.replicated_bytes));
  const ud = [];
  if (tot.bytes_per_second) ud.push(bytes(tot.bytes_per_second) + "/s now");
  if (st.active.length && tot.objects_per_second >= 0.1) ud.push(tot.objects_per_second.toFixed(1) + " objects/s");
  if (off && off.last_upload) ud.push("last upload " + since(off.last_upload, now));
  if (st.active.length && !tot.bytes_per_second) ud.unshift(count(st.active.length, "upload", "uploads") + " in progress");
  setText("ov-rate", ud.join(" · ") || "nothing uploading");

  const j = st.journal;
  setText("ov-archive", count(j.objects, "object", "objects") + ", " + bytes(j.bytes));
  setText("ov-archive-detail", count(j.buckets, "bucket", "buckets"));

  if (st.disk) {
    const used = st.disk.total_bytes - st.disk.free_bytes;
    const pct = st.disk.total_bytes ? Math.round(100 * used / st.disk.total_bytes) : 0;
    setText("ov-disk", bytes(st.disk.free_bytes) + " free");
    $("ov-disk-bar").style.width = pct + "%";
    $("ov-disk-bar").parentElement.className = "bar" + (pct >= 90 ? " bad" : "");
    setText("ov-disk-detail", pct + "% of " + bytes(st.disk.total_bytes) + " used");
  } else {
    setText("ov-disk", "unknown");
  }
  setText("ov-time", now.toLocaleTimeString());

  // Uploads page.
  setText("up-state", stateText);
  $("up-state").className = "badge " + stateClass;
  $("pause").disabled = rep.manual_pause;
  $("resume").disabled = !rep.manual_pause;
  if (document.activeElement !== $("bandwidth")) $("bandwidth").value = rep.bandwidth || "unlimited";
  setText("up-limit", "In force now: " + (rep.limit_bytes_per_second ? bytes(rep.limit_bytes_per_second) + "/s" : "unlimited") +
    (tot.bytes_per_second ? " · uploading at " + bytes(tot.bytes_per_second) + "/s" : ""));
  jobs("active", st.active, false);
  jobs("failing", st.failing, true);
  renderRemote(st); // pages.js
}

// renderAlerts lists the alerts in force, each with its summary, since
// when, and what to do (the detail the notices carry).
function renderAlerts(list, now) {
  $("alerts").replaceChildren(...list.map((a) => {
    const li = document.createElement("li");
    li.className = "alert" + (a.clearing ? " clearing" : "");
    li.dataset.kind = a.kind;
    const head = document.createElement("div");
    head.className = "alert-head";
    const sum = document.createElement("strong");
    sum.textContent = a.summary;
    const when = document.createElement("span");
    when.className = "muted small";
    when.textContent = (a.clearing ? "clearing · " : "") + "since " + since(a.since, now);
    head.append(sum, when);
    const detail = document.createElement("p");
    detail.className = "alert-detail";
    detail.textContent = a.detail || "";
    li.append(head, detail);
    return li;
  }));
}

function jobs(id, list, failing) {
  const ul = $(id);
  ul.replaceChildren(...list.map((job) => jobItem(job, failing)));
  $(id + "-empty").hidden = list.length > 0;
}

function jobItem(job, failing) {
  const li = document.createElement("li");
  li.dataset.key = job.bucket + "/" + job.key;
  const name = document.createElement("div");
  name.className = "job-name";
  name.textContent = (job.op === "delete" ? "delete " : "") + job.bucket + "/" + job.key;
  const pct = job.size ? Math.min(100, Math.floor(100 * job.bytes_done / job.size)) : (job.parts_done === job.parts ? 100 : 0);
  const bar = document.createElement("div");
  bar.className = "bar" + (failing ? " bad" : "");
  const fill = document.createElement("div");
  fill.style.width = pct + "%";
  bar.append(fill);
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuenow", String(pct));
  const meta = document.createElement("div");
  meta.className = "job-meta";
  const left = document.createElement("span");
  left.textContent = pct + "% of " + bytes(job.size) + (job.parts > 1 ? " · part " + job.parts_done + "/" + job.parts : "");
  const right = document.createElement("span");
  if (failing) {
    right.textContent = (job.quarantined ? "quarantined · " : "") + count(job.attempts, "attempt", "attempts");
  } else {
    right.textContent = (job.bytes_per_second ? bytes(job.bytes_per_second) + "/s" : "") +
      (job.eta_seconds ? " · " + duration(job.eta_seconds) + " left" : "");
  }
  meta.append(left, right);
  li.append(name, bar, meta);
  if (job.last_error) {
    const err = document.createElement("p");
    err.className = "error";
    err.textContent = job.last_error;
    li.append(err);
  }
  if (failing) {
    // A quarantined job waits for an operator; a failing one for its backoff.
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "secondary retry";
    retry.textContent = job.quarantined ? "Release" : "Retry now";
    retry.addEventListener("click", () => act(api("POST", "/api/v1/replication/retry", { job: job.id })));
    li.append(retry);
  }
  return li;
}

// testAlert sends a test notice through every alert channel and lists
// each channel's answer.
async function testAlert() {
  const out = $("alert-test-result");
  $("alert-test").disabled = true;
  out.replaceChildren();
  try {
    const res = await api("POST", "/api/v1/alerts/test");
    out.replaceChildren(...res.channels.map((c) => {
      const li = document.createElement("li");
      li.className = c.ok ? "ok" : "error";
      li.textContent = (c.ok ? "sent: " : "FAILED: ") + c.name + (c.error ? ": " + c.error : "");
      return li;
    }));
  } catch (e) {
    const li = document.createElement("li");
    li.className = "error";
    li.textContent = e.message;
    out.replaceChildren(li);
  } finally {
    $("alert-test").disabled = false;
  }
}

async function act(promise) {
  setText("up-error", "");
  try {
    await promise;
    render(await api("GET", "/api/v1/status"));
  } catch (e) {
    setText("up-error", e.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    setText("login-error", "");
    try {
      const r = await fetch("/api/v1/login", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ access_key: $("access-key").value.trim(), secret: $("secret").value }),
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error.message);
      $("secret").value = "";
      signedIn(body);
    } catch (err) {
      setText("login-error", err.message);
    }
  });
  $("logout").addEventListener("click", () => api("POST", "/api/v1/logout").catch(() => {}).finally(signedOut));
  $("pause").addEventListener("click", () => act(api("POST", "/api/v1/replication/pause")));
  $("resume").addEventListener("click", () => act(api("POST", "/api/v1/replication/resume")));
  $("bandwidth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(api("PUT", "/api/v1/replication/bandwidth", { bandwidth: $("bandwidth").value.trim() }));
    $("bandwidth").blur();
  });
  $("alert-test").addEventListener("click", testAlert);
  window.addEventListener("hashchange", route);
  api("GET", "/api/v1/session").then(signedIn).catch(() => {});
});
