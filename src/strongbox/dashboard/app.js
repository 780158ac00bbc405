// strongbox dashboard: one plain ES module, no build step, no third-party code.
//
// It signs in with an access token pasted by the user (kept in sessionStorage, for this tab
// only), reads the token's claims to know the subscription, role and resource group, and then
// talks to the server's ARM API with fetch and `Authorization: Bearer <token>`, like any other
// client. The server decides what the token may do; the page only hides the buttons its role
// could not use. Everything shown is set with textContent: no server data is ever parsed as HTML.

const API_VERSION = "2026-10-01";
const TOKEN_KEY = "strongbox.dashboard.token";
const VAULT_KEY = "strongbox.dashboard.vault";
const POLL_MS = 2000;
const MAX_PAGES = 20;
// Azure's built-in roles that may start backups and restores and cancel jobs (api/authz.py).
const OPERATING_ROLES = new Set(["Backup Operator", "Backup Contributor", "Owner"]);
const RUNNING = new Set(["InProgress", "Cancelling"]);

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @type {{token: string, claims: any} | null} */
let session = null;
let vaults = [];
let vault = null;
let viewGeneration = 0;   // bumped on every view change: stale polls see it and stop

// --- the token ---------------------------------------------------------------------------------

function base64UrlDecode(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** The claims of a strongbox token, or an Error that says what is wrong with it. */
export function decodeToken(token) {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw new Error("This is not an access token: a token is three dot-separated base64url parts " +
                    "(issue one with `strongbox token issue`).");
  }
  let claims;
  try {
    claims = JSON.parse(base64UrlDecode(parts[1]));
  } catch {
    throw new Error("This is not an access token: its payload is not readable JSON.");
  }
  if (!claims || typeof claims.sub !== "string" || typeof claims.role !== "string") {
    throw new Error("This token names no subscription or role; it was not issued by strongbox.");
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
    throw new Error(`This token expired at ${new Date(claims.exp * 1000).toLocaleString()}; issue a new one.`);
  }
  return claims;
}

function canOperate() {
  return session !== null && OPERATING_ROLES.has(session.claims.role);
}

// --- the API -----------------------------------------------------------------------------------

function encodePath(path) {
  return path.split("/").map((segment) => encodeURIComponent(segment)).join("/");
}

/** One ARM call. `path` is an ARM id (segments are encoded here) or, with `absolute`, a URL the
 * server gave (nextLink, Azure-AsyncOperation), which must be on this origin. */
async function api(method, path, { query = {}, body, absolute = false } = {}) {
  if (session === null) throw new ApiError(401, "NotSignedIn", "Not signed in.");
  let url;
  if (absolute) {
    url = new URL(path, location.origin);
    if (url.origin !== location.origin) throw new ApiError(0, "ForeignLink", `refusing to follow ${url.origin}`);
  } else {
    url = new URL(encodePath(path), location.origin);
    url.searchParams.set("api-version", API_VERSION);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  }
  const headers = { Authorization: `Bearer ${session.token}`, Accept: "application/json" };
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, "NetworkError", `The server could not be reached (${err.message}).`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || `HTTP${response.status}`,
                       error.message || `The server answered ${response.status}.`);
  }
  return { status: response.status, data, headers: response.headers };
}

/** Every page of a list (follows nextLink, at most MAX_PAGES). */
async function listAll(path, query = {}) {
  let page = await api("GET", path, { query });
  const out = [...(page.data.value || [])];
  for (let n = 1; page.data.nextLink && n < MAX_PAGES; n++) {
    page = await api("GET", page.data.nextLink, { absolute: true });
    out.push(...(page.data.value || []));
  }
  return out;
}

