// Replays linkflow's scenario runs in XState v5 and compares the active state after each step.
//
// Input (stdin, JSON): {machines: {name: config}, scenarios: [{name, workflow, steps}]}, where
// the configs are `linkflow export --format xstate` output and each step is
//   {kind: "send", event, guards: {name: held}, skip, expect: [workflow, [leaves]], handoff}
//   {kind: "wait", ms, expect: [workflow, [leaves]]}
//   {kind: "answer", id, ok, answer, guards, expect: [workflow, [leaves]]}
// as linkflow ran it. A guard's outcome is the one linkflow recorded for that step: XState
// decides which transition that outcome selects. A step linkflow refused before its machine
// (payload, choices, a failed action: `skip`) is not sent. An `answer` is a scenario's
// `respond`/`fail` for the invoke named `id`: linkflow took it as `<id>.done` (ok) or
// `<id>.failed`, and XState gets `xstate.done.actor.<id>` (`output`) or `xstate.error.actor.<id>`
// (`error`), the events its invoked actor would raise; the actors provided here never settle,
// and the answer is sent only when XState has that actor running. Output (stdout, JSON):
// {scenarios, steps, compared, mismatches: [...]}. One process for every scenario.
import { createActor, createMachine, fromPromise, SimulatedClock } from "xstate";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));

let outcomes = {};
let asked = [];
function holds(label) {
  const negated = label.startsWith("!");
  const name = negated ? label.slice(1) : label;
  if (!(name in outcomes)) {
    asked.push(name);
    return false;
  }
  return negated ? !outcomes[name] : outcomes[name];
}

const guardNames = new Set();
const actionTypes = new Set();
const actorNames = new Set();
function collect(node) {
  if (node.invoke) actorNames.add(node.invoke.src);
  const invoked = node.invoke ? [node.invoke.onDone ?? [], node.invoke.onError ?? []] : [];
  for (const list of [...Object.values(node.on ?? {}), node.onDone ?? [], ...invoked]) {
    for (const t of list) {
      if (typeof t.guard === "string") guardNames.add(t.guard);
      for (const a of t.actions ?? []) actionTypes.add(a.type);
    }
  }
  for (const a of [...(node.entry ?? []), ...(node.exit ?? [])]) actionTypes.add(a.type);
  for (const child of Object.values(node.states ?? {})) collect(child);
}
for (const config of Object.values(input.machines)) collect(config);

const guards = { "linkflow.all": (_, params) => params.guards.every(holds) };
for (const name of guardNames) guards[name] = () => holds(name);
const actions = {};
for (const type of actionTypes) actions[type] = () => {}; // data and world stay linkflow's
// an invoked service: an actor that never settles; its answer is the scenario's, sent below
const actors = {};
for (const name of actorNames) actors[name] = fromPromise(() => new Promise(() => {}));

const machines = {};
for (const [name, config] of Object.entries(input.machines)) {
  machines[name] = createMachine(config, { guards, actions, actors });
}

// The active leaves, as dotted paths: ["draft"] today, ["parent.child", ...] with nesting.
function leaves(value, prefix = "") {
  if (typeof value === "string") return [prefix + value];
  return Object.entries(value).flatMap(([key, sub]) => leaves(sub, `${prefix}${key}.`)).sort();
}

// linkflow enters the next state when a wait ran out, not when time is next looked at: move
// the clock from one due timer to the next, so a chain of timeouts fires link by link.
function advance(clock, ms) {
  const until = clock.now() + ms;
  for (;;) {
    const due = [...clock.timeouts.values()].map((t) => t.start + t.timeout).filter((t) => t <= until);
    if (due.length === 0) break;
    clock.set(Math.max(clock.now(), Math.min(...due)));
  }
  clock.set(until);
}

const report = { scenarios: 0, steps: 0, compared: 0, sent: 0, skipped: 0, answered: 0, mismatches: [] };
for (const scenario of input.scenarios) {
  report.scenarios += 1;
  const clock = new SimulatedClock();
  let workflow = scenario.workflow;
  let actor = createActor(machines[workflow], { clock }).start();
  const fail = (number, message) => report.mismatches.push({ scenario: scenario.name, step: number, message });
  for (const step of scenario.steps) {
    report.steps += 1;
    if (step.kind === "answer") {
      outcomes = step.guards;
      asked = [];
      if (!actor.getSnapshot().children[step.id]) {
        fail(step.number, `linkflow answered the call '${step.id}'; XState runs no actor '${step.id}' in ${JSON.stringify(actor.getSnapshot().value)}`);
        break;
      }
      report.answered += 1;
      actor.send(step.ok
        ? { type: `xstate.done.actor.${step.id}`, output: step.answer }
        : { type: `xstate.error.actor.${step.id}`, error: step.answer });
      if (asked.length) fail(step.number, `XState asked for guards linkflow did not check: ${asked.join(", ")}`);
    } else if (step.kind === "send") {
      outcomes = step.guards;
      asked = [];
      if (step.skip) {
        report.skipped += 1;
      } else {
        report.sent += 1;
        actor.send({ type: step.event });
      }
      if (asked.length) fail(step.number, `XState asked for guards linkflow did not check: ${asked.join(", ")}`);
    } else {
      advance(clock, step.ms);
    }
    const snapshot = actor.getSnapshot();
    if (step.handoff) {
      const meta = snapshot.getMeta();
      const here = Object.values(meta).map((m) => m?.linkflow?.handoff).find(Boolean);
      if (snapshot.status !== "done" || here !== step.handoff) {
        fail(step.number, `linkflow handed off to ${step.handoff}; XState is ${snapshot.status} in ${JSON.stringify(snapshot.value)} (handoff: ${here ?? "none"})`);
        break;
      }
      workflow = step.handoff;
      actor = createActor(machines[workflow], { clock }).start();
    }
    const got = [workflow, leaves(actor.getSnapshot().value)];
    report.compared += 1;
    if (JSON.stringify(got) !== JSON.stringify(step.expect)) {
      fail(step.number, `linkflow: ${JSON.stringify(step.expect)}, XState: ${JSON.stringify(got)}`);
      break;
    }
  }
}
process.stdout.write(JSON.stringify(report));
