"""The flow every implementation runs: link a TikTok account to an ad account by logging in.

One Business Center (`bc1`) whose admin is `ana`; one ad account (`ad1`) in it where `ana` has
admin access; and N TikTok accounts. `ana` opens "link account" in the identity section,
confirms "log in to TikTok", logs in to account `tt000000` with its password, approves, and
refreshes: the account has joined the Business Center and is the dropdown's only entry.

The world is plain dicts; each implementation reads it by key and writes the same three fields.
"""

from __future__ import annotations

from typing import Any, Final

ACTOR: Final = "ana"
BUSINESS_CENTER: Final = "bc1"
AD_ACCOUNT: Final = "ad1"
ACCOUNT: Final = "tt000000"
PASSWORD: Final = "pw-000000"
WRONG_PASSWORD: Final = "not-the-password"

#: The flow's states, in order, and its final state.
STATES: Final = (
    "identity",
    "choose_method",
    "login_window",
    "authorize",
    "awaiting_refresh",
    "linked",
)
INITIAL: Final = STATES[0]
FINAL: Final = STATES[-1]
#: The guard-refused event is sent in this state.
REFUSE_IN: Final = "login_window"

#: Events in order; `login` is the one with a payload (its password is secret).
EVENTS: Final = ("open", "confirm", "login", "approve", "refresh")
ACCESS_OK: Final = frozenset({"operator", "admin"})

World = dict[str, dict[str, dict[str, Any]]]


def account_id(number: int) -> str:
    return f"tt{number:06d}"


def make_world(accounts: int) -> World:
    """A world with `accounts` TikTok accounts (at least one: the account the flow links)."""
    return {
        "business_centers": {
            BUSINESS_CENTER: {"name": "Acme", "admins": [ACTOR], "tiktok_accounts": []},
        },
        "ad_accounts": {
            AD_ACCOUNT: {
                "business_center": BUSINESS_CENTER,
                "access": {ACTOR: "admin", "bob": "analyst"},
                "available_accounts": [],
            },
        },
        "tiktok_accounts": {
            account_id(i): {"password": f"pw-{i:06d}", "business_center": ""}
            for i in range(max(1, accounts))
        },
    }


def join_business_center(world: World, account: str, business_center: str, ad_account: str) -> None:
    """What approving the link does to the world, the same in every Python implementation:
    the account joins the Business Center and becomes usable by the ad account (once)."""
    world["tiktok_accounts"][account]["business_center"] = business_center
    listed = world["business_centers"][business_center]["tiktok_accounts"]
    if account not in listed:
        listed.append(account)
    available = world["ad_accounts"][ad_account]["available_accounts"]
    if account not in available:
        available.append(account)


def dropdown_after_refresh(world: World, ad_account: str) -> list[str]:
    """What the identity dropdown shows after a refresh."""
    return list(world["ad_accounts"][ad_account]["available_accounts"])


def instance_data() -> dict[str, str]:
    """The data every instance starts with (the same fields in every implementation)."""
    return {"actor": ACTOR, "business_center": BUSINESS_CENTER, "ad_account": AD_ACCOUNT}


def check_world_after_flow(world: World) -> list[str]:
    """What is wrong with the world after at least one full flow, or []."""
    problems = []
    if world["tiktok_accounts"][ACCOUNT]["business_center"] != BUSINESS_CENTER:
        problems.append("the account did not join the Business Center")
    if world["business_centers"][BUSINESS_CENTER]["tiktok_accounts"] != [ACCOUNT]:
        problems.append("the Business Center does not list the account exactly once")
    if world["ad_accounts"][AD_ACCOUNT]["available_accounts"] != [ACCOUNT]:
        problems.append("the ad account does not offer the account exactly once")
    return problems
