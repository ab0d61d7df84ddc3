// linkflow studio: the page's behaviour, plain JavaScript, no dependencies.
// Every text from the server goes into the page with textContent; only the Graphviz SVG
// (drawn by our own renderer, which escapes every workflow text) is parsed as markup.
"use strict";

const $ = (id) => document.getElementById(id);
let view = null;          // the playground's last state from the server
let playgroundForm = null; // the playground's payload form
let coverage = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const show = (value) => (value === undefined ? "(nothing)" : JSON.stringify(value));

async function api(path, body) {
  const options = body === undefined ? {} : {
    // the browser adds Origin; the studio's own header covers a client that does not
    method: "POST", headers: {"Content-Type": "application/json", "X-Linkflow-Studio": "1"},
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (err) { data = {error: `the server answered ${response.status}`}; }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

// -- rendering ---------------------------------------------------------------------------

function render(state) {
  view = state;
  renderProblems(state);
  renderCurrent(state);
  renderDiagram($("diagram"), state.diagram, state.current.state);
  renderEvents(state);
  renderHistory(state);
  renderRecords(state);
  renderStart(state);
  const timeout = state.current.timeout;
  $("clock").textContent = `${state.elapsed} s have passed in this session.` + (timeout
    ? ` '${state.current.state}' times out after ${timeout.seconds} s (to '${timeout.to}'); ${timeout.remaining} s left.`
    : " The current state does not time out.");
}

function renderProblems(state) {
  const box = $("problems");
  box.replaceChildren();
  if (state.problems.length) {
    box.append(el("strong", {}, "The workflow files have problems; the last good version keeps running:"));
    for (const problem of state.problems) box.append(el("div", {class: "problem"}, problem.text));
  }
  box.hidden = !state.problems.length;
  $("notice").textContent = state.notice;
  $("notice").hidden = !state.notice;
}

function renderCurrent(state) {
  const cur = state.current;
  const line = $("current");
  line.replaceChildren(el("span", {}, `${cur.title}: `), el("code", {}, cur.state));
  if (cur.outcome) line.append(el("span", {class: `badge ${cur.outcome}`}, cur.outcome.replace("_", " ")));
  $("current-step").textContent = [cur.description, cur.step && `Next: ${cur.step}`].filter(Boolean).join(" ");
  $("chain").textContent = state.chain.length > 1 ? `Workflows so far: ${state.chain.join(" → ")}` : `Workflow: ${cur.workflow} (${cur.file})`;
  $("diagram-caption").textContent = `Diagram of ${cur.workflow}: current state '${cur.state}' outlined, path taken numbered`;
}

function renderDiagram(box, svgText, current) {
  const start = svgText.indexOf("<svg");
  const doc = new DOMParser().parseFromString(svgText.slice(start), "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") { box.textContent = "the diagram could not be drawn"; return; }
  svg.setAttribute("focusable", "false");
  box.replaceChildren(document.importNode(svg, true));
  if (!current) return;
  for (const node of box.querySelectorAll("g.node")) {
    const title = node.querySelector("title");
    if (title && title.textContent === current) node.classList.add("current");
  }
}

function reasonText(option) {
  if (option.available === true) return option.reason || "";
  if (option.available === null) return "depends on the payload: send it to find out";
  return option.reason;
}

function renderEvents(state) {
  renderEventList($("events"), "event", state.events, (option) => (option.schema ? playgroundForm.open(option) : send(option.event, {})));
  if (playgroundForm.event) {
    const still = state.events.find((o) => o.event === playgroundForm.event && o.available !== false);
    if (!still) playgroundForm.close();
  }
}

function renderEventList(list, prefix, options, choose) {
  list.replaceChildren();
  const later = el("ul", {class: "events"});
  for (const option of options) {
    const id = `${prefix}-${option.event}`;
    const enabled = option.available !== false;
    const reason = el("span", {class: "reason", id: `${id}-reason`}, enabled ? "" : "refused: ");
    reason.append(reasonText(option));
    if (option.rule) reason.append(" ", el("span", {class: "rule"}, `[${option.rule}]`));
    const words = option.label || option.event;
    const button = el("button", {
      type: "button", id, class: "event", "data-event": option.event, disabled: !enabled,
      "aria-describedby": `${id}-reason`, title: `${option.event}: ${option.description}`,
    }, el("span", {class: "words"}, option.schema ? `${words}…` : words), el("code", {class: "engineer"}, option.event));
    button.addEventListener("click", () => choose(option));
    (enabled ? list : later).append(el("li", {"data-available": String(option.available)}, button, reason));
  }
  if (later.children.length) {
    const summary = el("summary", {}, `Not possible now (${later.children.length})`);
    list.append(el("li", {class: "not-now"}, el("details", {id: `${prefix}-not-now`}, summary, later)));
  }
}

function renderHistory(state) {
  const list = $("history");
  list.replaceChildren();
  for (const item of state.history) {
    const li = el("li", {class: item.accepted ? "accepted" : "refused"});
    const what = item.kind === "wait" ? `waited ${item.wait} s` : item.event;
    let line;
    if (item.kind === "wait" && !item.event) line = `${what}: nothing timed out (still in '${item.from}')`;
    else if (item.accepted) line = `${item.workflow}: ${item.kind === "wait" ? `${what}, timeout` : what}: ${item.from} → ${item.to}`;
    else line = `${item.workflow}: ${what}: refused`;
    li.append(el("strong", {}, line));
    if (Object.keys(item.payload).length) li.append(" ", el("code", {}, JSON.stringify(item.payload)));
    if (item.handed_to) li.append(el("div", {}, `hands over to ${item.handed_to}`));
    if (item.refusal) {
      const r = item.refusal;
      const why = el("div", {class: "why"}, r.guard ? `guard ${r.guard} ` : `${r.kind.replace("_", " ")} `);
      if (r.rule) why.append(el("span", {class: "rule"}, `[${r.rule}]`), " ");
      why.append(`: ${r.message}`);
      li.append(why);
    }
    const changes = [...item.data_changes.map((c) => ["data", c]), ...item.world_changes.map((c) => ["world", c])];
    if (changes.length) {
      const ul = el("ul", {class: "changes"});
      for (const [root, c] of changes) ul.append(el("li", {}, el("code", {}, `${root}.${c.path}`), `: ${show(c.before)} → ${show(c.after)}`));
      li.append(ul);
    }
    list.append(li);
  }
  $("history-empty").hidden = state.history.length > 0;
}

function renderRecords(state) {
  const box = $("records");
  box.replaceChildren();
  if (!state.records.length) box.append(el("p", {class: "muted"}, "This workflow reads no world records."));
  for (const rec of state.records) {
    const div = el("div", {class: "record"});
    div.append(el("h4", {}, `${rec.binding}: ${rec.collection}[${show(rec.key)}]`), el("p", {class: "muted"}, rec.description));
    if (rec.record === null || typeof rec.record !== "object") {
      div.append(el("p", {class: "muted"}, rec.key === null ? "no key yet" : "no such record"));
    } else {
      const dl = el("dl");
      for (const [field, value] of Object.entries(rec.record)) {
        const changed = rec.changed.includes(field) || rec.changed.includes("*");
        dl.append(el("dt", {}, field), el("dd", {class: changed ? "changed" : null}, show(value), changed ? " (changed by the last step)" : ""));
      }
      div.append(dl);
    }
    box.append(div);
  }
}

function renderStart(state) {
  const select = $("start-workflow");
  if (select.dataset.version !== String(state.workflows.join())) {
    select.replaceChildren(...state.workflows.map((name) => el("option", {value: name}, state.entries.includes(name) ? `${name} (entry)` : name)));
    select.dataset.version = state.workflows.join();
  }
  if (document.activeElement !== select) select.value = state.start;
  const area = $("start-data");
  if (document.activeElement !== area && !area.dataset.touched) area.value = JSON.stringify(state.start_data, null, 2);
  $("world-name").textContent = state.world.file ? `World: ${state.world.name} (${state.world.file}), fresh on every reset.` : "No world file: an empty world.";
}

// -- the payload form ----------------------------------------------------------------------

function fieldInput(idPrefix, name, schema, required, secret, choices, suggestions) {
  const id = `${idPrefix}-${name}`;
  let input;
  const help = [schema.description, secret ? "Secret: sent once, never kept or shown." : ""].filter(Boolean).join(" ");
  const helpId = `${id}-help`;
  if (choices) {
    // The options by their words; the value sent is the option's id.
    const group = el("fieldset", {id, class: "choices", "data-choice": name, "aria-describedby": help ? helpId : null});
    group.append(el("legend", {}, name, required ? el("span", {class: "required", "aria-hidden": "true"}, " *") : null));
    if (!choices.length) group.append(el("p", {class: "muted"}, "Nothing is offered here now."));
    choices.forEach((choice, n) => {
      const radio = el("input", {type: "radio", id: `${id}-${n}`, name, value: JSON.stringify(choice.value), required, title: String(choice.value)});
      radio.dataset.kind = "enum";
      group.append(el("div", {class: "choice"}, radio, " ", el("label", {for: `${id}-${n}`, title: `id: ${choice.value}`}, choice.label)));
    });
    return [group, help ? el("p", {class: "field-help", id: helpId}, help) : null];
  }
  const label = el("label", {for: id}, name, required ? el("span", {class: "required", "aria-hidden": "true"}, " *") : null);
  const enumValues = schema.enum || (schema.items && schema.items.enum);
  if (enumValues && schema.type !== "array") {
    input = el("select", {id, name, required});
    if (!required) input.append(el("option", {value: ""}, "(leave out)"));
    for (const value of enumValues) input.append(el("option", {value: JSON.stringify(value)}, String(value)));
  } else if (schema.type === "boolean") {
    input = el("select", {id, name, required});
    if (!required) input.append(el("option", {value: ""}, "(leave out)"));
    input.append(el("option", {value: "true"}, "true"), el("option", {value: "false"}, "false"));
  } else if (schema.type === "integer" || schema.type === "number") {
    input = el("input", {id, name, type: "number", step: schema.type === "integer" ? "1" : "any", required});
  } else if (schema.type === "array" || schema.type === "object") {
    input = el("textarea", {id, name, rows: "2", required, placeholder: schema.type === "array" ? '["a", "b"]' : '{"key": "value"}'});
  } else {
    input = el("input", {id, name, type: secret ? "password" : "text", required, autocomplete: secret ? "new-password" : "off"});
    if (schema.minLength) input.minLength = schema.minLength;
    if (suggestions && suggestions.length && !secret) {
      // What the field can resolve to in the world: the record ids, with their names.
      const list = el("datalist", {id: `${id}-list`}, ...suggestions.map((s) => el("option", {value: s.value, label: s.label})));
      input.setAttribute("list", list.id);
      input.dataset.kind = schema.type || "string";
      const shown = suggestions.slice(0, 12).map((s) => (s.label === s.value ? s.value : `${s.value} (${s.label})`));
      const hint = `Known: ${shown.join(", ")}${suggestions.length > shown.length ? ", …" : ""}.`;
      const helpText = [help, hint].filter(Boolean).join(" ");
      input.setAttribute("aria-describedby", helpId);
      return [label, input, list, el("p", {class: "field-help", id: helpId}, helpText)];
    }
  }
  input.dataset.kind = enumValues ? "enum" : (schema.type || "string");
  if (help) input.setAttribute("aria-describedby", helpId);
  return [label, input, help ? el("p", {class: "field-help", id: helpId}, help) : null];
}

// A field whose schema can never be met (`not: {}`) is declared only to be refused: not shown.
function neverAccepted(prop) {
  return prop !== null && typeof prop === "object" && prop.not !== undefined && typeof prop.not === "object" && Object.keys(prop.not).length === 0;
}

// A payload form: the playground's and the instance view's, each with its own elements.
function payloadForm(prefix, onSend) {
  const copy = $("payload-form-template").content.cloneNode(true);
  for (const part of copy.querySelectorAll("[data-id]")) part.id = `${prefix}-${part.dataset.id}`;
  document.querySelector(`[data-payload-form="${prefix}"]`).replaceWith(copy);
  const ids = {form: `${prefix}-form`, fields: `${prefix}-fields`, legend: `${prefix}-legend`, description: `${prefix}-description`, send: `${prefix}-send`, cancel: `${prefix}-cancel`};
  const form = {event: null};
  form.open = (option) => {
    form.event = option.event;
    const schema = option.schema;
    const required = new Set(schema.required || []);
    const fields = $(ids.fields);
    fields.replaceChildren();
    for (const [name, prop] of Object.entries(schema.properties || {})) {
      if (neverAccepted(prop)) continue;
      const secret = option.secret_fields.includes(name) || prop.secret === true;
      const choices = option.choices ? option.choices[name] : undefined;
      const suggestions = option.suggestions ? option.suggestions[name] : undefined;
      fields.append(...fieldInput(`${prefix}-field`, name, prop, required.has(name), secret, choices, suggestions).filter(Boolean));
    }
    const words = option.label || option.event;
    $(ids.legend).textContent = words;
    $(ids.legend).title = option.event;
    $(ids.description).textContent = option.description;
    $(ids.send).textContent = `Send: ${words}`;
    $(ids.form).hidden = false;
    const first = fields.querySelector("input, select, textarea");
    if (first) first.focus();
  };
  form.close = () => {
    $(ids.form).reset();
    $(ids.fields).replaceChildren();   // nothing typed, secret or not, stays in the page
    $(ids.form).hidden = true;
    form.event = null;
  };
  $(ids.form).addEventListener("submit", async (e) => {
    e.preventDefault();
    let payload;
    try { payload = readPayload($(ids.fields)); } catch (err) { onSend(null, null, err); return; }
    const event = form.event;
    form.close();          // clears every field, passwords included, before anything else
    await onSend(event, payload, null);
  });
  $(ids.cancel).addEventListener("click", form.close);
  return form;
}

function readPayload(fields) {
  const payload = {};
  for (const input of fields.querySelectorAll("input, select, textarea")) {
    if (input.type === "radio" && !input.checked) continue;
    const raw = input.value;
    if (raw === "" && !input.required) continue;
    const kind = input.dataset.kind;
    if (kind === "enum" || kind === "boolean") payload[input.name] = JSON.parse(raw);
    else if (kind === "integer" || kind === "number") payload[input.name] = raw === "" ? raw : Number(raw);
    else if (kind === "array" || kind === "object") {
      try { payload[input.name] = JSON.parse(raw); } catch (err) { throw new Error(`${input.name}: not valid JSON`); }
    } else payload[input.name] = raw;
  }
  return payload;
}

// -- actions -------------------------------------------------------------------------------

function showResult(data) {
  const box = $("result");
  box.replaceChildren();
  const last = data.state.history[data.state.history.length - 1];
  if (!last) return;
  if (last.accepted) {
    box.append(el("span", {class: "ok", title: last.event}, `${last.label || last.event}: ${last.from} → ${last.to}`));
    if (last.handed_to) box.append(` — now in ${last.handed_to}`);
    if (last.description) box.append(el("div", {class: "muted"}, last.description));
  } else if (last.refusal) {
    const r = last.refusal;
    const head = el("strong", {title: last.event}, `${last.label || last.event} refused`);
    if (r.guard) head.append(` by guard ${r.guard}`);
    if (r.rule) head.append(" ", el("span", {class: "rule"}, `[${r.rule}]`));
    const line = el("span", {class: "refused"}, head, r.message, ` Still in '${last.from}'; nothing changed.`);
    box.append(line);
  } else {
    box.append(el("span", {}, `Waited ${last.wait} s: nothing timed out in '${last.from}'.`));
  }
}

async function send(event, payload) {
  try {
    const data = await api("api/send", {event, payload});
    render(data.state);
    showResult(data);
  } catch (err) {
    $("result").replaceChildren(el("span", {class: "refused"}, err.message));
  }
}

async function refresh() {
  try { render(await api("api/state")); } catch (err) { $("connection").textContent = `cannot reach the studio: ${err.message}`; }
}

function listen() {
  const source = new EventSource("api/events");
  source.onopen = () => { $("connection").textContent = "live: reloads when the workflow files change"; };
  source.onerror = () => { $("connection").textContent = "reconnecting…"; };
  source.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (!view || data.version !== view.version) refresh();
  };
}

function wire() {
  $("engineer-view").addEventListener("change", (e) => document.body.classList.toggle("engineer-view", e.target.checked));
  playgroundForm = payloadForm("payload", async (event, payload, error) => {
    if (error) { $("result").replaceChildren(el("span", {class: "refused"}, error.message)); return; }
    await send(event, payload);
    $("events-heading").focus();
  });
  wireInstances();   // the operations view: instances.js
  $("wait-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const data = await api("api/wait", {seconds: Number($("wait-seconds").value)});
      render(data.state);
      showResult(data);
    } catch (err) { $("result").replaceChildren(el("span", {class: "refused"}, err.message)); }
  });
  $("start-data").addEventListener("input", (e) => { e.target.dataset.touched = "1"; });
  $("start-workflow").addEventListener("change", () => { delete $("start-data").dataset.touched; });
  $("reset-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    let data;
    const text = $("start-data").value.trim();
    try { data = text ? JSON.parse(text) : {}; } catch (err) { $("result").replaceChildren(el("span", {class: "refused"}, "start data: not valid JSON")); return; }
    const start = $("start-workflow").value;
    const body = start === view.start ? {start, data} : {start};
    try {
      const result = await api("api/reset", body);
      delete $("start-data").dataset.touched;
      playgroundForm.close();
      $("result").replaceChildren(el("span", {class: "ok"}, `Started ${result.state.start} again.`));
      render(result.state);
    } catch (err) { $("result").replaceChildren(el("span", {class: "refused"}, err.message)); }
  });
  $("save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const link = $("scenario-download");
    try {
      const data = await api("api/scenario", {
        name: $("scenario-name").value, description: $("scenario-description").value,
        folder: $("scenario-folder").value, write: true,
      });
      const r = data.result;
      if (link.href) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([r.text], {type: "application/yaml"}));
      link.download = r.name;
      link.hidden = false;
      const run = r.secrets.length
        ? `${r.secrets.map((v) => `${v}=…`).join(" ")} linkflow test ${r.file} (the secret fields are read from these variables, never written to the file)`
        : `linkflow test ${r.file}`;
      $("save-result").textContent = `Saved ${r.file}. Run it with: ${run}`;
    } catch (err) {
      link.hidden = true;
      $("save-result").textContent = `Not saved: ${err.message}`;
    }
  });
  const tabs = [["tab-playground", "playground"], ["tab-coverage", "coverage"], ["tab-instances", "instances"]];
  for (const [tab, panel] of tabs) {
    $(tab).addEventListener("click", () => {
      for (const [t, p] of tabs) {
        $(t).setAttribute("aria-pressed", String(t === tab));
        $(p).hidden = p !== panel;
      }
      if (panel === "coverage" && !coverage) measure();
      if (panel === "instances") listInstances();
    });
  }
  $("coverage-form").addEventListener("submit", (e) => { e.preventDefault(); measure(); });
  $("coverage-workflow").addEventListener("change", showCoverage);
}

