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

/** A count with its noun: "1 attempt", "3 attempts", "2 dead deliveries". */
const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

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

const engineer = () => document.body.classList.contains("engineer-view");
// The playground's requests ask for the diagram of the view the toggle shows.
const withView = (path) => (engineer() ? `${path}?view=engineer` : path);

function render(state) {
  view = state;
  renderProblems(state);
  renderCurrent(state);
  renderDiagram($("diagram"), state.diagram, state.current.state);
  playgroundZoom.drawn();
  renderEvents(state);
  renderHistory(state);
  renderRecords(state);
  renderStart(state);
  const timeout = state.current.timeout;
  $("clock").textContent = `${state.elapsed} s have passed in this session.` + (timeout
    ? ` '${state.current.words}' times out after ${timeout.seconds} s; ${timeout.remaining} s left.`
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
  // No start data at all (the studio `linkflow serve` mounts was given none): say where to
  // choose them, until the first step.
  $("start-prompt").hidden = Object.keys(state.start_data).length > 0 || state.history.length > 0;
}

function renderCurrent(state) {
  const cur = state.current;
  $("state-heading").textContent = cur.words;
  $("state-heading").title = `state ${cur.state}`;
  const line = $("current");
  line.replaceChildren(el("span", {}, `${cur.title} · state `), el("code", {}, cur.state));
  if (cur.outcome) line.append(el("span", {class: `badge ${cur.outcome}`}, cur.outcome.replace("_", " ")));
  $("current-step").textContent = [cur.description, cur.step && `Next: ${cur.step}`].filter(Boolean).join(" ");
  $("chain").textContent = state.chain.length > 1 ? `Workflows so far: ${state.chain.join(" → ")}` : `Workflow: ${cur.workflow} (${cur.file})`;
  const which = state.diagram_view === "engineer" ? "engineer view" : "reader view";
  $("diagram-caption").textContent = `${cur.title}, ${which}`;
}

function renderDiagram(box, svgText, current) {
  const start = svgText.indexOf("<svg");
  const doc = new DOMParser().parseFromString(svgText.slice(start), "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") { box.textContent = "the diagram could not be drawn"; return; }
  svg.setAttribute("focusable", "false");
  box.replaceChildren(document.importNode(svg, true));
  if (!current) return;
  // in a parallel state the state is its regions' leaves joined by "+": each is outlined
  const active = new Set(current.split("+"));
  for (const node of box.querySelectorAll("g.node")) {
    const title = node.querySelector("title");
    if (title && active.has(title.textContent)) node.classList.add("current");
  }
}

// Zoom and pan for a diagram box: buttons, Ctrl+wheel, dragging, and the keys + - 0 (the
// arrows scroll the focused box). "Fit" shows the whole width of the panel, and as much of its
// height as fits, without letting any text fall below 10 px.
const MIN_TEXT_PX = 10;
const PX_PER_PT = 4 / 3;

function zoomable(box, prefix) {
  const state = {scale: 1, fitted: true, width: 0, height: 0, minText: 11};
  const svg = () => box.querySelector("svg");
  const level = $(`${prefix}-zoom-level`);
  box.classList.add("zoomable");
  // The most height the panel takes: the window less the header and the zoom bar (60 % of it
  // on a narrow window); it shrinks to a picture that needs less.
  const tallest = () => Math.max(288, window.innerWidth <= 900 ? window.innerHeight * 0.6 : window.innerHeight - 160);
  function size() {
    const picture = svg();
    if (!picture) return;
    picture.style.width = `${state.width * state.scale}px`;
    picture.style.height = `${state.height * state.scale}px`;
    box.style.height = `${Math.min(tallest(), state.height * state.scale + 24)}px`;
    level.textContent = `${Math.round(state.scale * 100)} %`;
  }
  function fitScale() {
    const floor = (MIN_TEXT_PX / (state.minText * PX_PER_PT)) * 1.005;  // rounding: never 9.99
    const room = Math.min((box.clientWidth - 4) / state.width, (tallest() - 4) / state.height);
    return Math.min(1.5, Math.max(floor, room));
  }
  function fit() { state.fitted = true; state.scale = fitScale(); size(); box.scrollTo(0, 0); }
  function by(factor, x, y) {
    const before = state.scale;
    state.scale = Math.min(4, Math.max(0.2, state.scale * factor));
    state.fitted = false;
    const px = x === undefined ? box.clientWidth / 2 : x;
    const py = y === undefined ? box.clientHeight / 2 : y;
    const ratio = state.scale / before;
    const left = (box.scrollLeft + px) * ratio - px;
    const top = (box.scrollTop + py) * ratio - py;
    size();
    box.scrollTo(left, top);
  }
  function drawn() {
    const picture = svg();
    if (!picture) return;
    const viewBox = (picture.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
    state.width = (viewBox[2] || parseFloat(picture.getAttribute("width")) || 100) * PX_PER_PT;
    state.height = (viewBox[3] || parseFloat(picture.getAttribute("height")) || 100) * PX_PER_PT;
    const sizes = [...picture.querySelectorAll("text[font-size]")].map((t) => parseFloat(t.getAttribute("font-size"))).filter((n) => n > 0);
    state.minText = sizes.length ? Math.min(...sizes) : 11;
    picture.removeAttribute("width");
    picture.removeAttribute("height");
    if (state.fitted) state.scale = fitScale();
    size();
  }
  $(`${prefix}-zoom-in`).addEventListener("click", () => by(1.25));
  $(`${prefix}-zoom-out`).addEventListener("click", () => by(0.8));
  $(`${prefix}-fit`).addEventListener("click", fit);
  box.addEventListener("wheel", (e) => {
    if (!e.ctrlKey && !e.metaKey) return;   // a plain wheel scrolls, as everywhere
    e.preventDefault();
    const at = box.getBoundingClientRect();
    by(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - at.left, e.clientY - at.top);
  }, {passive: false});
  box.addEventListener("keydown", (e) => {
    if (e.key === "+" || e.key === "=") by(1.25);
    else if (e.key === "-" || e.key === "_") by(0.8);
    else if (e.key === "0") fit();
    else return;
    e.preventDefault();
  });
  let drag = null;
  box.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, left: box.scrollLeft, top: box.scrollTop};
    box.setPointerCapture(e.pointerId);
    box.classList.add("dragging");
  });
  box.addEventListener("pointermove", (e) => {
    if (!drag) return;
    box.scrollTo(drag.left - (e.clientX - drag.x), drag.top - (e.clientY - drag.y));
  });
  const stop = () => { drag = null; box.classList.remove("dragging"); };
  box.addEventListener("pointerup", stop);
  box.addEventListener("pointercancel", stop);
  window.addEventListener("resize", () => { if (state.fitted) { state.scale = fitScale(); size(); } });
  return {drawn, fit, by, state};
}

