// linkflow studio: the operations view of a store's instances (filters, keyset pages, one
// instance with its run and pending timeout, operator actions). Plain JavaScript, loaded before
// studio.js, whose helpers ($, el, api, renderDiagram, renderEventList, payloadForm) it uses
// when called. Every text from the server goes into the page with textContent.
"use strict";

let instanceForm = null;   // the instance view's payload form
let instance = null;       // the instance open in the operations view
const pager = {cursors: [null], next: null};   // the cursor of each page seen so far

const when = (seconds) => new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";

function operatorName() {
  return $("operator-name").value.trim();
}

function wireInstances() {
  instanceForm = payloadForm("instance", async (event, payload, error) => {
    if (error) { $("instance-result").replaceChildren(el("span", {class: "refused"}, error.message)); return; }
    await sendToInstance(event, payload);
  });
  $("instances-form").addEventListener("submit", (e) => { e.preventDefault(); listInstances(); });
  $("instances-next").addEventListener("click", () => turnPage(+1));
  $("instances-prev").addEventListener("click", () => turnPage(-1));
  $("op-cancel").addEventListener("click", () => operatorAction("cancel"));
  $("op-terminate").addEventListener("click", () => operatorAction("terminate"));
  try { $("operator-name").value = window.localStorage.getItem("linkflow-operator") || ""; } catch (err) { /* no storage: type it */ }
  $("operator-name").addEventListener("change", () => {
    try { window.localStorage.setItem("linkflow-operator", operatorName()); } catch (err) { /* kept for this page only */ }
  });
}

// The listing: a new search starts at the first page; Next and Previous move along the cursors.
function listInstances() {
  pager.cursors = [null];
  return showPage();
}

function turnPage(step) {
  if (step > 0 && pager.next) pager.cursors.push(pager.next);
  else if (step < 0 && pager.cursors.length > 1) pager.cursors.pop();
  else return;
  showPage().then(() => $("instances-heading").focus());
}

async function showPage() {
  const params = new URLSearchParams();
  for (const name of ["workflow", "state", "outcome", "limit"]) {
    const value = $(`filter-${name}`).value.trim();
    if (value) params.set(name, value);
  }
  for (const line of $("filter-data").value.split(",")) if (line.trim()) params.append("data", line.trim());
  const cursor = pager.cursors[pager.cursors.length - 1];
  if (cursor) params.set("cursor", cursor);
  let found;
  try { found = await api(`api/instances?${params}`); } catch (err) { $("instances-status").textContent = err.message; return; }
  $("store-name").textContent = `Store: ${found.store}`;
  const outcome = $("filter-outcome");
  if (outcome.options.length === 1) for (const o of found.outcomes) outcome.append(el("option", {value: o}, o.replace("_", " ")));
  const body = $("instances-table").querySelector("tbody");
  body.replaceChildren();
  for (const item of found.instances) {
    const open = el("button", {type: "button", class: "secondary", "data-instance": item.id, "aria-label": `Open instance ${item.id}`}, item.id);
    open.addEventListener("click", () => openInstance(item.id));
    const run = item.session === item.id ? "" : item.session;
    body.append(el("tr", {}, el("td", {}, open), el("td", {}, item.workflow), el("td", {}, item.state),
      el("td", {}, item.outcome || "running"), el("td", {}, String(item.version)), el("td", {}, when(item.updated)),
      el("td", {}, item.due ? when(item.due) : "-"), el("td", {}, run)));
  }
  pager.next = found.next;
  $("instances-next").disabled = !found.next;
  $("instances-prev").disabled = pager.cursors.length <= 1;
  const page = pager.cursors.length;
  const more = found.next ? "; more on the next page" : "";
  $("instances-status").textContent = `${count(found.instances.length, "instance")} on page ${page}${more}`;
}

async function openInstance(id) {
  try { renderInstance(await api(`api/instances/${encodeURIComponent(id)}`)); } catch (err) { $("instances-status").textContent = err.message; return; }
  $("instance-result").replaceChildren();
  $("op-result").replaceChildren();
  $("instance-heading").focus();
}

function renderInstance(detail) {
  instance = detail;
  const rec = detail.instance;
  $("instance").hidden = false;
  $("instance-heading").textContent = `Instance ${rec.id}`;
  const line = $("instance-current");
  line.replaceChildren(el("span", {}, `${detail.title}: `), el("code", {}, rec.state));
  if (rec.outcome) line.append(el("span", {class: `badge ${rec.outcome}`}, rec.outcome.replace("_", " ")));
  line.append(el("span", {class: "muted"}, ` — version ${rec.version}, definition ${rec.definition}`));
  renderTimeout(detail);
  renderRun(detail);
  $("instance-caption").textContent = `Path taken by ${rec.id} through ${rec.workflow}`;
  renderDiagram($("instance-diagram"), detail.diagram, rec.state);
  const history = $("instance-history");
  history.replaceChildren();
  for (const item of detail.history) {
    const li = el("li", {class: item.accepted ? "accepted" : "refused"}, el("strong", {}, item.accepted ? `${item.event}: ${item.from} → ${item.to}` : `${item.event}: refused`), ` (${when(item.time)})`);
    if (item.operator) {
      const why = item.operator.reason ? `: ${item.operator.reason}` : "";
      li.append(" ", el("span", {class: "operator"}, `operator ${item.operator.action} by ${item.operator.by} (${item.operator.via})${why}`));
    }
    if (item.payload) li.append(" ", el("code", {}, JSON.stringify(item.payload)));
    if (item.refusal) li.append(el("div", {}, `${item.refusal.guard ? `guard ${item.refusal.guard} ` : ""}${item.refusal.rule ? `[${item.refusal.rule}] ` : ""}: ${item.refusal.message}`));
    history.append(li);
  }
  renderEffects(detail.effects || []);
  renderEventList($("instance-events"), "instance-event", detail.events, (option) => (option.schema ? instanceForm.open(option) : sendToInstance(option.event, {})));
  const open = !rec.outcome;
  $("op-cancel").disabled = !open || !detail.cancel_event;
  $("op-cancel-reason").textContent = !open ? "it has ended"
    : detail.cancel_event ? `takes '${detail.cancel_event}', the workflow's own way to a cancelled end`
      : `${rec.workflow} has no way from '${rec.state}' to a cancelled end: terminate instead`;
  $("op-terminate").disabled = !open;
  $("op-terminate-reason").textContent = open ? "ends it now (outcome terminated), its timer stopped, no action run" : "it has ended";
}

