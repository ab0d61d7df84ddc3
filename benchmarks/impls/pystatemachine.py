"""python-statemachine, declared the library's way: a StateMachine subclass per flow, one
machine object per instance, guards as `cond=` methods that receive the event's keyword
arguments by dependency injection, actions as `on_<event>` methods."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from benchmarks import domain
from benchmarks.domain import World
from benchmarks.impls import Implementation


class LinkLoginMachine(StateMachine):
    """Link a TikTok account by logging in."""

    identity = State(initial=True)
    choose_method = State()
    login_window = State()
    authorize = State()
    awaiting_refresh = State()
    linked = State(final=True)

    open = identity.to(choose_method, cond="actor_is_bc_admin")
    confirm = choose_method.to(login_window, cond="actor_can_operate")
    login = login_window.to(authorize, cond="credentials_valid")
    approve = authorize.to(awaiting_refresh)
    refresh = awaiting_refresh.to(linked)

    def __init__(self, world: World, actor: str, business_center: str, ad_account: str) -> None:
        self.world = world
        self.actor = actor
        self.business_center = business_center
        self.ad_account = ad_account
        self.account = ""
        self.dropdown: list[str] = []
        super().__init__()

    def actor_is_bc_admin(self) -> bool:
        bc = self.world["business_centers"].get(self.business_center)
        return bc is not None and self.actor in bc["admins"]

    def actor_can_operate(self) -> bool:
        ad = self.world["ad_accounts"].get(self.ad_account)
        return ad is not None and ad["access"].get(self.actor) in domain.ACCESS_OK

    def credentials_valid(self, username: str, password: str) -> bool:
        account = self.world["tiktok_accounts"].get(username)
        return account is not None and password == account["password"]

    def on_login(self, username: str) -> None:
        self.account = username

    def on_approve(self) -> None:
        domain.join_business_center(self.world, self.account, self.business_center, self.ad_account)

    def on_refresh(self) -> None:
        self.dropdown = domain.dropdown_after_refresh(self.world, self.ad_account)


class PyStateMachineImpl(Implementation):
    key = "python-statemachine"
    label = "python-statemachine, one StateMachine per instance"

    def versions(self) -> dict[str, str]:
        return {"python-statemachine": version("python-statemachine")}

    def create(self) -> LinkLoginMachine:
        return LinkLoginMachine(self.world, domain.ACTOR, domain.BUSINESS_CENTER, domain.AD_ACCOUNT)

    def run_flow(self, instance: Any) -> None:
        instance.send("open")
        instance.send("confirm")
        instance.send("login", username=domain.ACCOUNT, password=domain.PASSWORD)
        instance.send("approve")
        instance.send("refresh")

    def advance(self, instance: Any) -> None:
        instance.send("open")
        instance.send("confirm")

    def login(self, instance: Any) -> None:
        instance.send("login", username=domain.ACCOUNT, password=domain.PASSWORD)

    def refuse(self, instance: Any) -> None:
        # try/except, not contextlib.suppress: the context manager would add to the timing.
        try:  # noqa: SIM105
            instance.send("login", username=domain.ACCOUNT, password=domain.WRONG_PASSWORD)
        except TransitionNotAllowed:
            pass

    def state(self, instance: Any) -> str:
        return str(instance.current_state_value)

    def dropdown(self, instance: Any) -> list[str]:
        return list(instance.dropdown)
