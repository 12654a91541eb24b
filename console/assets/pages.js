// IPAS console: the Browse, Remote, Drop folders and Log pages (after app.js,
// whose helpers they use). Data is only ever written with textContent.
"use strict";

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const when = (t) => new Date(t).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
const query = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== "" && v != null)).toString();

function pageShown(page) {
  if (page === "browse") loadBuckets();
  if (page === "drop") loadDrop();
  if (page === "log") loadLog(true);
  if (page === "remote" && last) renderRemote(last);
  if (page === "uploads") loadHistory(); // chart.js
  if (page === "users") loadUsers(); // users.js
}

// ---- Browse ----

const browse = { bucket: "", prefix: "", next: "" };

const REPLICATION = {
  COMPLETED: ["offsite", "ok"],
  PENDING: ["waiting to go offsite", "warn"],
  FAILED: ["upload failing", "bad"],
};

async function loadBuckets(select) {
  setText("br-error", "");
  try {
    const list = (await api("GET", "/api/v1/buckets")).buckets;
    const sel = $("br-bucket");
    sel.replaceChildren(...list.map((b) => el("option", "", b.name)));
    if (select) browse.bucket = select;
    if (!list.some((b) => b.name === browse.bucket)) { browse.bucket = list.length ? list[0].name : ""; browse.prefix = ""; }
    sel.value = browse.bucket;
    $("br-upload").disabled = !browse.bucket;
    await loadObjects(false);
  } catch (e) {
    setText("br-error", e.message);
  }
}

async function loadObjects(more) {
  const ul = $("br-list");
  if (!more) { ul.replaceChildren(); browse.next = ""; }
  crumbs();
  if (!browse.bucket) { $("br-empty").hidden = false; $("br-more").hidden = true; return; }
  const l = await api("GET", "/api/v1/objects?" + query({ bucket: browse.bucket, prefix: browse.prefix, after: more ? browse.next : "" }));
  for (const p of l.prefixes) ul.append(folderItem(p));
  for (const o of l.objects) ul.append(objectItem(o));
  browse.next = l.next || "";
  $("br-more").hidden = !browse.next;
  $("br-empty").hidden = ul.children.length > 0;
}

function crumbs() {
  const nav = $("br-path");
  const parts = browse.prefix.split("/").filter(Boolean);
  const go = (prefix, label) => {
    const b = el("button", "link crumb", label);
    b.type = "button";
    b.addEventListener("click", () => { browse.prefix = prefix; loadObjects(false).catch((e) => setText("br-error", e.message)); });
    return b;
  };
  const items = [go("", browse.bucket || "no bucket")];
  let acc = "";
  for (const p of parts) { acc += p + "/"; items.push(el("span", "sep", "/"), go(acc, p)); }
  nav.replaceChildren(...items);
}

function folderItem(prefix) {
  const li = el("li", "folder");
  const b = el("button", "link name", prefix.slice(browse.prefix.length));
  b.type = "button";
  b.addEventListener("click", () => { browse.prefix = prefix; loadObjects(false).catch((e) => setText("br-error", e.message)); });
  li.append(b);
  return li;
}

function objectItem(o) {
  const li = el("li");
  li.dataset.key = o.key;
  const name = el("div", "name", o.key.slice(browse.prefix.length));
  const meta = el("div", "meta");
  meta.append(el("span", "", bytes(o.size)), el("span", "", when(o.modified)));
  const [state, cls] = o.remote_only ? ["on the remote only", "ok"] : (REPLICATION[o.replication] || ["state unknown", ""]);
  meta.append(el("span", "badge " + cls, state));
  const actions = el("div", "actions");
  if (!o.remote_only) {
    const a = el("a", "button secondary", "Download");
    a.href = "/api/v1/objects/download?" + query({ bucket: o.bucket, key: o.key });
    a.setAttribute("download", "");
    actions.append(a);
  }
  const del = el("button", "danger", "Delete");
  del.type = "button";
  del.addEventListener("click", () => confirmDelete(li, o, actions));
  actions.append(del);
  li.append(name, meta, actions);
  return li;
}

// confirmDelete asks on the row itself: a phone has no room for a dialog
// that hides what is being deleted.
function confirmDelete(li, o, actions) {
  askOnRow(actions, "Delete " + o.key + "?", "Yes, delete", "Keep", async () => {
    try {
      await api("POST", "/api/v1/objects/delete", { bucket: o.bucket, key: o.key });
      li.remove();
      $("br-empty").hidden = $("br-list").children.length > 0;
      return true;
    } catch (e) {
      setText("br-error", e.message);
      return false;
    }
  });
}

