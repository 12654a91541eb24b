// IPAS console: the Users page (after app.js and pages.js, whose helpers it
// uses). Users and keys go through the admin API's calls; a new secret is
// shown once, from the answer that made it, and kept nowhere.
"use strict";

const usersView = { selected: "" };

const ROLE_CLASS = { admin: "warn", user: "", readonly: "" };

// known tells a time from Go's zero time (a key of the configuration).
const known = (t) => t && new Date(t).getFullYear() > 1;

// parseSize reads a quota as people write it: "50GiB", "500 MB", "1048576",
// or "none" (and "0") for no quota. It returns bytes, or NaN.
function parseSize(text) {
  const t = text.trim().toLowerCase();
  if (t === "none" || t === "0") return 0;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?$/.exec(t);
  if (!m) return NaN;
  const power = "kmgtp".indexOf(m[2]) + 1;
  return Math.round(parseFloat(m[1]) * Math.pow(m[3] ? 1024 : 1000, power));
}

async function loadUsers() {
  setText("us-error", "");
  try {
    const list = await api("GET", "/api/v1/users");
    $("us-list").replaceChildren(...list.map(userItem));
    if (usersView.selected && !list.some((u) => u.name === usersView.selected)) usersView.selected = "";
    await loadKeys();
  } catch (e) {
    setText("us-error", e.message);
  }
}

function userItem(u) {
  const li = el("li");
  li.dataset.user = u.name;
  li.classList.toggle("selected", u.name === usersView.selected);
  const name = el("div", "name", u.name);
  if (u.builtin) name.append(" ", el("span", "badge", "built-in"));
  const meta = el("div", "meta");
  meta.append(el("span", "badge " + (ROLE_CLASS[u.role] || ""), u.role));
  if (u.disabled) meta.append(el("span", "badge bad", "disabled"));
  meta.append(el("span", "usage", (u.quota ? bytes(u.used) + " of " + bytes(u.quota) + " quota" : bytes(u.used) + " stored, no quota")));
  meta.append(el("span", "", count(u.keys, "key", "keys")));

  const actions = el("div", "actions");
  const keys = el("button", "secondary", "Keys");
  keys.addEventListener("click", () => { usersView.selected = u.name; loadUsers(); });
  actions.append(keys);
  if (!u.builtin) {
    const toggle = el("button", "secondary", u.disabled ? "Enable" : "Disable");
    toggle.addEventListener("click", () => userAction("/api/v1/users/disable", { name: u.name, disabled: !u.disabled }));
    actions.append(toggle, quotaForm(u));
  }
  const remove = el("button", "danger", "Remove");
  remove.addEventListener("click", () => askOnRow(actions, "Remove " + u.name + " and their keys? Their buckets stay.", "Yes, remove", "Keep",
    () => userAction("/api/v1/users/remove", { name: u.name })));
  actions.append(remove);
  for (const b of actions.querySelectorAll(":scope > button")) b.type = "button";
  li.append(name, meta, actions);
  return li;
}

function quotaForm(u) {
  const f = el("form", "quota-form");
  const input = el("input");
  input.placeholder = "50GiB or none";
  input.setAttribute("aria-label", "Quota of " + u.name);
  input.value = u.quota ? bytes(u.quota).replace(" ", "") : "";
  const set = el("button", "secondary", "Set quota");
  set.type = "submit";
  f.append(input, set);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const quota = parseSize(input.value);
    if (Number.isNaN(quota)) { setText("us-error", "quota " + JSON.stringify(input.value) + ": write a size such as 50GiB or 500MB, or none"); return; }
    userAction("/api/v1/users/quota", { name: u.name, quota });
  });
  return f;
}

// userAction posts a change and shows the list as it now is; false when
// refused (the refusal is shown).
async function userAction(path, body) {
  setText("us-error", "");
  try {
    const out = await api("POST", path, body);
    if (out && out.secret_key) showSecret(out);
    await loadUsers();
    return true;
  } catch (e) {
    setText("us-error", e.message);
    return false;
  }
}

// showSecret shows a new credential, once.
function showSecret(c) {
  setText("us-secret-title", "New access key of " + c.user);
  setText("us-secret-ak", c.access_key);
  setText("us-secret-sk", c.secret_key);
  setText("us-secret-copied", "");
  $("us-secret").hidden = false;
  $("us-secret").scrollIntoView({ block: "nearest" });
}

function hideSecret() {
  setText("us-secret-ak", "");
  setText("us-secret-sk", "");
  $("us-secret").hidden = true;
}

async function copySecret() {
  const secret = $("us-secret-sk").textContent;
  try {
    await navigator.clipboard.writeText(secret);
  } catch (e) {
    // No clipboard API (plain HTTP on another host): select it for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents($("us-secret-sk"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    setText("us-secret-copied", "Selected: press Ctrl+C (or Cmd+C) to copy.");
    return;
  }
  setText("us-secret-copied", "Copied.");
}

async function loadKeys() {
  const user = usersView.selected;
  $("us-keys").hidden = !user;
  if (!user) return;
  setText("us-keys-title", "Keys of " + user);
  const keys = await api("GET", "/api/v1/keys?" + query({ user }));
  $("us-key-list").replaceChildren(...keys.map(keyItem));
  $("us-keys-empty").hidden = keys.length > 0;
  $("us-key-add").hidden = user === "admin";
}

function keyItem(k) {
  const li = el("li");
  li.dataset.key = k.access_key;
  const name = el("div", "name");
  name.append(el("code", "", k.access_key));
  const meta = el("div", "meta");
  meta.append(el("span", "badge " + (k.access === "full" ? "" : "ok"), k.access));
  meta.append(el("span", "", k.scopes && k.scopes.length ? "only " + k.scopes.join(", ") : "every bucket of the user"));
  meta.append(el("span", "", known(k.created) ? "created " + when(k.created) : "from the configuration"));
  meta.append(el("span", "", !k.last_used ? "not used since the daemon started" :
    new Date() - new Date(k.last_used) < 10000 ? "last used just now" : "last used " + since(k.last_used, new Date())));
  const actions = el("div", "actions");
  if (known(k.created)) {
    const rotate = el("button", "secondary", "Rotate");
    rotate.addEventListener("click", () => askOnRow(actions, "Replace " + k.access_key + "? It stops working at once.", "Yes, rotate", "Keep",
      () => userAction("/api/v1/keys/rotate", { access_key: k.access_key })));
    const revoke = el("button", "danger", "Revoke");
    revoke.addEventListener("click", () => askOnRow(actions, "Revoke " + k.access_key + "? It stops working at once.", "Yes, revoke", "Keep",
      () => userAction("/api/v1/keys/revoke", { access_key: k.access_key })));
    rotate.type = revoke.type = "button";
    actions.append(rotate, revoke);
  }
  li.append(name, meta, actions);
  return li;
}

document.addEventListener("DOMContentLoaded", () => {
  $("us-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("us-name").value.trim();
    if (await userAction("/api/v1/users", { name, role: $("us-role").value })) {
      $("us-name").value = "";
      usersView.selected = name;
      await loadUsers();
    }
  });
  $("us-key-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const scopes = $("us-key-scopes").value.split(/[\s,]+/).filter(Boolean);
    if (await userAction("/api/v1/keys", { user: usersView.selected, access: $("us-key-access").value, scopes })) {
      $("us-key-scopes").value = "";
    }
  });
  $("us-secret-copy").addEventListener("click", copySecret);
  $("us-secret-done").addEventListener("click", hideSecret);
});