function reasonText(option) {
  if (option.available === true) return option.reason || "";
  if (option.available === null) return "depends on what you fill in: send it to find out";
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
    const words = item.label || item.event;
    let line;
    if (item.kind === "wait" && !item.event) line = `Waited ${item.wait} s: nothing timed out (still at ${item.from_words})`;
    else if (item.kind === "wait") line = `Waited ${item.wait} s: timed out, ${item.from_words} → ${item.to_words}`;
    else if (item.accepted) line = `${words}: ${item.from_words} → ${item.to_words}`;
    else line = `${words}: refused (still at ${item.from_words})`;
    const ids = item.event ? `${item.workflow}: ${item.event}: ${item.from} → ${item.to}` : `${item.workflow}: ${item.from}`;
    li.append(el("strong", {title: ids}, line), el("code", {class: "engineer"}, ids));
    const sent = Object.entries(item.payload_words || {});
    if (sent.length) li.append(el("div", {class: "sent"}, `with ${sent.map(([k, v]) => `${k}: ${v}`).join(", ")}`));
    if (Object.keys(item.payload).length) li.append(el("code", {class: "engineer"}, JSON.stringify(item.payload)));
    if (item.handed_to) li.append(el("div", {}, `hands over to ${item.handed_to}`));
    if (item.calls && item.calls.length) {
      // the playground performs no call: the person answers in the service's place
      const ul = el("ul", {class: "calls"});
      for (const c of item.calls) {
        const answer = c.answers ? `; answer in its place with ${c.name}.done or ${c.name}.failed` : "";
        ul.append(el("li", {}, `${c.kind} ${c.name}: ${c.method} ${c.url} (service ${c.service}; not performed here${answer})`));
      }
      li.append(ul);
    }
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
  if (document.activeElement !== select && !select.dataset.touched) select.value = state.start;
  const form = $("start-fields");
  const version = JSON.stringify([state.start_form, state.start_data]);
  if (!form.dataset.touched && form.dataset.version !== version && !form.contains(document.activeElement)) {
    renderStartFields(state.start_form, state.start_data);
    form.dataset.version = version;
  }
  const world = state.world;
  $("world-name").textContent = world.file ? `World: ${world.name} (${world.file}), a fresh copy on every reset.`
    : world.name ? `World: ${world.name}, a fresh copy on every reset.` : "No world file: an empty world.";
}