// askOnRow replaces a row's actions with a question; yes runs act, whose
// false puts the actions back, as no does.
function askOnRow(actions, question, yesText, noText, act) {
  const ask = el("div", "actions confirm");
  ask.append(el("span", "", question));
  const yes = el("button", "danger", yesText);
  const no = el("button", "secondary", noText);
  yes.type = no.type = "button";
  no.addEventListener("click", () => ask.replaceWith(actions));
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    if (!(await act())) ask.replaceWith(actions);
  });
  ask.append(yes, no);
  actions.replaceWith(ask);
}

// upload sends one file as one streamed PUT, with its progress.
function upload(file) {
  const key = browse.prefix + file.name;
  const li = el("li");
  const fill = el("div");
  const bar = el("div", "bar");
  bar.setAttribute("role", "progressbar");
  bar.append(fill);
  const meta = el("div", "job-meta");
  const left = el("span", "", "0% of " + bytes(file.size));
  meta.append(left, el("span", "", ""));
  li.append(el("div", "job-name", browse.bucket + "/" + key), bar, meta);
  $("br-uploads").prepend(li);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", "/api/v1/objects/upload?" + query({ bucket: browse.bucket, key }));
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const pct = Math.floor(100 * e.loaded / e.total);
      fill.style.width = pct + "%";
      bar.setAttribute("aria-valuenow", String(pct));
      left.textContent = pct + "% of " + bytes(e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 200) {
        fill.style.width = "100%";
        bar.setAttribute("aria-valuenow", "100");
        left.textContent = "stored, " + bytes(file.size);
        li.classList.add("done");
      } else {
        bar.className = "bar bad";
        let msg = xhr.status + " " + xhr.statusText;
        try { msg = JSON.parse(xhr.responseText).error.message; } catch (e) { /* not JSON */ }
        li.append(el("p", "error", msg));
      }
      resolve();
    };
    xhr.onerror = () => { bar.className = "bar bad"; li.append(el("p", "error", "the upload was cut off")); resolve(); };
    xhr.send(file);
  });
}

// ---- Remote ----

function renderRemote(st) {
  const r = st.remote;
  setText("rm-name", r.local ? "NOT offsite" : r.bucket + (r.prefix ? "/" + r.prefix : ""));
  $("rm-name").className = "big" + (r.local ? " error" : "");
  setText("rm-detail", r.local ? "the built-in local copy on this machine (" + r.bucket + "); set remote.bucket for an offsite copy" : r.endpoint);
  pass("rc", st.reconcile, (run) => {
    const parts = [run.checked + " checked", run.missing + " missing", run.queued + " queued", run.recorded + " recorded"];
    if (run.remote_only) parts.push(run.remote_only + " on the remote only");
    if (run.lost) parts.push(run.lost + " LOST");
    return parts.join(" · ");
  });
  pass("sc", st.scrub, (run) => {
    const parts = [run.blobs + " blobs", bytes(run.bytes), run.corrupt + " corrupt", run.repaired + " repaired"];
    if (run.unrepairable_count) parts.push(run.unrepairable_count + " NOT repairable");
    return parts.join(" · ");
  });
}

// pass shows a background pass (reconcile or scrub): running, or the last one.
function pass(id, state, summary) {
  const now = last ? new Date(last.time) : new Date();
  const run = state && (state.running || state.last);
  const badge = $(id + "-state");
  if (!run) {
    badge.textContent = "never run";
    badge.className = "badge";
    setText(id + "-summary", "No pass yet.");
  } else {
    const bad = run.error || run.lost || run.unrepairable_count;
    badge.textContent = state.running ? "running" : bad ? "problem" : "ok";
    badge.className = "badge " + (state.running ? "warn" : bad ? "bad" : "ok");
    setText(id + "-summary", summary(run));
  }
  const d = [];
  if (run) d.push((state.running ? "started " : "finished ") + since(state.running ? run.started : run.finished || run.started, now) + " (" + run.trigger + ")");
  if (run && run.error) d.push(run.error);
  if (state && state.next) d.push("next " + when(state.next));
  setText(id + "-detail", d.join(" · "));
  $(id + "-start").disabled = !!(state && state.running);
}

async function testRemote() {
  setText("rm-error", "");
  const btn = $("rm-test");
  btn.disabled = true;
  btn.textContent = "Testing…";
  $("rm-verdict").hidden = true;
  $("rm-steps").replaceChildren();
  try {
    const t = await api("POST", "/api/v1/remote/test");
    const v = $("rm-verdict");
    v.hidden = false;
    v.className = "verdict " + (t.ok ? "ok" : "bad");
    v.textContent = t.verdict;
    $("rm-steps").replaceChildren(...t.steps.map((s) => {
      const li = el("li", s.ok ? (s.warn ? "warn" : "ok") : "bad");
      li.append(el("span", "mark", s.ok ? (s.warn ? "warn" : "ok") : "FAIL"), el("strong", "", s.name), el("span", "muted", s.detail));
      return li;
    }));
  } catch (e) {
    setText("rm-error", e.message);
  } finally {
    btn.disabled = false;
    btn.textContent = "Test the remote";
  }
}

