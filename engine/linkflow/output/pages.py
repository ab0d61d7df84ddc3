"""Docs pages for the people who read them, generated from the workflows alone.

A workflow's page reads top down as a person needs it: what it is for and when to use it, the
click path (one numbered list, from the very first click), the reader diagram (with a link to
the engineer's one and the Mermaid text for code hosts), what is checked, what a refused step
says (the message as a person sees it, taken from running the scenarios), the other endings,
what is assumed rather than sourced, notes; ids, expressions and actions come last, under
"Implementation". The index page (README.md) is the landing page: the entry workflow's first
two notes (where to start, what the source asks for first), what is checked at the first click,
which workflow when and why (with the clicks up to the method's first wait or first change),
the entry picture, the other notes, a glossary (labelled as linkflow's own explanations), the
rule list and every page. Refusal messages are labelled as linkflow's wording; a step whose
failing check hides it is marked "not offered".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from linkflow.language.durations import duration
from linkflow.language.graph import entry_workflows, handoff_order, walking_order
from linkflow.language.markdown import code, md
from linkflow.language.model import Guard, Note, Outcome, Transition, Workflow
from linkflow.output.click_path import click_path, completion, event_path, handoff_paths
from linkflow.output.diagram_text import rule_key
from linkflow.output.docs import GENERATED, implementation, paragraphs
from linkflow.output.mermaid import to_mermaid
from linkflow.output.reader import event_words, reader_diagram, state_words, words
from linkflow.output.refusal_examples import Examples
from linkflow.output.rule_list import Rule

_ENDINGS = {
    Outcome.CANCELLED: "closed",
    Outcome.REFUSED: "refused",
    Outcome.DECLINED: "declined",
    Outcome.FAILED: "failed",
    Outcome.TIMED_OUT: "timed out",
}


@dataclass(frozen=True)
class Context:
    """What a page may show besides its own workflow."""

    workflows: Mapping[str, Workflow]
    diagrams: str = "../diagrams"
    examples: Examples = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()


def _sentence(text: str) -> str:
    flat = " ".join(text.split())
    return flat if flat.endswith((".", "!", "?")) else flat + "."


def _numbered(items: Sequence[str]) -> list[str]:
    return [f"{number}. {md(item)}" for number, item in enumerate(items, 1)]


def _diagram(workflow: Workflow, context: Context) -> list[str]:
    title = md(workflow.title or workflow.name)
    base = f"{context.diagrams}/{workflow.name}"
    mermaid = to_mermaid(reader_diagram(workflow)).rstrip("\n")
    return [
        "## Diagram",
        "",
        f"![{title}: what a person sees and does]({base}.reader.svg)",
        "",
        f"The engineer's view, with state ids, guards and actions: [{workflow.name}.svg]"
        f"({base}.svg).",
        "",
        "<details><summary>The same picture as Mermaid (code hosts draw it inline)</summary>",
        "",
        "```mermaid",
        mermaid,
        "```",
        "",
        "</details>",
        "",
    ]


def _click_path(workflow: Workflow, context: Context) -> list[str]:
    handoffs = handoff_paths(context.workflows, workflow.name)
    if not handoffs:
        items = click_path(context.workflows, workflow.name)
        return ["## Click path", "", *_numbered(items), ""] if items else []
    paths = list(handoffs.values())
    common = 0
    while all(len(p) > common and p[common] == paths[0][common] for p in paths):
        common += 1
    out = ["## Click path", "", *_numbered(paths[0][:common]), ""]
    out += ["Then, depending on the choice:", "", "| Continues with | Next steps |", "|---|---|"]
    for state_name, items in handoffs.items():
        target = workflow.states[state_name].handoff
        title = context.workflows[target].title if target in context.workflows else target
        steps = " ".join(md(item) for item in items[common:])
        out.append(f"| [{md(title or target)}]({target}.md) | {steps} |")
    return [*out, ""]


def _uses(workflow: Workflow) -> list[tuple[Guard, Transition]]:
    """Each guard once per event, in walking order of the states it is checked in."""
    position = {name: i for i, name in enumerate(walking_order(workflow))}
    seen: set[tuple[str, str]] = set()
    out: list[tuple[Guard, Transition]] = []
    ordered = sorted(workflow.transitions, key=lambda t: min(position[s] for s in t.sources))
    for transition in ordered:
        for use in transition.guards:
            key = (use.label, transition.event)
            if key not in seen:
                seen.add(key)
                out.append((use.guard, transition))
    return out


def _offered(workflow: Workflow) -> list[str]:
    """Each list a person picks from: what it holds, in words."""
    out: list[str] = []
    for event in workflow.events.values():
        for choices in event.choices.values():
            what = choices.description or words(choices.field).lower()
            rule = f" ({choices.rule})" if choices.rule else ""
            label = md(event.label or words(event.name))
            out.append(
                f"- On **{label}**: the {md(words(choices.field).lower())} is picked from"
                f" {md(what)}{rule}."
            )
    return out


def _checks(workflow: Workflow) -> list[str]:
    uses = _uses(workflow)
    offered = _offered(workflow)
    if not uses and not offered:
        return []
    out = ["## What is checked", "", *offered]
    for guard, transition in uses:
        words = _sentence(guard.description) if guard.description else code(guard.name)
        rule = f" ({guard.rule})" if guard.rule else ""
        when = md(event_words(workflow, transition))
        out.append(f"- On **{when}**: {md(words)}{rule}")
    return [*out, ""]


def _reads_payload(workflow: Workflow, guard: Guard) -> bool:
    """Whether a guard reads what is sent with the step, directly or through a binding's key."""
    names = guard.when.names
    if "payload" in names:
        return True
    return any("payload" in workflow.bindings[n].key.names for n in names if n in workflow.bindings)


