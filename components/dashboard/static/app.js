// The dashboard page: sign-in with a pasted JWT (kept in sessionStorage), the task list (50 per
// page, filters), the task editor with the live recurrence preview, confirmation dialogs, the
// series view, and live updates from the fan-out server's WebSocket (long polls of GET /api/changes
// where it is off). Plain browser JavaScript.
"use strict";

const TOKEN_KEY = "todo.token";
const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  tasks: new Map(), // task_id -> task on the current page
  cursors: [null], // cursor of each page seen (index = page number - 1)
  page: 0,
  nextCursor: null,
  liveGeneration: 0,
  editing: null, // task being edited, or null for a new one
  reminders: [],
  initialEnd: "",
  initialFromCompletion: false,
  seriesOpen: null, // series id shown in the series dialog
  lastFocus: null,
};

// ---- API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    const fields = (problem && problem.errors) || [];
    const detail = fields.length ? fields.map((e) => e.message).join("; ") : problem && (problem.detail || problem.title);
    super(detail || `request failed (${status})`);
    this.status = status;
    this.problem = problem;
    // Seconds the server asked to wait (503 when every live-update slot is taken).
    this.retryAfter = retryAfter === null ? null : Number(retryAfter);
  }
}

async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const h = { accept: "application/json", authorization: `Bearer ${state.token}`, ...headers };
  if (body !== undefined) h["content-type"] = "application/json";
  // Relative to the page, so the dashboard works under a route base (`/dashboard/` in Kubernetes).
  const url = path.startsWith("/") ? `.${path}` : path;
  const r = await fetch(url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: "no-store" });
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!r.ok) {
    if (r.status === 401) signOut("Your sign-in expired or is not valid; paste a new token.");
    throw new ApiError(r.status, data, r.headers.get("retry-after"));
  }
  return { data, etag: r.headers.get("etag") };
}

// ---- formatting ---------------------------------------------------------------------------

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const utcFmt = new Intl.DateTimeFormat(undefined, { weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" });

function formatInstant(iso) {
  return iso ? dateTimeFmt.format(new Date(iso)) : "";
}

// "2026-11-30T09:00:00" (wall time in the series' zone) shown as is.
function formatLocal(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return local || "";
  return utcFmt.format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5])));
}

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

// End of the chosen local day, as an instant.
function endOfDay(dateValue) {
  return dateValue ? new Date(`${dateValue}T23:59:59`).toISOString() : null;
}

function announce(text) {
  const el = $("announce");
  el.textContent = "";
  // A fresh text node makes screen readers speak it again.
  setTimeout(() => { el.textContent = text; }, 30);
}

function tokenSubject(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.sub || "";
  } catch {
    return "";
  }
}

// ---- sign-in --------------------------------------------------------------------------------

function showSignedIn() {
  $("signin").hidden = true;
  $("main").hidden = false;
  $("who").hidden = false;
  $("who").textContent = `Signed in as ${tokenSubject(state.token)}`;
  $("sign-out").hidden = false;
}

function signOut(message) {
  state.token = null;
  state.liveGeneration += 1;
  sessionStorage.removeItem(TOKEN_KEY);
  $("main").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  setConnection("offline");
  $("token").focus();
}

