"""The five-event flow persisted the way a Django project would: django-fsm-2 on Django's ORM.

A `LinkRequest` model with an `FSMField` and `ConcurrentTransitionMixin` (its save() updates
the row only if the state is still the one read: optimistic locking). Each event is one
transaction (`transaction.atomic`): the instance row read, the guard's world record read
through the ORM, the transition, the instance row updated and one `TransitionLog` row
inserted; approve also updates three world records. The world is one JSON row per record, as
linkflow's store keeps it. django-fsm has no change feed: nothing more is written.

Django is configured once per process (`settings.configure`): one database per process.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from benchmarks import domain


def configure(url: str) -> None:
    import django  # noqa: PLC0415 - Django, a compared library: missing, it skips one figure
    from django.conf import settings  # noqa: PLC0415 - Django, a compared library: missing, it skips one figure

    if url.startswith("sqlite:///"):
        database: dict[str, Any] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": url.removeprefix("sqlite:///"),
            "OPTIONS": {
                # The same settings as the anchor and linkflow's store.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    else:
        parts = urlsplit(url)
        # A unix socket's folder comes as `?host=/path` (the benchmark's cluster).
        host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": parts.username or "",
            "PASSWORD": parts.password or "",
            "HOST": host,
            "PORT": parts.port or "",
            "OPTIONS": {},
        }
    if settings.configured:  # a second run in one process: the same models, a new database
        from django.db import connections  # noqa: PLC0415 - Django: its models and database only after settings.configure()

        connections["default"].close()
        engine = connections["default"].settings_dict["ENGINE"]
        connections["default"].settings_dict.update(database)
        if engine != database["ENGINE"]:
            del connections["default"]  # the next use opens a connection of the new engine
        return
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=[],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


@cache
def build_models() -> tuple[Any, Any, Any]:
    """The three models; defined after settings are configured, as Django requires."""
    from django.db import models  # noqa: PLC0415 - Django: its models and database only after settings.configure()
    from django_fsm import ConcurrentTransitionMixin, FSMField, transition  # noqa: PLC0415 - Django: its models and database only after settings.configure()

    class Record(models.Model):  # type: ignore[misc]
        collection = models.CharField(max_length=64)
        key = models.CharField(max_length=64)
        value = models.JSONField()

        class Meta:
            app_label = "benchfsm"
            unique_together = (("collection", "key"),)

    def world(collection: str, key: str) -> Any:
        return Record.objects.get(collection=collection, key=key)

    class LinkRequest(ConcurrentTransitionMixin, models.Model):  # type: ignore[misc]
        state = FSMField(default=domain.INITIAL)
        actor = models.CharField(max_length=64)
        business_center = models.CharField(max_length=64)
        ad_account = models.CharField(max_length=64)
        account = models.CharField(max_length=64, default="")
        dropdown = models.JSONField(default=list)

        class Meta:
            app_label = "benchfsm"

        def admin(self) -> bool:
            bc = world("business_centers", self.business_center).value
            return self.actor in bc["admins"]

        def operator(self) -> bool:
            ad = world("ad_accounts", self.ad_account).value
            return ad["access"].get(self.actor) in domain.ACCESS_OK

        @transition(field=state, source="identity", target="choose_method", conditions=[admin])
        def open(self) -> None:
            pass

        @transition(
            field=state, source="choose_method", target="login_window", conditions=[operator]
        )
        def confirm(self) -> None:
            pass

        @transition(field=state, source="login_window", target="authorize")
        def login(self, username: str, password: str) -> None:
            account = Record.objects.filter(collection="tiktok_accounts", key=username).first()
            if account is None or account.value["password"] != password:
                raise ValueError("The TikTok login failed.")
            self.account = username

        @transition(field=state, source="authorize", target="awaiting_refresh")
        def approve(self) -> None:
            account = world("tiktok_accounts", self.account)
            account.value["business_center"] = self.business_center
            account.save(update_fields=["value"])
            for collection, key, field in (
                ("business_centers", self.business_center, "tiktok_accounts"),
                ("ad_accounts", self.ad_account, "available_accounts"),
            ):
                record = world(collection, key)
                if self.account not in record.value[field]:
                    record.value[field].append(self.account)
                    record.save(update_fields=["value"])

        @transition(field=state, source="awaiting_refresh", target="linked")
        def refresh(self) -> None:
            self.dropdown = world("ad_accounts", self.ad_account).value["available_accounts"]

    class TransitionLog(models.Model):  # type: ignore[misc]
        instance = models.ForeignKey(LinkRequest, on_delete=models.CASCADE)
        event = models.CharField(max_length=64)
        source = models.CharField(max_length=64)
        target = models.CharField(max_length=64)
        time = models.FloatField()
        payload = models.JSONField(default=dict)

        class Meta:
            app_label = "benchfsm"

    return Record, LinkRequest, TransitionLog


class DjangoFlow:
    """django-fsm-2 on one database (the process's only Django configuration)."""

    def __init__(self, url: str) -> None:
        configure(url)
        from django.db import connection  # noqa: PLC0415 - Django: its models and database only after settings.configure()

        self.record, self.link_request, self.log = build_models()
        with connection.schema_editor() as editor:
            for model in (self.record, self.link_request, self.log):
                editor.create_model(model)
        for collection, records in domain.make_world(1000).items():
            self.record.objects.bulk_create(
                [self.record(collection=collection, key=k, value=v) for k, v in records.items()]
            )
        self.good = {"username": domain.ACCOUNT, "password": domain.PASSWORD}

    def create(self) -> int:
        pk: int = self.link_request.objects.create(**domain.instance_data()).pk
        return pk

    def send(self, pk: int, event: str, payload: dict[str, str]) -> None:
        """One event, one transaction: read, transition, save (optimistic lock), history row."""
        from django.db import transaction  # noqa: PLC0415 - Django: its models and database only after settings.configure()

        with transaction.atomic():
            item = self.link_request.objects.get(pk=pk)
            source = item.state
            getattr(item, event)(**payload)
            item.save()
            public = {k: v for k, v in payload.items() if k != "password"}
            self.log.objects.create(
                instance=item,
                event=event,
                source=source,
                target=item.state,
                time=time.time(),
                payload=public,
            )

    def run_flow(self, pk: int) -> None:
        for event in domain.EVENTS:
            self.send(pk, event, self.good if event == "login" else {})

    def check(self, pk: int) -> None:
        final = self.link_request.objects.get(pk=pk)
        if final.state != domain.FINAL or final.dropdown != [domain.ACCOUNT]:
            raise AssertionError(f"django-fsm flow ended in {final.state}")
        if self.log.objects.filter(instance=final).count() != len(domain.EVENTS):
            raise AssertionError("django-fsm flow did not log one row per event")