// The start data as a form: the fields a binding reads the world by first (a choice among the
// records, by name), the others folded under "More data fields" with their defaults.
function renderStartFields(startForm, values) {
  const box = $("start-fields");
  box.replaceChildren();
  const props = startForm.schema.properties || {};
  const more = el("div");
  for (const [name, prop] of Object.entries(props)) {
    const bound = startForm.bound.includes(name);
    const parts = fieldInput("start-field", name, prop, false, false, undefined, startForm.suggestions[name]).filter(Boolean);
    (bound ? box : more).append(...parts);
  }
  if (more.children.length) box.append(el("details", {class: "more-fields"}, el("summary", {}, "More data fields"), more));
  for (const name of Object.keys(props)) {   // once every field is in the page
    const value = values && name in values ? values[name] : startForm.defaults[name];
    setField(`start-field-${name}`, value, startForm.defaults[name]);
  }
}

function setField(id, value, fallback) {
  const input = $(id);
  if (!input) return;
  const chosen = value === undefined ? fallback : value;
  if (input.tagName === "SELECT") {
    const wanted = input.dataset.kind === "string" ? String(chosen ?? "") : JSON.stringify(chosen);
    const option = [...input.options].find((o) => o.value === wanted && !o.dataset.other);
    if (option) input.value = wanted;
    else if (chosen !== "" && chosen !== null && chosen !== undefined && $(`${id}-other`)) {
      input.value = "";
      [...input.options].find((o) => o.dataset.other).selected = true;
      $(`${id}-other`).hidden = false;
      $(`${id}-other`).value = String(chosen);
    }
  } else if (input.dataset.kind === "array" || input.dataset.kind === "object") input.value = JSON.stringify(chosen ?? null);
  else input.value = chosen === null || chosen === undefined ? "" : String(chosen);
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
      group.append(el("div", {class: "choice"}, radio, " ", el("label", {for: `${id}-${n}`, title: `id: ${choice.value}`}, choice.label), el("code", {class: "engineer"}, String(choice.value))));
    });
    return [group, help ? el("p", {class: "field-help", id: helpId}, help) : null];
  }
  const label = el("label", {for: id}, name, required ? el("span", {class: "required", "aria-hidden": "true"}, " *") : null);
  const enumValues = schema.enum || (schema.items && schema.items.enum);
  if (suggestions && !secret && schema.type !== "array" && schema.type !== "object") {
    // What the field can name in the world: the records by their names; the value sent is
    // the record's key. "Another value" lets a person try one the world does not hold.
    input = el("select", {id, name, required});
    input.append(el("option", {value: ""}, required ? "Choose…" : "(none)"));
    for (const s of suggestions) {
      const option = el("option", {value: s.value, title: s.value, "data-id": s.value, "data-label": s.label}, optionText(s.label, s.value));
      input.append(option);
    }
    const other = el("input", {id: `${id}-other`, name, type: "text", hidden: true, autocomplete: "off", "aria-label": `${name}: another value`});
    other.dataset.kind = schema.type || "string";
    input.append(el("option", {value: "", "data-other": "1"}, "Another value (type it)…"));
    input.addEventListener("change", () => {
      const typing = Boolean(input.selectedOptions[0] && input.selectedOptions[0].dataset.other);
      other.hidden = !typing;
      other.required = typing && required;
      input.required = !typing && required;
      if (typing) other.focus();
    });
    input.dataset.kind = "string";
    if (help) input.setAttribute("aria-describedby", helpId);
    return [label, input, other, help ? el("p", {class: "field-help", id: helpId}, help) : null];
  }
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
  }
  input.dataset.kind = enumValues ? "enum" : (schema.type || "string");
  if (help) input.setAttribute("aria-describedby", helpId);
  return [label, input, help ? el("p", {class: "field-help", id: helpId}, help) : null];
}