/** A 202's Azure-AsyncOperation, polled until it is over -> the job it started. */
async function jobOf(response) {
  const link = response.headers.get("Azure-AsyncOperation");
  if (!link) throw new ApiError(0, "NoOperation", "The server did not say which operation it started.");
  const deadline = Date.now() + 60000;
  for (;;) {
    const { data } = await api("GET", link, { absolute: true });
    if (data.status !== "InProgress") {
      if (data.status !== "Succeeded") {
        const error = data.error || {};
        throw new ApiError(0, error.code || data.status, error.message || `The operation ended ${data.status}.`);
      }
      return data.properties && data.properties.jobId;
    }
    if (Date.now() > deadline) throw new ApiError(0, "Timeout", "The operation did not start a job in 60 s.");
    await sleep(400);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function showError(element, err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut(`Your session ended: ${err.message}`);
    return;
  }
  element.textContent = err instanceof ApiError && err.code ? `${err.message} (${err.code})` : String(err.message || err);
  element.hidden = false;
}

function clearError(element) {
  element.hidden = true;
  element.textContent = "";
}

function notice(text, link) {
  const box = $("notice");
  box.replaceChildren(document.createTextNode(text));
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    box.append(" ", a);
  }
  box.hidden = false;
}

// --- formatting --------------------------------------------------------------------------------

function fmtTime(iso) {
  if (!iso || iso.startsWith("0001-")) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function fmtDuration(iso) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(iso || "");
  if (!m) return iso || "";
  const [h, min, s] = [Number(m[1] || 0), Number(m[2] || 0), Math.floor(Number(m[3] || 0))];
  if (h) return `${h}h ${min}m`;
  if (min) return `${min}m ${s}s`;
  return s === 0 && Number(m[3] || 0) > 0 ? "<1s" : `${s}s`;
}

function fmtPercent(value) {
  return typeof value === "number" ? `${Math.floor(value)} %` : "";
}

function resourceGroupOf(id) {
  const parts = id.split("/");
  const at = parts.findIndex((p) => p.toLowerCase() === "resourcegroups");
  return at >= 0 ? parts[at + 1] : "";
}

// --- tables updated in place (rows keep their identity across polls) ---------------------------

function syncRows(tbody, records, keyOf, build, update) {
  const existing = new Map([...tbody.children].map((tr) => [tr.dataset.key, tr]));
  const wanted = records.map((record) => {
    const key = keyOf(record);
    let tr = existing.get(key);
    existing.delete(key);
    if (!tr) {
      tr = build(record);
      tr.dataset.key = key;
    }
    update(tr, record);
    return tr;
  });
  for (const tr of existing.values()) tr.remove();
  wanted.forEach((tr, i) => {
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
  });
}

function row(cells) {
  const tr = document.createElement("tr");
  for (let i = 0; i < cells; i++) tr.append(document.createElement("td"));
  return tr;
}

function setCells(tr, values) {
  values.forEach((value, i) => {
    if (value === undefined) return;
    const td = tr.children[i];
    const text = value === null ? "" : String(value);
    if (td.textContent !== text) td.textContent = text;
  });
}

function setStatus(element, status) {
  element.textContent = status || "";
  element.className = `status status-${status || "none"}`;
}

// --- sign-in -----------------------------------------------------------------------------------

