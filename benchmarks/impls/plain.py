"""The floor: a dict from (state, event) to (target, guard, action), and nothing else."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

from benchmarks import domain
from benchmarks.domain import World
from benchmarks.impls import Implementation


class Link:
    __slots__ = ("account", "actor", "ad_account", "business_center", "dropdown", "state", "world")

    def __init__(self, world: World, actor: str, business_center: str, ad_account: str) -> None:
        self.state = domain.INITIAL
        self.world = world
        self.actor = actor
        self.business_center = business_center
        self.ad_account = ad_account
        self.account = ""
        self.dropdown: list[str] = []


Guard = Callable[[Link, dict[str, Any]], bool]
Action = Callable[[Link, dict[str, Any]], None]


def actor_is_bc_admin(link: Link, payload: dict[str, Any]) -> bool:
    bc = link.world["business_centers"].get(link.business_center)
    return bc is not None and link.actor in bc["admins"]


def actor_can_operate(link: Link, payload: dict[str, Any]) -> bool:
    ad = link.world["ad_accounts"].get(link.ad_account)
    return ad is not None and ad["access"].get(link.actor) in domain.ACCESS_OK


def credentials_valid(link: Link, payload: dict[str, Any]) -> bool:
    account = link.world["tiktok_accounts"].get(payload["username"])
    return account is not None and payload["password"] == account["password"]


def remember_account(link: Link, payload: dict[str, Any]) -> None:
    link.account = payload["username"]


def join(link: Link, payload: dict[str, Any]) -> None:
    domain.join_business_center(link.world, link.account, link.business_center, link.ad_account)


def fill_dropdown(link: Link, payload: dict[str, Any]) -> None:
    link.dropdown = domain.dropdown_after_refresh(link.world, link.ad_account)


TABLE: dict[tuple[str, str], tuple[str, Guard | None, Action | None]] = {
    ("identity", "open"): ("choose_method", actor_is_bc_admin, None),
    ("choose_method", "confirm"): ("login_window", actor_can_operate, None),
    ("login_window", "login"): ("authorize", credentials_valid, remember_account),
    ("authorize", "approve"): ("awaiting_refresh", None, join),
    ("awaiting_refresh", "refresh"): ("linked", None, fill_dropdown),
}


def send(link: Link, event: str, **payload: Any) -> bool:
    """Fire `event`; False when no transition is defined or its guard refuses."""
    found = TABLE.get((link.state, event))
    if found is None:
        return False
    target, guard, action = found
    if guard is not None and not guard(link, payload):
        return False
    if action is not None:
        action(link, payload)
    link.state = target
    return True


class PlainImpl(Implementation):
    key = "plain"
    label = "plain Python dict dispatch (floor)"

    def versions(self) -> dict[str, str]:
        return {"python": platform.python_version()}

    def create(self) -> Link:
        return Link(self.world, domain.ACTOR, domain.BUSINESS_CENTER, domain.AD_ACCOUNT)

    def run_flow(self, instance: Any) -> None:
        send(instance, "open")
        send(instance, "confirm")
        send(instance, "login", username=domain.ACCOUNT, password=domain.PASSWORD)
        send(instance, "approve")
        send(instance, "refresh")

    def advance(self, instance: Any) -> None:
        send(instance, "open")
        send(instance, "confirm")

    def login(self, instance: Any) -> None:
        send(instance, "login", username=domain.ACCOUNT, password=domain.PASSWORD)

    def refuse(self, instance: Any) -> None:
        send(instance, "login", username=domain.ACCOUNT, password=domain.WRONG_PASSWORD)

    def state(self, instance: Any) -> str:
        return str(instance.state)

    def dropdown(self, instance: Any) -> list[str]:
        return list(instance.dropdown)