// A record's name for people; its key beside it in the engineer view.
function optionText(label, value) {
  return engineer() && label !== value ? `${label} (${value})` : label;
}

function relabelOptions() {
  for (const option of document.querySelectorAll("option[data-id]")) option.textContent = optionText(option.dataset.label, option.dataset.id);
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
    if (input.hidden) continue;     // "another value", not chosen
    if (input.tagName === "SELECT" && input.selectedOptions[0] && input.selectedOptions[0].dataset.other) continue;
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
    box.append(el("span", {class: "ok", title: `${last.event}: ${last.from} → ${last.to}`}, `${last.label || last.event}: ${last.from_words} → ${last.to_words}`));
    if (last.handed_to) box.append(` — now in ${last.handed_to}`);
    if (last.description) box.append(el("div", {class: "muted"}, last.description));
  } else if (last.refusal) {
    const r = last.refusal;
    const head = el("strong", {title: last.event}, `${last.label || last.event} refused`);
    if (r.guard) head.append(` by guard ${r.guard}`);
    if (r.rule) head.append(" ", el("span", {class: "rule"}, `[${r.rule}]`));
    const line = el("span", {class: "refused"}, head, r.message, ` Still at ${last.from_words}; nothing changed.`);
    box.append(line);
  } else {
    box.append(el("span", {}, `Waited ${last.wait} s: nothing timed out at ${last.from_words}.`));
  }
}

// After every step, wherever it was started from, the focus goes to the new state's heading:
// the next Tab reaches what can be done there.
function landed() { $("state-heading").focus(); }

function failed(box, err) { box.replaceChildren(el("span", {class: "refused"}, err.message)); }

async function send(event, payload) {
  try {
    const data = await api(withView("api/send"), {event, payload});
    render(data.state);
    showResult(data);
  } catch (err) {
    failed($("result"), err);
  }
  landed();
}

async function refresh() {
  try { render(await api(withView("api/state"))); } catch (err) { $("connection").textContent = `cannot reach the studio: ${err.message}`; }
}

let watching = true;

function listen() {
  const source = new EventSource("api/events");
  source.onopen = () => {
    $("connection").textContent = watching ? "live: reloads when the workflow files change"
      : "runs the definitions the service started with: no reload (restart the service after editing them)";
  };
  source.onerror = () => { $("connection").textContent = "reconnecting…"; };
  source.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (!view || data.version !== view.version) refresh();
  };
}

function readStartData() {
  const box = $("start-fields");
  const data = readPayload(box);
  for (const input of box.querySelectorAll("input, select, textarea")) {
    // a field left empty keeps its default (an empty text is the default of most)
    if (input.value === "" && !input.hidden && data[input.name] === "") delete data[input.name];
  }
  return data;
}

async function loadStartForm(name) {
  try {
    const found = await api(`api/start-form?workflow=${encodeURIComponent(name)}`);
    delete $("start-fields").dataset.touched;
    renderStartFields(found, name === view.start ? view.start_data : {});
    $("start-fields").dataset.version = "";
  } catch (err) { failed($("result"), err); }
}

async function startAgain(start, data) {
  await restart({start, data});
}

// The instances of the store, as choices for "start like it" (read when the list is opened).
async function listStartInstances() {
  const select = $("start-instance");
  if (select.dataset.loaded) return;
  try {
    const found = await api("api/instances?limit=100");
    select.append(...found.instances.map((item) => el("option", {value: item.id}, `${item.id} (${item.workflow}, ${item.state})`)));
    select.dataset.loaded = "1";
  } catch (err) { failed($("result"), err); }
}

