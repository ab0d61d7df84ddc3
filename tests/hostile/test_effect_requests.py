"""The request an effect makes and the answer it reads: a data value stays inside its path
segment, an unsendable secret or an unreadable answer ends the call as a recorded failure with
a reason, and the worker always finishes (it never crashes on what a service sends)."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from linkflow.effects import worker as worker_module
from linkflow.effects.http_call import SECRET, Attempt, perform, retry_after
from linkflow.effects.worker import Options, Worker
from linkflow.language.loader import load_workflow
from linkflow.language.services import Auth
from linkflow.runtime.engine import Engine
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from tests.hostile.helpers import ROOT
from tests.support.effect_steps import causing, invoke, write_flow

EXAMPLE = ROOT / "examples" / "supplier_order"


# -- the path ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def supplier(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("supplier")
    for name in ("supplier_order.yaml", "services.yaml"):
        shutil.copy(EXAMPLE / name, folder / name)
    return Engine(load_workflow(folder / "supplier_order.yaml"))


@pytest.mark.parametrize(
    "order_id",
    ["..", ".", "../admin", "a/b?x=1#f", "%2e%2e", "x\r\nHost: evil", "a b", "é/€", "x" * 1000],
)
def test_a_data_value_stays_inside_its_path_segment(supplier: Engine, order_id: str) -> None:
    step = supplier.create().send("place", {"order_id": order_id, "sku": "s", "quantity": 1})
    (call,) = step.effects
    sent = httpx.Request(call.method, call.url).url  # as the worker's client sends it
    assert sent.host == "127.0.0.1"
    assert sent.query == b""
    assert sent.fragment == ""
    segments = sent.raw_path.decode("ascii").split("/")
    assert len(segments) == 4, segments[:6]
    assert segments[1] == "orders"
    assert segments[3] == "reserve"
    assert httpx.URL("http://h/" + segments[2]).path[1:] == order_id  # decoded: the value


def test_a_lone_surrogate_in_a_path_value_fails_the_step_with_the_reason(supplier: Engine) -> None:
    # the strict readers refuse one in JSON text; the Python API hands it over as it is
    instance = supplier.create()
    step = instance.send("place", {"order_id": "\ud800", "sku": "s", "quantity": 1})
    assert step.refusal is not None
    assert step.refusal.message.endswith(
        "the path of the call to service 'supplier' holds a value that is not text "
        "(a lone UTF-16 surrogate)"
    )
    assert step.effects == ()
    assert instance.state == "draft"


# -- the request ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret", ["abc\r\nX-Injected: 1", "abc\ndef", "caf\u00e9-token", "a\x7fb"]
)
def test_a_secret_that_cannot_be_a_header_is_a_failure_that_does_not_show_it(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("ODD_TOKEN", secret)
    call = invoke("http://127.0.0.1:9/x", auth=Auth("header", env="ODD_TOKEN", header="X-Key"))

    async def attempt() -> Attempt:
        async with httpx.AsyncClient() as client:
            return await perform(client, call, "key")

    done = asyncio.run(attempt())
    assert done.failure == SECRET
    assert done.retry is False
    assert "is not one line of visible ASCII" in done.error
    assert secret not in done.error
    assert "abc" not in done.error


def test_retry_after_takes_ascii_digits_only() -> None:
    assert retry_after("\u0663", datetime.now(UTC)) is None
    assert retry_after("3", datetime.now(UTC)) == 3.0


# -- the answer -------------------------------------------------------------------------------


def _answer(body: bytes, status: int = 200, head: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n%s\r\n" % (status, len(body), head)
    ) + body


ANSWERS = {
    "deep-list": (_answer(b"[" * 100_000 + b"]" * 100_000), "nesting is deeper than"),
    "deep-object": (_answer(b'{"a":' * 50_000 + b"1" + b"}" * 50_000), "nesting is deeper"),
    "not-utf8": (_answer(b'{"id": "\xff\xfe"}'), "it is not UTF-8 text"),
    "lone-surrogate": (_answer(b'{"id": "\\ud800"}'), "surrogate"),
    "nan": (_answer(b'{"id": NaN}'), "the answer is not JSON"),
    "duplicate-key": (_answer(b'{"id": "a", "id": "b"}'), "the answer is not JSON"),
    "huge-number": (_answer(b'{"id": ' + b"9" * 5000 + b"}"), "the answer is not JSON"),
    "html": (_answer(b"<html>", head=b"X-Type: text/html\r\n"), "it is not JSON"),
    "redirect": (_answer(b"", 302, b"Location: http://127.0.0.2:9/elsewhere\r\n"), "HTTP 302"),
    "gzip-always": (
        _answer(gzip.compress(b'{"id": "x"}'), head=b"Content-Encoding: gzip\r\n"),
        "it is compressed (Content-Encoding), though the worker asked for none",
    ),
    "unfinished": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", "no answer"),
}


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            got = self.request.recv(65536)
            if not got:
                return
            head += got
        path = head.split(b" ")[1].decode().strip("/")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = head.split(b"\r\n\r\n", 1)[1]
        while len(body) < length:  # read it all: closing on unread bytes resets the connection
            body += self.request.recv(65536)
        if path == "gzip-if-offered":  # as most APIs do: compressed when the client offers
            offered = b"gzip" in head.lower().split(b"accept-encoding:")[-1].split(b"\r\n")[0]
            plain = b'{"id": "x"}'
            sent = gzip.compress(plain) if offered else plain
            encoding = b"Content-Encoding: gzip\r\n" if offered else b""
            self.request.sendall(_answer(sent, head=encoding))
            return
        self.request.sendall(ANSWERS.get(path, (_answer(b"{}"), ""))[0])
        if path == "unfinished":
            time.sleep(3)


@pytest.fixture(scope="module")
def hostile_api() -> Iterator[str]:
    """A raw HTTP server answering each path with the bytes of ANSWERS."""
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


def test_every_unreadable_answer_is_a_failed_event_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile_api: str
) -> None:
    flow = write_flow(tmp_path)
    response = {"id": {"type": "string"}}
    names = list(ANSWERS)
    calls = tuple(
        invoke(f"{hostile_api}/{n}", name=f"r{i}", attempts=1, timeout=1.0, response=response)
        for i, n in enumerate(names)
    )
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with causing(monkeypatch, {"ask": lambda step: calls}):
            started = store.start(flow)
            store.send(started.id, "ask")
        options = Options(concurrency=4, lease=5.0, poll=0.02, grace=2.0)
        run = Worker(store, options).run(until_idle=True)
        counts = asyncio.run(asyncio.wait_for(run, 60))  # never hangs on what it was sent
        effects = Outbox(store).of_instance(started.id)
        history = store.history(started.id)
    assert counts["failed"] == len(names), counts
    assert [e.status for e in effects] == ["failed"] * len(names)
    # each result was handed to the instance (undeclared here, so kept as a refused entry)
    assert len([e for e in history if (e.event_id or "").startswith("effect:")]) == len(names)
    for effect, name in zip(effects, names, strict=True):
        assert ANSWERS[name][1] in (effect.last_error or ""), (name, effect.last_error)


def test_an_attempt_that_breaks_inside_the_worker_ends_failed_and_the_worker_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RecursionError("a defect of the worker itself")

    monkeypatch.setattr(worker_module, "perform", broken)
    flow = write_flow(tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with causing(monkeypatch, {"ask": lambda step: (invoke("http://127.0.0.1:9/x"),)}):
            started = store.start(flow)
            store.send(started.id, "ask")
        run = Worker(store, Options(lease=5.0, poll=0.02, grace=1.0)).run(until_idle=True)
        counts = asyncio.run(asyncio.wait_for(run, 30))
        (effect,) = Outbox(store).of_instance(started.id)
    assert counts["failed"] == 1
    assert (effect.status, effect.last_error) == (
        "failed",
        "the attempt failed inside the worker (RecursionError)",
    )


def test_an_api_that_compresses_when_offered_answers_plain_json(hostile_api: str) -> None:
    call = invoke(f"{hostile_api}/gzip-if-offered", response={"id": {"type": "string"}})

    async def attempt() -> Attempt:
        async with httpx.AsyncClient() as client:  # httpx offers gzip unless told otherwise
            return await perform(client, call, "key")

    done = asyncio.run(attempt())
    assert (done.status, done.body, done.unreadable) == (200, {"id": "x"}, "")