async function signIn(token) {
  const error = $("signin-error");
  clearError(error);
  token = token.trim().replace(/^Bearer\s+/i, "");
  let claims;
  try {
    claims = decodeToken(token);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    return;
  }
  session = { token, claims };
  try {
    await loadVaults();
  } catch (err) {
    session = null;
    error.textContent = `Sign-in failed: ${err.message}` + (err.code ? ` (${err.code})` : "");
    error.hidden = false;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token-input").value = "";
  if (!location.hash || location.hash === "#/" || location.hash === "#/signin") location.hash = "#/jobs";
  else render();
}

function signOut(message) {
  session = null;
  vaults = [];
  vault = null;
  viewGeneration++;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(VAULT_KEY);
  for (const id of ["jobs-body", "items-body", "points-body", "job-tasks", "job-props", "job-errors", "job-log"]) {
    $(id).replaceChildren();
  }
  $("vault-select").replaceChildren();
  $("notice").hidden = true;
  const error = $("signin-error");
  if (message) {
    error.textContent = message;
    error.hidden = false;
  } else {
    clearError(error);
  }
  if (location.hash !== "#/signin") location.hash = "#/signin";
  else render();
}

async function loadVaults() {
  const claims = session.claims;
  vaults = await listAll(`/subscriptions/${claims.sub}/providers/Microsoft.RecoveryServices/vaults`);
  const select = $("vault-select");
  select.replaceChildren(...vaults.map((v) => {
    const option = document.createElement("option");
    option.value = v.id;
    option.textContent = `${v.name} (${resourceGroupOf(v.id)})`;
    return option;
  }));
  const remembered = sessionStorage.getItem(VAULT_KEY);
  vault = vaults.find((v) => v.id === remembered) || vaults[0] || null;
  if (vault) select.value = vault.id;
  const parts = [claims.role, `subscription ${claims.sub}`];
  if (claims.rg) parts.push(`resource group ${claims.rg}`);
  $("identity").textContent = parts.join(" · ");
  if (!vault) notice("There are no vaults in this subscription yet.");
}

// --- views -------------------------------------------------------------------------------------

const VIEWS = ["signin", "jobs", "job", "items", "points"];

function show(name) {
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
  const signedIn = session !== null;
  $("nav").hidden = !signedIn;
  $("whoami").hidden = !signedIn;
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("active", a.dataset.view === name || (name === "job" && a.dataset.view === "jobs")
                                 || (name === "points" && a.dataset.view === "items"));
  }
}

function render() {
  const generation = ++viewGeneration;
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, ...rest] = hash.split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : "";
  if (session === null) {
    show("signin");
    $("token-input").focus();
    return;
  }
  if (name !== "job" && name !== "points") $("notice").hidden = true;
  if (name === "job" && arg) {
    show("job");
    startJob(arg, generation);
  } else if (name === "items") {
    show("items");
    startItems(generation);
  } else if (name === "points" && arg) {
    show("points");
    startPoints(arg, generation);
  } else {
    if (name !== "jobs") {
      history.replaceState(null, "", "#/jobs");
    }
    show("jobs");
    startJobs(generation);
  }
}

/** Run `step` now and every POLL_MS while the view is current and `step` returns true. */
async function poll(generation, step) {
  while (generation === viewGeneration) {
    let again = true;
    try {
      again = await step();
    } catch (err) {
      again = !(err instanceof ApiError && err.status === 401);
    }
    if (!again || generation !== viewGeneration) return;
    await sleep(POLL_MS);
  }
}

// --- jobs --------------------------------------------------------------------------------------

function jobFilter() {
  const clauses = [];
  const status = $("filter-status").value;
  const operation = $("filter-operation").value;
  if (status) clauses.push(`status eq '${status}'`);
  if (operation) clauses.push(`operation eq '${operation}'`);
  for (const [id, field] of [["filter-from", "startTime"], ["filter-to", "endTime"]]) {
    const value = $(id).value;
    if (value) {
      const date = new Date(value);   // datetime-local: the user's local time
      if (!Number.isNaN(date.getTime())) clauses.push(`${field} eq '${date.toISOString().replace(/\.\d+Z$/, "Z")}'`);
    }
  }
  return clauses.join(" and ");
}

let lastJobs = [];

function renderJobs() {
  const needle = $("filter-item").value.trim().toLowerCase();
  const shown = lastJobs
    .filter((j) => !needle || (j.properties.entityFriendlyName || "").toLowerCase().includes(needle))
    .sort((a, b) => (b.properties.startTime || "").localeCompare(a.properties.startTime || ""));
  syncRows($("jobs-body"), shown, (j) => j.name, (j) => {
    const tr = row(6);
    tr.className = "link";
    tr.tabIndex = 0;
    const open = () => { location.hash = `#/job/${encodeURIComponent(tr.dataset.key)}`; };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
    tr.children[2].className = "status";
    return tr;
  }, (tr, j) => {
    const p = j.properties;
    const info = p.extendedInfo || {};
    tr.dataset.status = p.status;
    tr.dataset.item = p.entityFriendlyName || "";
    setCells(tr, [p.entityFriendlyName, p.operation, undefined, fmtTime(p.startTime), fmtDuration(p.duration),
                  RUNNING.has(p.status) ? fmtPercent(info.progressPercentage) : ""]);
    setStatus(tr.children[2], p.status);
  });
  $("jobs-empty").hidden = shown.length > 0;
}