def _not_offered(workflow: Workflow, transition: Transition, guard: Guard) -> bool:
    """Whether this guard failing hides the step: it reads nothing sent with the step, and
    the step needs nothing sent (so no payload could make it go through)."""
    event = workflow.events.get(transition.event)
    required = (event.payload_schema or {}).get("required") if event is not None else None
    return not required and not _reads_payload(workflow, guard)


def _refused(workflow: Workflow, context: Context) -> list[str]:
    rows: list[str] = []
    hidden = False
    for event in workflow.events.values():
        found = context.examples.get((workflow.name, "", event.name))
        if found is not None:
            rules = ", ".join(sorted({c.rule for c in event.choices.values() if c.rule}))
            label = event.label or words(event.name)
            hidden = True
            rows.append(
                f"| {md(label)} (the value is not in the list shown) | {md(found.message)} "
                f"| {rules} |"
            )
    for transition in workflow.transitions:
        for use in transition.guards:
            found = context.examples.get((workflow.name, use.label, transition.event))
            if found is None:
                continue
            step = md(event_words(workflow, transition))
            if _not_offered(workflow, transition, use.guard):
                hidden = True
                step += " (not offered)"
            rule = use.guard.rule + (" (assumed check)" if use.guard.assumption else "")
            row = f"| {step} | {md(found.message)} | {rule} |"
            if row not in rows:
                rows.append(row)
    if not rows:
        return []
    intro = (
        "A refused step changes nothing; the person stays where they were. The messages below"
        " are linkflow's wording, not the product's (the source quotes no error texts); they"
        " come from running the scenarios on their example data."
    )
    if hidden:
        intro += (
            " A step marked *not offered* is not shown at all while its check fails, and a value"
            " outside the list shown cannot be picked: there the message is the reason given"
            " when someone asks why, not something shown after a click."
        )
    return [
        "## When a step is refused",
        "",
        intro,
        "",
        "| Step | linkflow's message | Rule |",
        "|---|---|---|",
        *rows,
        "",
    ]


def _endings(workflow: Workflow) -> list[str]:
    out: list[str] = []
    for name in walking_order(workflow):
        state = workflow.states[name]
        if state.final is None or state.final is Outcome.COMPLETED:
            continue
        line = f"- **{md(state_words(state))}** ({_ENDINGS[state.final]})"
        if state.description:
            line += f": {md(_sentence(state.description))}"
        waits: list[str] = []
        for transition in workflow.transitions:
            if transition.is_timeout and transition.target == name:
                source = workflow.states[transition.sources[0]]
                timeout = source.waiting.timeout if source.waiting else None
                if timeout is not None:
                    assumed = " (assumed)" if timeout.assumption else ""
                    waits.append(
                        f"{duration(timeout.seconds)} at {md(state_words(source))}{assumed}"
                    )
        if waits:
            line += " Waits end after " + "; ".join(waits) + "."
        out.append(line)
    return ["## Other endings", "", *out, ""] if out else []