async function measure() {
  $("coverage-status").textContent = "running the scenarios…";
  try {
    coverage = await api(`api/coverage?folder=${encodeURIComponent($("coverage-folder").value)}`);
  } catch (err) { $("coverage-status").textContent = err.message; return; }
  $("coverage-status").textContent = `${coverage.scenarios} scenario file(s) in ${coverage.folder}` + (coverage.problems.length ? `; problems: ${coverage.problems.join("; ")}` : "");
  $("coverage-table").textContent = coverage.table;
  const select = $("coverage-workflow");
  const keep = select.value;
  select.replaceChildren(...coverage.workflows.map((w) => el("option", {value: w.name}, w.name)));
  if (coverage.workflows.some((w) => w.name === keep)) select.value = keep;
  else if (view && coverage.workflows.some((w) => w.name === view.current.workflow)) select.value = view.current.workflow;
  showCoverage();
}

function showCoverage() {
  const chosen = coverage && coverage.workflows.find((w) => w.name === $("coverage-workflow").value);
  if (!chosen) { $("coverage-diagram").replaceChildren(); return; }
  $("coverage-caption").textContent = `Coverage of ${chosen.name}`;
  renderDiagram($("coverage-diagram"), chosen.svg, "");
}

// -- the instances view: instances.js ------------------------------------------------------

async function start() {
  wire();
  try {
    const defaults = await api("api/defaults");
    $("scenario-folder").value = defaults.scenario_folder;
    $("coverage-folder").value = defaults.coverage_folder;
    $("tab-instances").hidden = !defaults.instances;
  } catch (err) { /* the fields stay empty; the server uses its defaults */ }
  await refresh();
  listen();
}

start();
