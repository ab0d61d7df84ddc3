"""linkflow on the domain's own workflows, next to the benchmark's flow.

The domain version of "link by logging in" is two workflows: the entry flow
`link_tiktok_account` (open the dialog, choose "link existing", choose "log in", confirm) hands
off to `link_login` (log in, approve, refresh). This figure runs that whole session on the demo
world, as the scenario `tests/scenarios/link_login/r10_r11_r12_r13_r17_*` does, so the numbers
of the main figures can be checked against the real YAML. Change the constants below when the
domain files change.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.figures import Config, Figure
from benchmarks.impls import Implementation
from benchmarks.timing import Stat, calibrate, interleaved, per_item_us
from linkflow import World, load
from linkflow.runtime.session import EngineCache, Session
from linkflow.runtime.world_loader import load_world

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
WORLD_FILE = WORKFLOWS / "worlds" / "ads_manager_demo.yaml"
ENTRY = "link_tiktok_account"
DATA = {
    "actor": "ana",
    "business_center": "acme_brands",
    "ad_account": "acme_us",
    "campaign": "spring_sale",
}
STEPS: list[tuple[str, dict[str, Any] | None]] = [
    ("click_link_tiktok_account", None),
    ("choose_link_existing", None),
    ("choose_log_in", None),
    ("confirm", None),
    ("log_in", {"username": "ana_cooks", "password": "open-sesame-42"}),
    ("approve", None),
    ("refresh", None),
]
LINKED = "ana_cooks"


class DomainSessions:
    """Sessions of the domain's entry flow, each on its own copy of the demo world."""

    def __init__(self) -> None:
        result = load([WORKFLOWS], kinds=["workflow"])
        result.raise_for_problems()
        world, problems = load_world(WORLD_FILE)
        if world is None:
            raise ValueError("; ".join(str(p) for p in problems))
        self.world = world
        self.engines = EngineCache(result.workflows)

    def create(self) -> Any:
        world = World(self.world.collections, name=self.world.name)
        return Session(self.engines, ENTRY, DATA, world)

    @staticmethod
    def run(session: Any) -> None:
        for event, payload in STEPS:
            session.send(event, payload)

    def check(self) -> list[str]:
        session = self.create()
        problems = []
        for event, payload in STEPS:
            step = session.send(event, payload).step
            if not step.accepted:
                problems.append(f"`{event}` was refused: {step.refusal.message}")
                break
        if session.instance.outcome != "completed":
            problems.append(f"the session ended in '{session.instance.state}'")
        elif LINKED not in session.instance.data.get("dropdown", []):
            problems.append(f"'{LINKED}' is not in the dropdown")
        return problems


def _flow_us(create: Any, run: Any, n: int) -> float:
    items = [create() for _ in range(n)]
    return float(per_item_us(run, items))


def figure_domain(impls: list[Implementation], cfg: Config) -> Figure:
    full, per_event = "one full flow", "per event"
    fig = Figure(
        "domain",
        "linkflow on the domain's workflows (workflows/link_tiktok_account -> link_login)",
        "µs",
        [full, per_event],
    )
    fig.notes.append(
        f"The domain's session: {len(STEPS)} events ({', '.join(e for e, _ in STEPS)}) across "
        f"the entry flow and `link_login` with one handoff, on {WORLD_FILE.relative_to(ROOT)} "
        "(a fresh copy per session, untimed). The benchmark's own five-event flow is measured "
        "in the same round-robin for comparison."
    )
    sessions = DomainSessions()
    problems = sessions.check()
    if problems:
        fig.notes.append("domain session skipped: " + "; ".join(problems))
        return fig
    subjects_make: dict[str, tuple[Any, Any, int]] = {
        "linkflow (domain workflows)": (sessions.create, sessions.run, len(STEPS))
    }
    linkflow = next((i for i in impls if i.key == "linkflow"), None)
    if linkflow is not None:
        subjects_make["linkflow"] = (linkflow.create, linkflow.run_flow, 5)
    batches = {
        key: calibrate(
            partial(_flow_us, create, run),
            cfg.batch_target_s,
            5,
            cfg.max_batch,
            setup_budget_s=cfg.setup_budget_s,
        )
        for key, (create, run, _) in subjects_make.items()
    }
    stats = interleaved(
        {
            key: partial(_flow_us, create, run, batches[key])
            for key, (create, run, _) in subjects_make.items()
        },
        cfg.repeats,
        "µs",
    )
    for key, stat in stats.items():
        stat.ops = batches[key]
        events = subjects_make[key][2]
        each = Stat("µs", [v / events for v in stat.values], stat.ops)
        fig.rows[key] = {full: stat, per_event: each}
    return fig