async function restart(body) {
  try {
    const result = await api(withView("api/reset"), body);
    delete $("start-fields").dataset.touched;
    delete $("start-workflow").dataset.touched;
    $("start-fields").dataset.version = "";
    playgroundForm.close();
    render(result.state);
    const said = body.instance ? `Started ${result.state.start} with the start data of instance ${body.instance}.` : `Started ${result.state.start} again.`;
    $("result").replaceChildren(el("span", {class: "ok"}, said));
  } catch (err) { failed($("result"), err); }
  landed();
}

function wire() {
  $("engineer-view").addEventListener("change", (e) => {
    document.body.classList.toggle("engineer-view", e.target.checked);
    relabelOptions();
    refresh();
  });
  playgroundZoom = zoomable($("diagram"), "diagram");
  playgroundForm = payloadForm("payload", async (event, payload, error) => {
    if (error) { failed($("result"), error); return; }
    await send(event, payload);
  });
  wireInstances();   // the operations view: instances.js
  wireOutbound();    // its effects and webhooks: outbound.js
  $("wait-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const data = await api(withView("api/wait"), {seconds: Number($("wait-seconds").value)});
      render(data.state);
      showResult(data);
    } catch (err) { failed($("result"), err); }
    landed();
  });
  $("start-fields").addEventListener("input", () => { $("start-fields").dataset.touched = "1"; });
  $("start-workflow").addEventListener("change", (e) => { e.target.dataset.touched = "1"; loadStartForm(e.target.value); });
  $("reset-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    let data;
    try { data = readStartData(); } catch (err) { failed($("result"), err); return; }
    await startAgain($("start-workflow").value, data);
  });
  // Right under the events: the same session again, without going down to the start form.
  $("start-over").addEventListener("click", () => startAgain(view.start, view.start_data));
  $("start-instance").addEventListener("focus", listStartInstances);
  $("start-instance").addEventListener("pointerdown", listStartInstances);
  $("start-instance-go").addEventListener("click", () => {
    const chosen = $("start-instance").value;
    if (!chosen) { failed($("result"), new Error("choose an instance first")); return; }
    restart({instance: chosen});
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
  const tabs = [["tab-playground", "playground"], ["tab-coverage", "coverage"], ["tab-instances", "instances"], ["tab-effects", "effects"], ["tab-webhooks", "webhooks"]];
  for (const [tab, panel] of tabs) {
    $(tab).addEventListener("click", () => {
      for (const [t, p] of tabs) {
        $(t).setAttribute("aria-pressed", String(t === tab));
        $(p).hidden = p !== panel;
      }
      if (panel === "playground") playgroundZoom.drawn();
      if (panel === "coverage" && !coverage) measure();
      if (panel === "coverage" && coverage) coverageZoom.drawn();
      if (panel === "instances") listInstances();
      if (panel === "effects") listEffects();
      if (panel === "webhooks") listWebhooks();
    });
  }
  coverageZoom = zoomable($("coverage-diagram"), "coverage");
  $("coverage-form").addEventListener("submit", (e) => { e.preventDefault(); measure(); });
  $("coverage-workflow").addEventListener("change", showCoverage);
}

let playgroundZoom = null;
let coverageZoom = null;

async function measure() {
  $("coverage-status").textContent = "running the scenarios…";
  try {
    coverage = await api(`api/coverage?folder=${encodeURIComponent($("coverage-folder").value)}`);
  } catch (err) { $("coverage-status").textContent = err.message; return; }
  const reused = coverage.reused ? ` (${coverage.reused} unchanged since the last run: results reused)` : "";
  $("coverage-status").textContent = `${count(coverage.scenarios, "scenario file")} in ${coverage.folder}${reused}` + (coverage.problems.length ? `; problems: ${coverage.problems.join("; ")}` : "");
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
  coverageZoom.drawn();
}

// -- the instances view: instances.js ------------------------------------------------------

async function start() {
  wire();
  try {
    const defaults = await api("api/defaults");
    $("scenario-folder").value = defaults.scenario_folder;
    $("coverage-folder").value = defaults.coverage_folder;
    $("tab-instances").hidden = !defaults.instances;
    $("tab-effects").hidden = !defaults.instances;
    $("tab-webhooks").hidden = !defaults.instances;
    $("start-from-instance").hidden = !defaults.instances;
    watching = defaults.watch;
  } catch (err) { /* the fields stay empty; the server uses its defaults */ }
  await refresh();
  listen();
}

start();