async function startPass(path) {
  setText("rm-error", "");
  try {
    await api("POST", path);
    render(await api("GET", "/api/v1/status"));
  } catch (e) {
    setText("rm-error", e.message);
  }
}

// ---- Drop folders ----

async function loadDrop() {
  setText("dr-error", "");
  try {
    const d = await api("GET", "/api/v1/drop");
    setText("dr-counts", count(d.files_pending, "file", "files") + " waiting · " + d.versions_ingested + " archived since start · " +
      d.files_skipped + " skipped · " + count(d.errors, "error", "errors") + " · " + count(d.scans, "scan", "scans") + (d.degraded_folders ? " · " + d.degraded_folders + " folders scanned without inotify" : ""));
    $("dr-folders").replaceChildren(...d.folders.map((f) => {
      const li = el("li");
      li.append(el("div", "name", f.path));
      li.append(el("div", "muted", (f.bucket ? "→ bucket " + f.bucket + (f.prefix ? "/" + f.prefix : "") : "→ each directory is a bucket") +
        " · after ingest: " + f.after_ingest));
      return li;
    }));
    $("dr-skipped").replaceChildren(...d.skipped_dirs.map((s) => {
      const li = el("li", "bad");
      li.append(el("div", "name", s.folder + "/" + s.dir));
      li.append(el("div", "error", s.reason));
      if (s.suggestion) li.append(el("div", "muted", "rename it to " + s.suggestion));
      return li;
    }));
    $("dr-skipped-empty").hidden = d.skipped_dirs.length > 0;
  } catch (e) {
    setText("dr-error", e.message);
  }
}

// ---- Log ----

const logView = { last: 0, loading: false };
const MAX_LOG_LINES = 1000;

async function loadLog(reset) {
  if (logView.loading) return;
  logView.loading = true;
  setText("lg-error", "");
  try {
    const level = $("lg-level").value;
    const ol = $("lg-lines");
    if (reset) { ol.replaceChildren(); logView.last = 0; }
    const page = await api("GET", "/api/v1/log?" + query({ level, after: logView.last || "", limit: logView.last ? "" : 500 }));
    for (const l of page.lines) ol.prepend(logItem(l));
    while (ol.children.length > MAX_LOG_LINES) ol.lastChild.remove();
    logView.last = page.last;
    $("lg-empty").hidden = ol.children.length > 0;
  } catch (e) {
    setText("lg-error", e.message);
  } finally {
    logView.loading = false;
  }
}

function logItem(l) {
  const li = el("li", "lv-" + l.level);
  li.append(el("time", "", new Date(l.time).toLocaleTimeString()), el("span", "level", l.level), el("span", "msg", l.message));
  if (l.fields) {
    const f = Object.entries(l.fields).map(([k, v]) => k + "=" + (typeof v === "string" ? v : JSON.stringify(v))).join(" ");
    li.append(el("span", "fields", f));
  }
  return li;
}

function logChanged(seq) {
  if (!$("log").hidden && seq > logView.last) loadLog(false);
}

document.addEventListener("DOMContentLoaded", () => {
  $("br-bucket").addEventListener("change", () => {
    browse.bucket = $("br-bucket").value;
    browse.prefix = "";
    loadObjects(false).catch((e) => setText("br-error", e.message));
  });
  $("br-new-bucket").addEventListener("submit", async (e) => {
    e.preventDefault();
    setText("br-error", "");
    const name = $("br-bucket-name").value.trim();
    try {
      await api("POST", "/api/v1/buckets", { name });
      $("br-bucket-name").value = "";
      browse.prefix = "";
      await loadBuckets(name);
    } catch (err) {
      setText("br-error", err.message);
    }
  });
  $("br-upload-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    setText("br-error", "");
    const files = Array.from($("br-files").files);
    if (!files.length) { setText("br-error", "choose files first"); return; }
    for (const f of files) await upload(f);
    $("br-files").value = "";
    loadObjects(false).catch((err) => setText("br-error", err.message));
  });
  $("br-more").addEventListener("click", () => loadObjects(true).catch((e) => setText("br-error", e.message)));
  $("rm-test").addEventListener("click", testRemote);
  $("rc-start").addEventListener("click", () => startPass("/api/v1/remote/reconcile"));
  $("sc-start").addEventListener("click", () => startPass("/api/v1/scrub"));
  $("lg-level").addEventListener("change", () => loadLog(true));
});