async function signIn(token) {
  state.token = token.trim();
  try {
    await api("/api/changes");
  } catch (e) {
    signOut(e.status === 401 ? "That token is not valid." : `Cannot sign in: ${e.message}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("signin-error").textContent = "";
  showSignedIn();
  startLive();
  $("main").focus();
}

// ---- task list ------------------------------------------------------------------------------

function listQuery(cursor) {
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const status = $("f-status").value;
  if (status) q.set("status", status);
  const from = $("f-from").value;
  const to = $("f-to").value;
  if (from) q.set("due_from", new Date(`${from}T00:00:00`).toISOString());
  if (to) q.set("due_to", new Date(`${to}T00:00:00`).toISOString());
  if (cursor) q.set("cursor", cursor);
  return q;
}

async function loadPage(highlight = new Set()) {
  const list = $("tasks");
  list.setAttribute("aria-busy", "true");
  try {
    const { data } = await api(`/api/tasks?${listQuery(state.cursors[state.page])}`);
    state.nextCursor = data.next_cursor;
    renderTasks(data.items, highlight);
    $("list-error").textContent = "";
  } catch (e) {
    $("list-error").textContent = `Could not load tasks: ${e.message}`;
  } finally {
    list.setAttribute("aria-busy", "false");
  }
  $("prev").disabled = state.page === 0;
  $("next").disabled = !state.nextCursor;
  $("page-label").textContent = `Page ${state.page + 1}`;
}

function button(label, action, id, extraClass) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = action;
  b.dataset.id = id;
  if (extraClass) b.className = extraClass;
  return b;
}

function renderTasks(items, highlight) {
  const list = $("tasks");
  // Keep keyboard focus on the same control across a refresh.
  const active = document.activeElement;
  const focusKey = active && active.dataset && active.dataset.id ? `${active.dataset.action}:${active.dataset.id}` : null;
  state.tasks = new Map(items.map((t) => [t.task_id, t]));
  list.replaceChildren(...items.map((t) => taskItem(t, highlight.has(t.task_id))));
  $("empty").hidden = items.length > 0;
  if (focusKey) {
    const [action, id] = focusKey.split(":");
    const again = list.querySelector(`button[data-action="${action}"][data-id="${CSS.escape(id)}"]`);
    if (again) again.focus();
  }
}

function taskItem(t, highlighted) {
  const li = document.createElement("li");
  li.className = `task status-${t.status}${highlighted ? " changed" : ""}`;
  li.dataset.taskId = t.task_id;
  li.dataset.status = t.status;
  const main = document.createElement("div");
  main.className = "task-main";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = t.title;
  main.append(title);
  const meta = document.createElement("span");
  meta.className = "meta";
  const bits = [];
  if (t.due_date) bits.push(`due ${formatInstant(t.due_date)}`);
  bits.push(t.status);
  if (t.priority !== "medium") bits.push(`${t.priority} priority`);
  if (t.is_recurring) bits.push("repeats");
  if (t.reminders && t.reminders.length) bits.push(`${t.reminders.length} reminder${t.reminders.length > 1 ? "s" : ""}`);
  meta.textContent = bits.join(" · ");
  main.append(meta);
  const actions = document.createElement("div");
  actions.className = "task-actions";
  const label = (verb) => `${verb} “${t.title}”`;
  if (t.status === "pending") {
    const c = button("Complete", "complete", t.task_id);
    c.setAttribute("aria-label", label("Complete"));
    actions.append(c);
  }
  if (t.status !== "deleted") {
    const e = button("Edit", "edit", t.task_id, "secondary");
    e.setAttribute("aria-label", label("Edit"));
    actions.append(e);
  }
  if (t.series_id) {
    const s = button("Series", "series", t.task_id, "secondary");
    s.setAttribute("aria-label", label("Series of"));
    actions.append(s);
  }
  if (t.status === "pending") {
    const d = button("Delete", "delete", t.task_id, "danger");
    d.setAttribute("aria-label", label("Delete"));
    actions.append(d);
  }
  li.append(main, actions);
  return li;
}

async function onListClick(ev) {
  const b = ev.target.closest("button[data-action]");
  if (!b) return;
  const t = state.tasks.get(b.dataset.id);
  if (!t) return;
  state.lastFocus = b;
  try {
    if (b.dataset.action === "complete") {
      b.disabled = true;
      await api(`/api/tasks/${t.task_id}/complete`, { method: "POST" });
      announce(`Completed ${t.title}`);
      await loadPage(new Set([t.task_id]));
    } else if (b.dataset.action === "edit") {
      openEditor(t);
    } else if (b.dataset.action === "delete") {
      confirmDelete(t);
    } else if (b.dataset.action === "series") {
      openSeries(t);
    }
  } catch (e) {
    b.disabled = false;
    $("list-error").textContent = e.message;
  }
}

// ---- editor ---------------------------------------------------------------------------------

function repeatKind() {
  return document.querySelector('input[name="repeat"]:checked').value;
}

function recurrenceText() {
  const kind = repeatKind();
  if (kind === "preset") return $("e-preset").value;
  if (kind === "phrase") return $("e-phrase").value.trim();
  return "";
}

function syncRepeatControls() {
  const kind = repeatKind();
  $("e-preset-box").hidden = kind !== "preset";
  $("e-phrase-box").hidden = kind !== "phrase";
  $("e-recur-extra").hidden = kind === "none";
  schedulePreview();
}

function renderReminders() {
  const ul = $("e-reminders");
  const names = { PT0S: "At the due time", PT15M: "15 minutes before", PT1H: "1 hour before", P1D: "1 day before", P1W: "1 week before" };
  ul.replaceChildren(...state.reminders.map((r, i) => {
    const li = document.createElement("li");
    const span = document.createElement("span");
    span.textContent = names[r] || r;
    const rm = document.createElement("button");
    rm.type = "button";
    rm.className = "secondary small";
    rm.textContent = "Remove";
    rm.setAttribute("aria-label", `Remove reminder ${names[r] || r}`);
    rm.addEventListener("click", () => {
      state.reminders.splice(i, 1);
      renderReminders();
      $("e-reminder-pick").focus();
    });
    li.append(span, rm);
    return li;
  }));
}

function openEditor(task) {
  state.editing = task || null;
  const form = $("editor-form");
  form.reset();
  $("editor-title").textContent = task ? `Edit “${task.title}”` : "New task";
  $("editor-error").textContent = "";
  $("e-tzid").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  $("e-scope").hidden = !(task && task.series_id);
  state.reminders = task ? [...(task.reminders || [])] : [];
  if (!task) prefillDefaultReminders();
  if (task) {
    $("e-title").value = task.title;
    $("e-description").value = task.description || "";
    $("e-priority").value = task.priority;
    $("e-due").value = toLocalInput(task.due_date);
    if (task.recurrence_pattern) {
      document.querySelector('input[name="repeat"][value="phrase"]').checked = true;
      $("e-phrase").value = task.recurrence_pattern;
    }
    if (task.recurrence_end_date) $("e-end").value = toLocalInput(task.recurrence_end_date).slice(0, 10);
  }
  state.initialEnd = $("e-end").value;
  state.initialFromCompletion = $("e-from-completion").checked;
  renderReminders();
  syncRepeatControls();
  $("editor").showModal();
  $("e-title").focus();
}

// A new task starts with the user's default reminders (Task API settings), shown so they can
// be removed; the create then sends the list as shown. Skipped if the user already changed it.
let editorSeq = 0;
function prefillDefaultReminders() {
  const seq = ++editorSeq;
  api("/api/users/me/settings").then(({ data }) => {
    if (seq !== editorSeq || state.editing !== null || state.reminders.length) return;
    state.reminders = [...(data.default_reminders || [])];
    renderReminders();
  }).catch(() => {});
}

function closeEditor() {
  $("editor").close();
  if (state.lastFocus && document.contains(state.lastFocus)) state.lastFocus.focus();
  else $("new-task").focus();
}

let previewTimer = null;
let previewSeq = 0;
let suggestTimer = null;
let suggestSeq = 0;

// The rule field's suggestions: the words the phrase grammar reads next, from the server.
function scheduleSuggestions() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(runSuggestions, 80);
}

async function runSuggestions() {
  const typed = $("e-phrase").value;
  const list = $("e-phrase-suggestions");
  const seq = ++suggestSeq;
  if (typed.trim().toUpperCase().startsWith("FREQ=")) {
    list.replaceChildren();
    return;
  }
  try {
    const { data } = await api(`/api/preview/completions?${new URLSearchParams({ q: typed })}`);
    if (seq !== suggestSeq) return;
    list.replaceChildren(...data.completions.map((c) => {
      const o = document.createElement("option");
      o.value = c.text;
      if (!c.complete) o.label = `${c.text} …`;
      return o;
    }));
  } catch {
    if (seq === suggestSeq) list.replaceChildren();
  }
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, 150);
}

async function runPreview() {
  const text = recurrenceText();
  const describe = $("preview-describe");
  const dates = $("preview-dates");
  if (!text) {
    describe.textContent = repeatKind() === "none" ? "" : "Type a rule to see when it repeats.";
    dates.replaceChildren();
    return;
  }
  const q = new URLSearchParams({ recurrence: text, tzid: $("e-tzid").value.trim() || "UTC" });
  const due = fromLocalInput($("e-due").value);
  if (due) q.set("due_date", due);
  const end = endOfDay($("e-end").value);
  if (end) q.set("end_date", end);
  if ($("e-from-completion").checked) q.set("mode", "from_completion");
  const seq = ++previewSeq;
  try {
    const { data } = await api(`/api/preview?${q}`);
    if (seq !== previewSeq) return;
    describe.textContent = `Repeats ${data.describe} (${data.tzid}). Next dates:`;
    describe.classList.remove("error");
    dates.replaceChildren(...data.occurrences.map((o) => {
      const li = document.createElement("li");
      li.dataset.at = o.at;
      li.dataset.local = o.local;
      const time = document.createElement("time");
      time.dateTime = o.at;
      time.textContent = formatLocal(o.local);
      li.append(time);
      return li;
    }));
  } catch (e) {
    if (seq !== previewSeq) return;
    describe.textContent = e.message;
    describe.classList.add("error");
    dates.replaceChildren();
  }
}

function editorBody() {
  const body = {
    title: $("e-title").value.trim(),
    description: $("e-description").value,
    priority: $("e-priority").value,
  };
  const due = fromLocalInput($("e-due").value);
  const rec = recurrenceText();
  if (due) body.due_date = due;
  if (rec) {
    body.recurrence = rec;
    body.tzid = $("e-tzid").value.trim() || "UTC";
    const end = endOfDay($("e-end").value);
    if (end) body.recurrence_end_date = end;
    if ($("e-from-completion").checked) body.mode = "from_completion";
  }
  body.reminders = [...state.reminders];
  return body;
}

// Only what changed, as the Task API's PATCH expects.
function patchBody(task, full, scope) {
  const patch = {};
  for (const k of ["title", "description", "priority"]) if (full[k] !== task[k]) patch[k] = full[k];
  if (scope === "this" && (full.due_date || null) !== (task.due_date ? new Date(task.due_date).toISOString() : null)) patch.due_date = full.due_date || null;
  if (full.recurrence && full.recurrence !== task.recurrence_pattern) {
    patch.recurrence = full.recurrence;
    patch.tzid = full.tzid;
  }
  // Series settings only when the user changed them in this dialog.
  if (task.series_id && $("e-end").value !== state.initialEnd) patch.recurrence_end_date = full.recurrence_end_date || null;
  if (task.series_id && $("e-from-completion").checked !== state.initialFromCompletion) {
    patch.mode = $("e-from-completion").checked ? "from_completion" : "fixed";
  }
  if (JSON.stringify(full.reminders) !== JSON.stringify(task.reminders || [])) patch.reminders = full.reminders;
  return patch;
}

async function saveEditor(ev) {
  ev.preventDefault();
  const full = editorBody();
  if (!full.title) {
    $("editor-error").textContent = "A title is required.";
    $("e-title").focus();
    return;
  }
  const save = $("editor-save");
  save.disabled = true;
  try {
    const task = state.editing;
    if (!task) {
      const { data } = await api("/api/tasks", { method: "POST", body: full, headers: { "idempotency-key": crypto.randomUUID() } });
      announce(`Added ${data.title}`);
      closeEditor();
      await loadPage(new Set([data.task_id]));
    } else {
      const scope = task.series_id ? document.querySelector('input[name="scope"]:checked').value : "this";
      const patch = patchBody(task, full, scope);
      if (Object.keys(patch).length === 0) {
        closeEditor();
        return;
      }
      const { data } = await api(`/api/tasks/${task.task_id}?scope=${scope}`, { method: "PATCH", body: patch, headers: { "if-match": `"${task.version}"` } });
      announce(`Saved ${data.title || task.title}`);
      closeEditor();
      await loadPage(new Set([task.task_id]));
    }
  } catch (e) {
    $("editor-error").textContent = e.status === 412 ? "Someone changed this task meanwhile; close and open it again." : e.message;
  } finally {
    save.disabled = false;
  }
}

// ---- delete ---------------------------------------------------------------------------------

function confirmDelete(task) {
  const dlg = $("confirm");
  $("confirm-title").textContent = `Delete “${task.title}”?`;
  $("confirm-text").textContent = task.series_id
    ? "This task repeats. Choose whether to delete only this one or this and all future ones. Completed ones stay in the history."
    : "The task will be deleted.";
  $("confirm-scope").hidden = !task.series_id;
  document.querySelector('input[name="delete-scope"][value="this"]').checked = true;
  dlg.returnValue = "";
  dlg.onclose = async () => {
    if (dlg.returnValue !== "ok") {
      if (state.lastFocus) state.lastFocus.focus();
      return;
    }
    const scope = task.series_id ? document.querySelector('input[name="delete-scope"]:checked').value : "this";
    try {
      await api(`/api/tasks/${task.task_id}?scope=${scope}&confirm=true`, { method: "DELETE" });
      announce(scope === "this" ? `Deleted ${task.title}` : `Deleted ${task.title} and all future ones`);
      await loadPage();
      $("new-task").focus();
    } catch (e) {
      $("list-error").textContent = `Could not delete: ${e.message}`;
    }
  };
  dlg.showModal();
  $("confirm-cancel").focus();
}

// ---- series ---------------------------------------------------------------------------------

async function openSeries(task) {
  state.seriesOpen = task.series_id;
  $("series-title").textContent = `Series: ${task.title}`;
  $("series-error").textContent = "";
  $("series").showModal();
  $("series-close").focus();
  await loadSeries();
}

async function loadSeries() {
  const id = state.seriesOpen;
  if (!id) return;
  try {
    const [series, occ, history] = await Promise.all([
      api(`/api/series/${id}`),
      api(`/api/series/${id}/occurrences`),
      api(`/api/tasks?series_id=${id}&status=completed&limit=${PAGE_SIZE}`),
    ]);
    const s = series.data;
    const end = s.end_date ? `, until ${formatInstant(s.end_date)}` : "";
    const mode = s.mode === "from_completion" ? ", counted from each completion" : "";
    $("series-describe").textContent = `Repeats ${s.describe || s.recurrence_pattern} (${s.tzid})${end}${mode}${s.is_active ? "" : " (ended)"}.`;
    const li = (iso, text) => {
      const item = document.createElement("li");
      item.dataset.at = iso;
      const time = document.createElement("time");
      time.dateTime = iso;
      time.textContent = text;
      item.append(time);
      return item;
    };
    const upcoming = occ.data.occurrences.slice(0, 10).map((iso) => li(iso, formatInstant(iso)));
    $("series-upcoming").replaceChildren(...(upcoming.length ? upcoming : [Object.assign(document.createElement("li"), { textContent: "None in the next month" })]));
    const done = history.data.items.map((t) => li(t.due_date || t.completed_at, `${formatInstant(t.due_date)}: completed ${formatInstant(t.completed_at)}`));
    $("series-history").replaceChildren(...(done.length ? done : [Object.assign(document.createElement("li"), { textContent: "Nothing completed yet" })]));
  } catch (e) {
    $("series-error").textContent = `Could not load the series: ${e.message}`;
  }
}

// ---- live updates ---------------------------------------------------------------------------

function setConnection(kind) {
  const el = $("conn");
  if (el.dataset.state === kind) return;
  el.dataset.state = kind;
  $("conn-text").textContent = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" }[kind];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Live updates through the fan-out server when the dashboard offers it (GET /api/live: its
// WebSocket address, this user's channel, the change number to start from), else long polls.
async function startLive() {
  const generation = ++state.liveGeneration;
  let info = null;
  try {
    info = (await api("/api/live")).data;
  } catch (e) {
    if (e.status === 401) return;
  }
  if (generation !== state.liveGeneration || !state.token) return;
  if (info && info.url && info.channel && "WebSocket" in window) return liveSocket(generation, info);
  return livePoll(generation);
}

// The WebSocket address of `url` (absolute, or a path on the page's own host).
function socketUrl(url) {
  const u = new URL(url, window.location.href);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  return u.toString();
}

// One user's changes over Centrifugo's JSON protocol: connect with the page's own token, subscribe
// to the user's channel asking to recover from the last position seen. Each publication is one
// change of the log, numbered: a number beyond the next one, or a resubscription that could not
// recover, makes the page read the log once (GET /api/changes?after=&wait=0), so nothing is lost.
async function liveSocket(generation, info) {
  const live = { cursor: info.cursor, position: null, applying: Promise.resolve() };
  try { await loadPage(); } catch { /* shown by loadPage */ }
  let backoff = 250;
  while (generation === state.liveGeneration && state.token) {
    const outcome = await socketSession(generation, info, live, () => { backoff = 250; });
    if (generation !== state.liveGeneration || !state.token) break;
    if (outcome === "refused") return livePoll(generation);
    setConnection("reconnecting");
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 8000);
  }
}

// Reads the log after the last applied change (one read, no wait) and applies what it holds.
async function catchUp(live) {
  const { data } = await api(`/api/changes?after=${live.cursor}&wait=0`);
  if (data.reset) {
    live.cursor = data.cursor;
    await loadPage();
  } else if (data.changes.length) {
    live.cursor = data.cursor;
    await applyChanges(data.changes);
  }
}

// Applies one published change in order, or catches up when one is missing.
function onChange(live, change) {
  live.applying = live.applying.then(async () => {
    if (typeof change.seq !== "number" || change.seq <= live.cursor) return;
    if (change.seq === live.cursor + 1) {
      live.cursor = change.seq;
      await applyChanges([change]);
    } else {
      await catchUp(live);
    }
  }).catch(() => { /* the next change or reconnect catches up */ });
}

// One connection, until it closes: "closed" (reconnect) or "refused" (the token or the channel
// was refused: fall back to long polls, which sign the page out on 401).
function socketSession(generation, info, live, onLive) {
  return new Promise((resolve) => {
    let ws;
    try { ws = new WebSocket(socketUrl(info.url)); } catch { resolve("refused"); return; }
    let outcome = "closed";
    const send = (msg) => ws.send(JSON.stringify(msg));
    const stop = () => generation !== state.liveGeneration || !state.token;
    ws.onopen = () => send({ id: 1, connect: { token: state.token, name: "dashboard" } });
    ws.onmessage = (ev) => {
      if (stop()) { ws.close(); return; }
      for (const line of String(ev.data).split("\n")) {
        if (!line.trim()) continue;
        const msg = JSON.parse(line);
        if (!msg.id && !msg.push) { send({}); continue; } // server ping: answer pong
        if (msg.error) { outcome = "refused"; ws.close(); return; }
        if (msg.id === 1) {
          const sub = { channel: info.channel };
          if (live.position) Object.assign(sub, { recover: true, offset: live.position.offset, epoch: live.position.epoch });
          send({ id: 2, subscribe: sub });
        } else if (msg.id === 2 && msg.subscribe) {
          const r = msg.subscribe;
          live.position = { offset: r.offset || 0, epoch: r.epoch || "" };
          for (const p of r.publications || []) onChange(live, p.data || {});
          if (!r.recovered) live.applying = live.applying.then(() => catchUp(live)).catch(() => {});
          setConnection("live");
          onLive();
        } else if (msg.push && msg.push.pub) {
          if (live.position && msg.push.pub.offset) live.position.offset = msg.push.pub.offset;
          onChange(live, msg.push.pub.data || {});
        }
      }
    };
    ws.onclose = () => resolve(outcome);
  });
}

// Long polls of GET /api/changes: where live sync is off (GET /api/live answers 404).
async function livePoll(generation) {
  let cursor = null;
  let backoff = 250;
  let healthy = false;
  while (generation === state.liveGeneration && state.token) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 30000);
    try {
      if (cursor === null) {
        // Cursor first, then the list: a change between the two is delivered, not lost.
        cursor = (await api("/api/changes", { signal: ctl.signal })).data.cursor;
        await loadPage();
      } else {
        const { data } = await api(`/api/changes?after=${cursor}`, { signal: ctl.signal });
        if (data.reset) {
          cursor = data.cursor;
          await loadPage();
        } else if (data.changes.length) {
          cursor = data.cursor;
          await applyChanges(data.changes);
        }
      }
      if (!healthy) {
        healthy = true;
        setConnection("live");
      }
      backoff = 250;
    } catch (e) {
      if (generation !== state.liveGeneration || !state.token) break;
      if (e.status === 503 && e.retryAfter > 0 && cursor !== null) {
        // The dashboard admits no more waiting pages now: wait as asked, keep the cursor (the
        // changes meanwhile come with the next poll), do not reload.
        setConnection("reconnecting");
        healthy = false;
        await sleep(e.retryAfter * 1000);
        continue;
      }
      healthy = false;
      setConnection("reconnecting");
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 4000);
      if (cursor !== null) {
        try { await loadPage(); } catch { /* shown by loadPage */ }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

async function applyChanges(changes) {
  const ids = new Set(changes.map((c) => c.task_id).filter(Boolean));
  await loadPage(ids);
  const n = changes.length;
  announce(`${n} update${n > 1 ? "s" : ""} arrived`);
  if (state.seriesOpen && changes.some((c) => c.series_id === state.seriesOpen) && $("series").open) await loadSeries();
}

// ---- wiring ---------------------------------------------------------------------------------

function init() {
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    signIn($("token").value);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.page = 0;
    state.cursors = [null];
    loadPage();
  });
  $("prev").addEventListener("click", () => {
    if (state.page > 0) {
      state.page -= 1;
      loadPage();
    }
  });
  $("next").addEventListener("click", () => {
    if (state.nextCursor) {
      state.cursors[state.page + 1] = state.nextCursor;
      state.page += 1;
      loadPage();
    }
  });
  $("tasks").addEventListener("click", onListClick);
  $("new-task").addEventListener("click", (ev) => {
    state.lastFocus = ev.currentTarget;
    openEditor(null);
  });
  $("editor-form").addEventListener("submit", saveEditor);
  $("editor-cancel").addEventListener("click", closeEditor);
  $("editor").addEventListener("cancel", () => setTimeout(closeEditor, 0));
  for (const r of document.querySelectorAll('input[name="repeat"]')) r.addEventListener("change", syncRepeatControls);
  for (const id of ["e-phrase", "e-tzid", "e-due", "e-end"]) $(id).addEventListener("input", schedulePreview);
  $("e-phrase").addEventListener("input", scheduleSuggestions);
  $("e-phrase").addEventListener("focus", scheduleSuggestions);
  for (const id of ["e-preset", "e-from-completion"]) $(id).addEventListener("change", schedulePreview);
  $("e-reminder-add").addEventListener("click", () => {
    const v = $("e-reminder-pick").value;
    if (!state.reminders.includes(v)) state.reminders.push(v);
    renderReminders();
  });
  $("series-close").addEventListener("click", () => {
    state.seriesOpen = null;
    $("series").close();
    if (state.lastFocus) state.lastFocus.focus();
  });
  $("series").addEventListener("close", () => { state.seriesOpen = null; });
  if (state.token) {
    showSignedIn();
    startLive();
  } else {
    $("token").focus();
  }
}

document.addEventListener("DOMContentLoaded", init);