function startJobs(generation) {
  const error = $("jobs-error");
  poll(generation, async () => {
    if (!vault) return false;
    try {
      lastJobs = await listAll(`${vault.id}/backupJobs`, jobFilter() ? { $filter: jobFilter() } : {});
      clearError(error);
    } catch (err) {
      showError(error, err);
      throw err;
    }
    if (generation === viewGeneration) renderJobs();
    return true;
  });
}

// --- one job -----------------------------------------------------------------------------------

let jobLogNext = 0;
let jobShown = "";

function renderJob(job) {
  const p = job.properties;
  const info = p.extendedInfo || {};
  $("job-title").textContent = `${p.operation} of ${p.entityFriendlyName}`;
  setStatus($("job-status"), p.status);
  $("job-operation").textContent = p.operation || "";
  $("job-item").textContent = p.entityFriendlyName || "";
  $("job-start").textContent = fmtTime(p.startTime);
  $("job-end").textContent = fmtTime(p.endTime);
  $("job-duration").textContent = fmtDuration(p.duration);
  $("job-id").textContent = job.name;

  const bar = $("job-progress");
  let percent;
  if (p.status === "Completed" || p.status === "CompletedWithWarnings") percent = 100;
  else if (RUNNING.has(p.status)) percent = typeof info.progressPercentage === "number" ? info.progressPercentage : 0;
  else percent = Number(bar.value) || 0;   // failed or cancelled: where it stopped
  bar.value = percent;
  bar.dataset.status = p.status;
  $("job-progress-text").textContent = `${Math.floor(percent)} %`;
  $("job-eta").textContent = info.estimatedRemainingDuration && RUNNING.has(p.status)
    ? `about ${fmtDuration(info.estimatedRemainingDuration)} left` : "";

  const cancel = $("job-cancel");
  cancel.hidden = !(canOperate() && p.status === "InProgress" && (p.actionsInfo || []).includes("Cancellable"));

  syncRows($("job-tasks"), info.tasksList || [], (t) => t.taskId, () => {
    const tr = row(5);
    tr.children[1].className = "status";
    return tr;
  }, (tr, t) => {
    setCells(tr, [t.taskId, undefined, fmtTime(t.startTime), fmtDuration(t.duration), fmtPercent(t.progressPercentage)]);
    setStatus(tr.children[1], t.status);
  });

  const bag = Object.entries(info.propertyBag || {}).sort(([a], [b]) => a.localeCompare(b));
  syncRows($("job-props"), bag, ([k]) => k, () => {
    const tr = document.createElement("tr");
    tr.append(document.createElement("th"), document.createElement("td"));
    return tr;
  }, (tr, [k, v]) => setCells(tr, [k, v]));

  const errors = p.errorDetails || [];
  const list = $("job-errors");
  list.replaceChildren(...errors.map((e) => {
    const li = document.createElement("li");
    li.textContent = `${e.errorTitle || e.errorCode}: ${e.errorString || ""}`;
    for (const r of e.recommendations || []) {
      const tip = document.createElement("div");
      tip.className = "muted";
      tip.textContent = r;
      li.append(tip);
    }
    return li;
  }));
  $("job-no-errors").hidden = errors.length > 0;
}

