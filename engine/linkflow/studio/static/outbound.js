// linkflow studio: what the store sends out. The Effects view (the outbox across instances,
// filtered by status, keyset pages, Retry of a dead or failed effect) and the Webhooks view
// (each subscriber with its delivery counts, last error and dead deliveries, Retry of those).
// Plain JavaScript, loaded before studio.js, whose helpers ($, el, api) it uses when called,
// and after instances.js (`when`, `openInstance`). Every text from the server goes into the
// page with textContent; every retry asks first and says in words what it did.
"use strict";

const effectPager = {cursors: [null], next: null};

// What each status means, in words.
const EFFECT_STATUS = {
  pending: "waiting for its first attempt",
  retrying: "failed before, waiting to be tried again",
  running: "being performed by a worker now",
  done: "performed",
  failed: "the service refused it",
  late: "answered late: the answer is kept, no event was sent",
  dead: "its attempts ran out",
  cancelled: "its instance had moved on: never performed",
};

// An event pattern of a subscriber (store/webhooks.py check_patterns), in words.
function patternWords(pattern) {
  if (pattern === "*") return "every event";
  const [field, glob] = pattern.includes(":") ? pattern.split(/:(.*)/s) : ["event", pattern];
  const any = glob === "*";
  if (field === "workflow") return any ? "events of every workflow" : `events of workflow ${glob}`;
  if (field === "outcome") return any ? "every end of an instance" : `ends with outcome ${glob}`;
  return any ? "every event" : `events named ${glob}`;
}

/** "dead delivery" for one, "3 dead deliveries" for more. */
const deadDeliveries = (n) => (n === 1 ? "dead delivery" : `${n} dead deliveries`);
const callWords = (e) => `${e.name} (${e.kind} ${e.method} to ${e.service})`;

function wireOutbound() {
  $("effects-form").addEventListener("submit", (e) => { e.preventDefault(); listEffects(); });
  $("effects-next").addEventListener("click", () => turnEffectsPage(+1));
  $("effects-prev").addEventListener("click", () => turnEffectsPage(-1));
  $("webhooks-refresh").addEventListener("click", () => listWebhooks());
}

// -- effects ------------------------------------------------------------------------------

function listEffects() {
  effectPager.cursors = [null];
  return showEffectsPage();
}

function turnEffectsPage(step) {
  if (step > 0 && effectPager.next) effectPager.cursors.push(effectPager.next);
  else if (step < 0 && effectPager.cursors.length > 1) effectPager.cursors.pop();
  else return;
  showEffectsPage().then(() => $("effects-heading").focus());
}

async function showEffectsPage() {
  const params = new URLSearchParams();
  const status = $("effects-status").value;
  if (status) params.set("status", status);
  const limit = $("effects-limit").value.trim();
  if (limit) params.set("limit", limit);
  const cursor = effectPager.cursors[effectPager.cursors.length - 1];
  if (cursor) params.set("cursor", cursor);
  let found;
  try { found = await api(`api/effects?${params}`); } catch (err) { $("effects-status-line").textContent = err.message; return; }
  const select = $("effects-status");
  if (select.options.length === 1) for (const s of found.statuses) select.append(el("option", {value: s}, s));
  const c = found.counts;
  $("effects-counts").textContent = `In the store: ${c.pending} pending (${c.retrying} of them retrying), ${c.running} running, ${c.dead} dead, ${c.failed} failed, ${c.late} late, ${c.done} done, ${c.cancelled} cancelled.`;
  const body = $("effects-table").querySelector("tbody");
  body.replaceChildren();
  for (const item of found.effects) body.append(effectRow(item));
  effectPager.next = found.next;
  $("effects-next").disabled = !found.next;
  $("effects-prev").disabled = effectPager.cursors.length <= 1;
  const more = found.next ? "; more on the next page" : "";
  const noun = status ? `${status} effect` : "effect";
  $("effects-status-line").textContent = `${count(found.effects.length, noun)} on page ${effectPager.cursors.length}${more}`;
}

function effectRow(item) {
  const label = item.workflow ? `${item.workflow} ${item.instance}` : `${item.instance} (no longer stored)`;
  const open = el("button", {type: "button", class: "secondary", "data-effect-instance": item.instance, "aria-label": `Open instance ${label}`}, label);
  open.addEventListener("click", () => showInstanceOf(item.instance));
  const next = item.next_attempt ? when(item.next_attempt) : "-";
  const state = el("td", {}, el("strong", {}, item.status), el("div", {class: "muted"}, EFFECT_STATUS[item.status] || ""));
  if (item.retryable) {
    const retry = el("button", {type: "button", "data-retry-effect": item.id, "aria-label": `Retry ${callWords(item)} of ${label}`}, "Retry");
    retry.addEventListener("click", () => retryEffect(item, label));
    state.append(retry);
  }
  return el("tr", {"data-effect": item.id},
    el("td", {}, callWords(item)),
    state,
    el("td", {}, item.workflow === null ? label : open),
    el("td", {}, `${item.attempts} of ${item.max_attempts}`),
    el("td", {}, item.last_error || "-"),
    el("td", {}, next));
}