def _assumptions(workflow: Workflow) -> list[str]:
    assumed = workflow.assumptions()
    if not assumed:
        return []
    out = ["## Assumptions", "", "The source does not say these; the workflow assumes them:", ""]
    return [*out, *(f"- {md(_sentence(text))}" for text in assumed), ""]


def _note(note: Note) -> list[str]:
    rule = f" ({note.rule})" if note.rule else ""
    return [f"## {md(note.title)}", "", md(note.text) + rule, ""]


def _notes(notes: Sequence[Note]) -> list[str]:
    return [line for note in notes for line in _note(note)]


def _use(workflow: Workflow) -> list[str]:
    out: list[str] = []
    if workflow.use_when:
        out.append(f"**Use it when:** {md(workflow.use_when)}")
    if workflow.why:
        out.append(f"**Why:** {md(workflow.why)}")
    return [" ".join(out), ""] if out else []


def workflow_page(
    workflow: Workflow, diagrams: str = "../diagrams", context: Context | None = None
) -> str:
    """The Markdown page of one workflow; `diagrams` is the diagrams folder, relative."""
    context = context or Context({workflow.name: workflow}, diagrams)
    title = workflow.title or workflow.name
    out: list[str] = [f"# {md(title)}", "", GENERATED.format(file=code(workflow.file)), ""]
    for paragraph in paragraphs(workflow.description) if workflow.description else []:
        out += [paragraph, ""]
    out += _use(workflow)
    out += _click_path(workflow, context)
    out += _diagram(workflow, context)
    out += _checks(workflow)
    out += _refused(workflow, context)
    out += _endings(workflow)
    out += _assumptions(workflow)
    out += _notes(workflow.notes)
    out += implementation(workflow)
    return "\n".join(out).rstrip("\n") + "\n"


# -- the landing page ------------------------------------------------------------------------


def _entry(workflows: Mapping[str, Workflow]) -> Workflow | None:
    """The one workflow people start in, when exactly one hands off to others."""
    entries = [
        workflows[n]
        for n in entry_workflows(workflows)
        if any(s.handoff for s in workflows[n].states.values())
    ]
    return entries[0] if len(entries) == 1 else None


def _before_you_begin(entry: Workflow) -> list[str]:
    first = [t for t in entry.transitions if entry.initial in t.sources and t.guards]
    lines: list[str] = []
    for transition in first:
        for use in transition.guards:
            guard = use.guard
            words = _sentence(guard.description) if guard.description else guard.name
            line = f"- {md(words)}" + (f" ({guard.rule})" if guard.rule else "")
            if guard.assumption:
                line += f" Assumed: {md(_sentence(guard.assumption))}"
            if line not in lines:
                lines.append(line)
    if not lines:
        return []
    step = md(event_words(entry, first[0]))
    hidden = all(_not_offered(entry, t, u.guard) for t in first for u in t.guards)
    then = " while one fails, the step is not offered." if hidden else ""
    return [
        "## Checked at the first click",
        "",
        f"linkflow checks all of these when **{step}** is clicked;{then} Each names the rule it"
        " comes from.",
        "",
        *lines,
        "",
    ]


def _first_clicks(method: Workflow) -> list[str]:
    """The clicks a method starts with, up to its first wait for an answer from outside or
    through its first click that changes something beyond the flow's own data."""
    if method.states[method.initial].waiting is not None:
        return []
    out: list[str] = []
    for _, transition in completion(method) or []:
        out.append(event_words(method, transition))
        target = method.states[transition.target]
        changes = any(a.target.root != "data" for a in transition.actions)
        if changes or target.waiting is not None or target.final is not None:
            break
    return out


