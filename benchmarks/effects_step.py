"""What effects cost a step in memory: the same two-state loop taken with no effect (a
workflow that calls nothing), and with one invoke planned and resolved (URL and body from the
data) on every step into the invoking state. The first row is the rule that matters: a
workflow without `invoke` or `notify` has no effect plan, so its steps do no work for effects;
the second shows what resolving one call adds."""

from __future__ import annotations

from pathlib import Path

from benchmarks.figures import Config, Figure
from benchmarks.timing import interleaved, per_item_us
from linkflow.language.loader import load
from linkflow.runtime.engine import Engine

PLAIN = "step, no effects (a workflow that calls nothing)"
INVOKE = "step into a state that invokes (one call resolved)"

_SERVICES = """\
services:
  stock:
    base_url: http://127.0.0.1:9
    path: /items/{data.sku}
    response: {left: integer}
"""
_WORKFLOW = """\
workflow: loop_{name}
initial: a
data: {{sku: "k-1", count: 0}}
states:
  a: {{}}
  b: {{{invoke}}}
  end: {{final: completed}}
events: {{go: {{}}, stop: {{}}{extra}}}
transitions:
  - {{event: go, from: a, to: b, actions: [{{set: {{path: data.count, value: data.count + 1}}}}]}}
  - {{event: {back}, from: b, to: a}}
  - {{event: stop, from: a, to: end}}
{more}"""


def _engines(folder: Path) -> tuple[Engine, Engine]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "services.yaml").write_text(_SERVICES, encoding="utf-8")
    plain = _WORKFLOW.format(name="plain", invoke="", back="back", more="", extra=", back: {}")
    calls = _WORKFLOW.format(
        name="calls",
        invoke="invoke: {service: stock, as: ask, with: {sku: data.sku, n: data.count}}",
        back="ask.done",
        more="  - {event: ask.failed, from: b, to: a}\n",
        extra="",
    )
    (folder / "plain.yaml").write_text(plain, encoding="utf-8")
    (folder / "calls.yaml").write_text(calls, encoding="utf-8")
    result = load([folder])
    result.raise_for_problems()
    return Engine(result.workflows["loop_plain"]), Engine(result.workflows["loop_calls"])


def figure_effects_step(cfg: Config, work: Path) -> Figure:
    rounds = 500 if cfg.quick else 20_000
    column = f"{2 * rounds:,} steps"
    fig = Figure("effects_step", "A step with and without effects (in memory)", "us", [column])
    plain, calls = _engines(work / "effects_step")
    answer = {"left": 1, "status": 200}

    def loop(engine: Engine, back: str, payload: dict[str, int] | None) -> float:
        instance = engine.create()
        events = [("go", None), (back, payload)] * rounds

        def send(item: tuple[str, dict[str, int] | None]) -> None:
            instance.send(*item)

        return per_item_us(send, events)

    subjects = {
        PLAIN: lambda: loop(plain, "back", None),
        INVOKE: lambda: loop(calls, "ask.done", answer),
    }
    for name, stat in interleaved(subjects, cfg.repeats, "us").items():
        fig.rows[name] = {column: stat}
    fig.derived_columns = ["/ no effects"]
    fig.derived[INVOKE] = {"/ no effects": fig.median(INVOKE, column) / fig.median(PLAIN, column)}
    fig.notes.append(
        "Each subject alternates two events on a fresh instance: `go` (a -> b, one action) and "
        "the way back. In the second workflow `b` invokes a service, so every `go` plans and "
        "resolves one call (a URL template and a two-field body over data), and the way back is "
        "the answer `ask.done`, whose payload is checked against the declared response. The "
        "per-step figure is the mean over both events. A store adds one outbox row per call "
        "(measured with the worker)."
    )
    return fig