async function showInstanceOf(id) {
  $("tab-instances").click();
  await openInstance(id);
}

async function retryEffect(item, label) {
  const line = $("effects-status-line");
  if (!window.confirm(`Retry ${callWords(item)} of ${label}? It is ${item.status}; a worker will perform it again from its first attempt.`)) {
    line.textContent = `Not retried: ${callWords(item)} stays ${item.status}.`;
    return;
  }
  try {
    const data = await api(`api/effects/${encodeURIComponent(item.id)}/retry`, {});
    await showEffectsPage();
    line.textContent = `Retried: ${callWords(item)} of ${label} is ${data.effect.status} again; a worker performs it from its first attempt.`;
  } catch (err) { line.textContent = `Not retried: ${err.message}`; }
  $("effects-heading").focus();
}

// -- webhooks -----------------------------------------------------------------------------

async function listWebhooks() {
  let found;
  try { found = await api("api/webhooks"); } catch (err) { $("webhooks-status").textContent = err.message; return; }
  const list = $("webhooks-list");
  list.replaceChildren(...found.webhooks.map(subscriberCard));
  if (!found.webhooks.length) list.append(el("p", {class: "muted"}, "No subscriber: add one with linkflow webhooks add."));
  return found;
}

function subscriberCard(hook) {
  const heading = el("h3", {id: `hook-${hook.id}`}, hook.url);
  const state = hook.dead ? "some deliveries are dead" : hook.retrying ? "retrying" : "delivering";
  const counts = el("p", {class: "hook-counts"},
    `${hook.delivered} delivered, ${hook.pending} pending, ${hook.retrying} retrying, ${hook.dead} dead`);
  const facts = el("dl", {class: "facts"},
    el("dt", {}, "Takes"), el("dd", {}, hook.events.map(patternWords).join("; ")),
    el("dt", {}, "State"), el("dd", {}, `receiving (a subscriber is never paused: remove it to stop); ${state}`),
    el("dt", {}, "Last delivered"), el("dd", {}, lastDelivered(hook.last_delivered)),
    el("dt", {}, "Last error"), el("dd", {}, hook.last_error ? `${hook.last_error} (${count(hook.failures, "failed attempt")} in all)` : "none"));
  const card = el("section", {class: "card hook", "data-webhook": hook.id, "aria-labelledby": heading.id}, heading, counts, facts);
  if (hook.dead) {
    const listId = `hook-dead-${hook.id}`;
    card.append(el("h4", {id: listId}, `Dead deliveries (${hook.dead})`));
    const dead = el("ul", {class: "history", "aria-labelledby": listId});
    for (const d of hook.dead_deliveries) {
      const what = d.event ? `${d.event} of instance ${d.instance}${d.time ? ` (step at ${when(d.time)})` : ""}` : `feed entry ${d.seq} of instance ${d.instance}`;
      dead.append(el("li", {class: "refused"}, el("strong", {}, what), ` — ${count(d.attempts, "attempt")}: ${d.last_error || "no error recorded"}`));
    }
    if (hook.dead > hook.dead_deliveries.length) dead.append(el("li", {class: "muted"}, `and ${hook.dead - hook.dead_deliveries.length} more`));
    const retry = el("button", {type: "button", "data-retry-webhook": hook.id, "aria-label": `Retry the ${deadDeliveries(hook.dead)} to ${hook.url}`}, "Retry dead deliveries");
    retry.addEventListener("click", () => retryWebhook(hook));
    card.append(dead, retry);
  }
  return card;
}

function lastDelivered(last) {
  if (!last) return "nothing yet";
  if (!last.time) return `feed entry ${last.seq} (no longer in the feed)`;
  return `${last.event} of instance ${last.instance}, the step at ${when(last.time)}`;
}

async function retryWebhook(hook) {
  const status = $("webhooks-status");
  if (!window.confirm(`Send the ${deadDeliveries(hook.dead)} to ${hook.url} again, from the first attempt?`)) {
    status.textContent = `Not retried: the deliveries to ${hook.url} stay dead.`;
    return;
  }
  try {
    const data = await api(`api/webhooks/${encodeURIComponent(hook.id)}/retry`, {});
    await listWebhooks();
    const w = data.webhook;
    status.textContent = `Retried: ${count(data.requeued, "dead delivery", "dead deliveries")} to ${hook.url}, pending again (now ${w.pending} pending, ${w.dead} dead); a deliverer sends them.`;
  } catch (err) { status.textContent = `Not retried: ${err.message}`; }
  $("webhooks-heading").focus();
}