function renderEffects(effects) {
  const list = $("instance-effects");
  list.replaceChildren();
  for (const item of effects) {
    const ended = ["done", "late", "cancelled"].includes(item.status);
    const li = el("li", {class: ended ? "accepted" : "refused"}, el("strong", {}, `${item.name} (${item.kind}): ${item.status}`), ` ${item.method} ${item.service}, attempts ${item.attempts}/${item.max_attempts} (${when(item.updated)})`);
    if (item.last_error) li.append(el("div", {}, item.last_error));
    list.append(li);
  }
  if (!effects.length) list.append(el("li", {class: "muted"}, "none"));
}

function renderTimeout(detail) {
  const box = $("instance-timeout");
  const t = detail.timeout;
  if (!t) { box.textContent = detail.instance.outcome ? "Ended: no timeout pending." : "No timeout pending in this state."; return; }
  const left = Math.round(t.due - Date.now() / 1000);
  const rel = left >= 0 ? `in ${left} s` : `${-left} s ago, waiting for the timer runner`;
  box.textContent = `Times out at ${when(t.due)} (${rel}) to '${t.to}' (after ${t.seconds} s in this state).`;
}

function renderRun(detail) {
  const list = $("instance-run");
  list.replaceChildren();
  for (const member of detail.run) {
    const here = member.id === detail.instance.id;
    const what = `${member.workflow}: ${member.state}${member.outcome ? ` (${member.outcome.replace("_", " ")})` : ""}`;
    const item = here
      ? el("span", {"aria-current": "true"}, el("strong", {}, member.id), ` ${what} — shown`)
      : el("button", {type: "button", class: "secondary", "data-run": member.id, "aria-label": `Open ${member.id} of this run`}, member.id);
    if (!here) item.addEventListener("click", () => openInstance(member.id));
    list.append(el("li", {}, item, here ? "" : ` ${what}`));
  }
}

async function sendToInstance(event, payload) {
  if (!instance) return;
  const id = instance.instance.id;
  if (!window.confirm(`Send '${event}' to instance ${id}? This changes the stored instance.`)) {
    $("instance-result").replaceChildren(el("span", {}, `Not sent: '${event}' was cancelled.`));
    return;
  }
  const body = {event, payload, expect_version: instance.instance.version};
  if (operatorName()) body.operator = operatorName();
  try {
    const data = await api(`api/instances/${encodeURIComponent(id)}/send`, body);
    renderInstance(data.instance);
    const r = data.result;
    const box = $("instance-result");
    if (r.accepted) box.replaceChildren(el("span", {class: "ok"}, `${r.event}: ${r.from} → ${r.to}`));
    else box.replaceChildren(el("span", {class: "refused"}, el("strong", {}, `${r.event} refused${r.refusal.guard ? ` by guard ${r.refusal.guard}` : ""}${r.refusal.rule ? ` [${r.refusal.rule}]` : ""}`), r.refusal.message));
    showPage();
  } catch (err) { $("instance-result").replaceChildren(el("span", {class: "refused"}, err.message)); }
  $("instance-heading").focus();
}

async function operatorAction(action) {
  if (!instance) return;
  const id = instance.instance.id;
  const box = $("op-result");
  const who = operatorName();
  if (!who) {
    box.replaceChildren(el("span", {class: "refused"}, `Give your name as operator first: ${action} is recorded with who did it.`));
    $("operator-name").focus();
    return;
  }
  const words = action === "cancel" ? "Cancel" : "Terminate";
  if (!window.confirm(`${words} instance ${id}? This changes the stored instance.`)) {
    box.replaceChildren(el("span", {}, `Not done: ${action} of ${id} was called off.`));
    return;
  }
  const body = {operator: who, expect_version: instance.instance.version};
  if (action === "terminate" && $("op-reason").value.trim()) body.reason = $("op-reason").value.trim();
  try {
    const data = await api(`api/instances/${encodeURIComponent(id)}/${action}`, body);
    renderInstance(data.instance);
    const r = data.result;
    const done = action === "cancel" ? "Cancelled" : "Terminated";
    if (r.accepted) box.replaceChildren(el("span", {class: "ok"}, `${done} by ${who}: ${r.from} → ${r.to} (${r.outcome || "running"})`));
    else box.replaceChildren(el("span", {class: "refused"}, el("strong", {}, `${action} refused${r.refusal.guard ? ` by guard ${r.refusal.guard}` : ""}: `), r.refusal.message));
    showPage();
  } catch (err) { box.replaceChildren(el("span", {class: "refused"}, `${words} refused: ${err.message}`)); }
  $("instance-heading").focus();
}