def _which_when(entry: Workflow, workflows: Mapping[str, Workflow]) -> list[str]:
    rows: list[str] = []
    for name in walking_order(entry):
        target = entry.states[name].handoff
        if not target or target not in workflows:
            continue
        method = workflows[target]
        clicks = event_path(entry, name) + _first_clicks(method)
        buttons = " → ".join(md(b) for b in clicks)
        rows.append(
            f"| [{md(method.title or target)}]({target}.md) | {md(method.use_when)} | "
            f"{md(method.why)} | {buttons} |"
        )
    if not rows:
        return []
    return [
        "## Which one when",
        "",
        "| Method | Use it when | Why | Clicks |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


def _glossary(workflows: Mapping[str, Workflow]) -> list[str]:
    terms: dict[str, str] = {}
    for name in handoff_order(workflows):
        for term, meaning in workflows[name].glossary.items():
            terms.setdefault(term, meaning)
    if not terms:
        return []
    rows = [f"| {md(term)} | {md(meaning)} |" for term, meaning in terms.items()]
    intro = (
        "linkflow's short explanations of the words these pages use, written for them; they are"
        " not quoted from the source."
    )
    return [
        "## Glossary",
        "",
        intro,
        "",
        "| Word | linkflow's explanation |",
        "|---|---|",
        *rows,
        "",
    ]


def _rules(rules: Sequence[Rule]) -> list[str]:
    if not rules:
        return []
    out = ["## Rules", "", "Every rule the workflows name, with its id (from `RULES.md`):"]
    section = None
    for rule in rules:
        if rule.section != section:
            section = rule.section
            out += ["", f"### {md(section)}", ""] if section else [""]
        out.append(f"- **{rule.id}** {md(rule.text)}")
    return [*out, ""]


def _all_pages(workflows: Mapping[str, Workflow], diagrams: str, overview: bool) -> list[str]:
    out = [
        "## All pages",
        "",
        "Each page is generated from one workflow file: what it is for, the click path, the"
        " diagram, what is checked and refused, and its implementation.",
        "",
    ]
    if overview:
        out += [f"![How the workflows hand over to each other]({diagrams}/overview.svg)", ""]
    out += ["| Workflow | What it is for | Starts from | Rules |", "|---|---|---|---|"]
    for name in handoff_order(workflows):
        workflow = workflows[name]
        title = md(workflow.title or name)
        first = workflow.description.strip().split(". ")[0].rstrip(".")
        sources = sorted(
            w.name for w in workflows.values() if any(s.handoff == name for s in w.states.values())
        )
        start = ", ".join(f"[{s}]({s}.md)" for s in sources) or "entry"
        rules = ", ".join(sorted(workflow.rule_ids(), key=_rule_key))
        out.append(f"| [{title}]({name}.md) ({code(name)}) | {md(first)} | {start} | {rules} |")
    return [*out, ""]


def _rule_key(rule: str) -> tuple[str, int]:
    return rule_key(rule)


def index_page(
    workflows: Mapping[str, Workflow],
    diagrams: str = "../diagrams",
    overview: bool = True,
    rules: Sequence[Rule] = (),
) -> str:
    """docs/flows/README.md: the landing page of the flows."""
    entry = _entry(workflows)
    title = (entry.title or entry.name) if entry else "Workflows"
    out = [f"# {md(title)}", "", GENERATED.format(file="the workflow files"), ""]
    if entry is not None:
        for paragraph in paragraphs(entry.description) if entry.description else []:
            out += [paragraph, ""]
        out += _notes(entry.notes[:2])  # where to start, what the source asks for first
        out += _before_you_begin(entry)
        out += _which_when(entry, workflows)
        name = md(entry.title or entry.name)
        out += [
            f"![{name}: the branches and options]({diagrams}/{entry.name}.reader.svg)",
            "",
            f"Step by step: [{name}]({entry.name}.md).",
            "",
        ]
        out += _notes(entry.notes[2:])
    out += _glossary(workflows)
    out += _rules(rules)
    out += _all_pages(workflows, diagrams, overview)
    return "\n".join(out).rstrip("\n") + "\n"


def doc_files(
    workflows: Mapping[str, Workflow],
    diagrams: str = "../diagrams",
    examples: Examples | None = None,
    rules: Sequence[Rule] = (),
) -> dict[str, bytes]:
    """Every page, by file name, as bytes."""
    by_name = {w.name: w for w in workflows.values()}
    context = Context(by_name, diagrams, examples or {}, tuple(rules))
    files = {
        f"{name}.md": workflow_page(workflow, diagrams, context).encode("utf-8")
        for name, workflow in sorted(workflows.items())
    }
    index = index_page(workflows, diagrams, overview=len(workflows) > 1, rules=rules)
    files["README.md"] = index.encode("utf-8")
    return files