async function readJobLog(name) {
  const { data } = await api("GET", `${vault.id}/backupJobs/${name}/logs`, { query: { since: String(jobLogNext) } });
  const pre = $("job-log");
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  for (const line of data.value || []) {
    const span = document.createElement("span");
    span.className = `lvl-${String(line.level).toLowerCase()}`;
    span.textContent = `${fmtTime(line.time)}  ${String(line.level).toUpperCase().padEnd(7)} ${line.message}\n`;
    pre.append(span);
  }
  if (typeof data.nextSeq === "number") jobLogNext = data.nextSeq;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function startJob(name, generation) {
  const error = $("job-error");
  clearError(error);
  if (jobShown !== name) {
    jobShown = name;
    jobLogNext = 0;
    for (const id of ["job-log", "job-tasks", "job-props", "job-errors"]) $(id).replaceChildren();
    $("job-progress").value = 0;
    for (const id of ["job-title", "job-operation", "job-item", "job-start", "job-end", "job-duration", "job-id",
                      "job-progress-text", "job-eta"]) $(id).textContent = "";
    setStatus($("job-status"), "");
    $("job-cancel").hidden = true;
  }
  poll(generation, async () => {
    if (!vault) return false;
    let job;
    try {
      job = (await api("GET", `${vault.id}/backupJobs/${name}`)).data;
      if (generation !== viewGeneration) return false;
      renderJob(job);
      await readJobLog(name);   // after the job: a final job's last lines are already stored
      clearError(error);
    } catch (err) {
      showError(error, err);
      throw err;
    }
    return RUNNING.has(job.properties.status);
  });
}

async function cancelShownJob() {
  const button = $("job-cancel");
  button.disabled = true;
  try {
    await api("POST", `${vault.id}/backupJobs/${jobShown}/cancel`);
    notice("Cancellation requested.");
    render();
  } catch (err) {
    showError($("job-error"), err);
  } finally {
    button.disabled = false;
  }
}

// --- protected items ---------------------------------------------------------------------------

function startItems(generation) {
  const error = $("items-error");
  poll(generation, async () => {
    if (!vault) return false;
    let items;
    try {
      items = await listAll(`${vault.id}/backupProtectedItems`);
      clearError(error);
    } catch (err) {
      showError(error, err);
      throw err;
    }
    if (generation !== viewGeneration) return false;
    items.sort((a, b) => (a.properties.friendlyName || "").localeCompare(b.properties.friendlyName || ""));
    syncRows($("items-body"), items, (i) => i.id, (item) => {
      const tr = row(7);
      tr.children[2].className = "status";
      const cell = tr.children[6];
      cell.className = "actions-cell";
      const points = document.createElement("a");
      points.textContent = "Recovery points";
      points.href = `#/points/${encodeURIComponent(item.id)}`;
      cell.append(points);
      if (canOperate()) {
        const backup = document.createElement("button");
        backup.type = "button";
        backup.className = "primary";
        backup.dataset.action = "backup";
        backup.textContent = "Backup now";
        backup.addEventListener("click", () => backupNow(tr.dataset.key, tr.dataset.name, backup));
        cell.append(" ", backup);
      }
      return tr;
    }, (tr, item) => {
      const p = item.properties;
      tr.dataset.name = p.friendlyName || item.name;
      tr.dataset.lastBackupStatus = p.lastBackupStatus || "";
      setCells(tr, [p.friendlyName || item.name, p.protectionState, undefined, fmtTime(p.lastBackupTime),
                    (p.extendedInfo || {}).recoveryPointCount ?? 0, p.policyName || ""]);
      setStatus(tr.children[2], p.lastBackupStatus);
    });
    $("items-empty").hidden = items.length > 0;
    return true;
  });
}

async function backupNow(itemId, name, button) {
  button.disabled = true;
  const error = $("items-error");
  try {
    const response = await api("POST", `${itemId}/backup`, { body: { properties: { objectType: "IaasVMBackupRequest" } } });
    notice(`Backup of ${name} accepted; waiting for its job…`);
    const job = await jobOf(response);
    notice(`Backup of ${name} started.`, { href: `#/job/${encodeURIComponent(job)}`, text: "Open its job" });
    location.hash = `#/job/${encodeURIComponent(job)}`;
  } catch (err) {
    showError(error, err);
  } finally {
    button.disabled = false;
  }
}

// --- recovery points and restore ---------------------------------------------------------------

let pointsItem = null;
let restorePoint = null;

async function startPoints(itemId, generation) {
  const error = $("points-error");
  clearError(error);
  $("restore-form").hidden = true;
  if (!pointsItem || pointsItem.id !== itemId) $("points-body").replaceChildren();
  try {
    const item = (await api("GET", itemId)).data;
    const points = await listAll(`${itemId}/recoveryPoints`);
    if (generation !== viewGeneration) return;
    pointsItem = item;
    $("points-title").textContent = `Recovery points of ${item.properties.friendlyName || item.name}`;
    points.sort((a, b) => (b.properties.recoveryPointTime || "").localeCompare(a.properties.recoveryPointTime || ""));
    syncRows($("points-body"), points, (rp) => rp.name, () => {
      const tr = row(5);
      tr.children[4].className = "actions-cell";
      if (canOperate()) {
        const restore = document.createElement("button");
        restore.type = "button";
        restore.dataset.action = "restore";
        restore.textContent = "Restore…";
        restore.addEventListener("click", () => openRestore(tr.dataset.key));
        tr.children[4].append(restore);
      }
      return tr;
    }, (tr, rp) => {
      const p = rp.properties;
      setCells(tr, [rp.name, fmtTime(p.recoveryPointTime), p.recoveryPointType || p.objectType,
                    fmtTime((p.recoveryPointProperties || {}).expiryTime)]);
    });
    $("points-empty").hidden = points.length > 0;
  } catch (err) {
    showError(error, err);
  }
}

function openRestore(pointName) {
  restorePoint = pointName;
  $("restore-point-name").textContent = pointName;
  if (!$("restore-rg").value) $("restore-rg").value = resourceGroupOf(vault.id);
  $("restore-form").hidden = false;
  $("restore-location").focus();
}

async function submitRestore() {
  const error = $("points-error");
  clearError(error);
  const location_ = $("restore-location").value.trim();
  const group = $("restore-rg").value.trim();
  if (!location_ || !group || !pointsItem || !restorePoint) return;
  const submit = $("restore-submit");
  submit.disabled = true;
  const storageAccountId =
    `/subscriptions/${session.claims.sub}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${location_}`;
  try {
    const response = await api("POST", `${pointsItem.id}/recoveryPoints/${restorePoint}/restore`, { body: {
      properties: {
        objectType: "IaasVMRestoreRequest", recoveryType: "RestoreDisks", recoveryPointId: restorePoint,
        sourceResourceId: pointsItem.properties.sourceResourceId, storageAccountId, region: vault.location,
      },
    } });
    const job = await jobOf(response);
    $("restore-form").hidden = true;
    notice(`Restore of ${restorePoint} started.`, { href: `#/job/${encodeURIComponent(job)}`, text: "Open its job" });
    location.hash = `#/job/${encodeURIComponent(job)}`;
  } catch (err) {
    showError(error, err);
  } finally {
    submit.disabled = false;
  }
}

// --- wiring ------------------------------------------------------------------------------------

function main() {
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token-input").value);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("vault-select").addEventListener("change", (e) => {
    vault = vaults.find((v) => v.id === e.target.value) || null;
    if (vault) sessionStorage.setItem(VAULT_KEY, vault.id);
    lastJobs = [];
    for (const id of ["jobs-body", "items-body"]) $(id).replaceChildren();
    render();
  });
  const filters = $("job-filters");
  filters.addEventListener("submit", (e) => e.preventDefault());
  for (const id of ["filter-status", "filter-operation", "filter-from", "filter-to"]) {
    $(id).addEventListener("change", () => { $("jobs-body").replaceChildren(); render(); });
  }
  $("filter-item").addEventListener("input", renderJobs);
  $("job-cancel").addEventListener("click", cancelShownJob);
  $("restore-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submitRestore();
  });
  $("restore-close").addEventListener("click", () => { $("restore-form").hidden = true; });
  window.addEventListener("hashchange", render);

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved).then(() => { if (session === null) sessionStorage.removeItem(TOKEN_KEY); });
  } else {
    render();
  }
}

main();
