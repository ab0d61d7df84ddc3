"""`transitions` by hand, the FAQ's low-memory pattern: ONE class-level Machine with no models.

The object holds only its state and data; an event is fired with the shared machine's
`events[name].trigger(obj, ...)`. `auto_transitions=False`; guards and actions are methods of the
model, named in the transition table and resolved on the model by transitions itself.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any, ClassVar

from transitions import Machine

from benchmarks import domain
from benchmarks.domain import World
from benchmarks.impls import Implementation

TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": "open",
        "source": "identity",
        "dest": "choose_method",
        "conditions": "actor_is_bc_admin",
    },
    {
        "trigger": "confirm",
        "source": "choose_method",
        "dest": "login_window",
        "conditions": "actor_can_operate",
    },
    {
        "trigger": "login",
        "source": "login_window",
        "dest": "authorize",
        "conditions": "credentials_valid",
        "before": "remember_account",
    },
    {"trigger": "approve", "source": "authorize", "dest": "awaiting_refresh", "after": "join"},
    {
        "trigger": "refresh",
        "source": "awaiting_refresh",
        "dest": "linked",
        "after": "fill_dropdown",
    },
]

MACHINE = Machine(
    model=None,
    states=list(domain.STATES),
    transitions=TRANSITIONS,
    initial=domain.INITIAL,
    auto_transitions=False,
)
_TRIGGERS: dict[str, Callable[..., bool]] = {
    name: event.trigger for name, event in MACHINE.events.items()
}


class LinkModel:
    """The model: state and data only; every trigger goes through the shared machine."""

    __slots__ = ("account", "actor", "ad_account", "business_center", "dropdown", "state", "world")
    machine: ClassVar[Any] = MACHINE

    def __init__(self, world: World, actor: str, business_center: str, ad_account: str) -> None:
        self.state = domain.INITIAL
        self.world = world
        self.actor = actor
        self.business_center = business_center
        self.ad_account = ad_account
        self.account = ""
        self.dropdown: list[str] = []

    def trigger(self, event: str, **kwargs: Any) -> bool:
        return _TRIGGERS[event](self, **kwargs)

    # guards -----------------------------------------------------------------------------------

    def actor_is_bc_admin(self) -> bool:
        bc = self.world["business_centers"].get(self.business_center)
        return bc is not None and self.actor in bc["admins"]

    def actor_can_operate(self) -> bool:
        ad = self.world["ad_accounts"].get(self.ad_account)
        return ad is not None and ad["access"].get(self.actor) in domain.ACCESS_OK

    def credentials_valid(self, username: str, password: str) -> bool:
        account = self.world["tiktok_accounts"].get(username)
        return account is not None and password == account["password"]

    # actions ----------------------------------------------------------------------------------

    def remember_account(self, username: str, password: str) -> None:
        self.account = username

    def join(self) -> None:
        domain.join_business_center(self.world, self.account, self.business_center, self.ad_account)

    def fill_dropdown(self) -> None:
        self.dropdown = domain.dropdown_after_refresh(self.world, self.ad_account)


class SharedMachineImpl(Implementation):
    key = "transitions"
    label = "transitions, one shared Machine (FAQ low-memory pattern)"

    def versions(self) -> dict[str, str]:
        return {"transitions": version("transitions")}

    def create(self) -> LinkModel:
        return LinkModel(self.world, domain.ACTOR, domain.BUSINESS_CENTER, domain.AD_ACCOUNT)

    def run_flow(self, instance: Any) -> None:
        instance.trigger("open")
        instance.trigger("confirm")
        instance.trigger("login", username=domain.ACCOUNT, password=domain.PASSWORD)
        instance.trigger("approve")
        instance.trigger("refresh")

    def advance(self, instance: Any) -> None:
        instance.trigger("open")
        instance.trigger("confirm")

    def login(self, instance: Any) -> None:
        instance.trigger("login", username=domain.ACCOUNT, password=domain.PASSWORD)

    def refuse(self, instance: Any) -> None:
        instance.trigger("login", username=domain.ACCOUNT, password=domain.WRONG_PASSWORD)

    def state(self, instance: Any) -> str:
        return str(instance.state)

    def dropdown(self, instance: Any) -> list[str]:
        return list(instance.dropdown)
