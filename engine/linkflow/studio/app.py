"""The studio's web app: the page, its static files, a small JSON API and server-sent events.

Laid out like the service: the handlers and their route list live in linkflow.studio.routes
(and the store view's, the event stream's, in their own modules), reading what they share from
`app.state.studio`; this module only composes them with the lifespan that watches the
definitions' files.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware

from linkflow.studio.guard import Access, Guard
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground
from linkflow.studio.routes import ROUTES
from linkflow.studio.state import Studio


async def watch_files(studio: Studio, stop: asyncio.Event) -> None:
    """Reload the definitions whenever one of their files (or the world's) changes."""
    from watchfiles import awatch  # noqa: PLC0415 - watchfiles: the studio extra; the studio mounted in `linkflow serve` does not watch

    playground = studio.playground
    paths = [p for p in [*playground.paths, playground.world_file] if p and Path(p).exists()]
    if not paths:
        return
    async for _ in awatch(*paths, stop_event=stop, debounce=50, step=30):
        async with studio.lock:
            playground.apply_reload()
        studio.changed()


def on_terminate(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
    """Chain `stop` onto the server's SIGTERM/SIGINT handlers.

    uvicorn, told to stop, first waits for the open connections to close and only then runs
    the lifespan's shutdown. An open page's event stream never closes by itself, so ending
    the streams at shutdown came too late: uvicorn waited out its grace period, cancelled
    them mid-wait, and their pending futures (and the file watcher) were destroyed with the
    loop ("Task was destroyed but it is pending!"). The streams and the watcher must end when
    the signal arrives. (Signals reach the main thread only: a test client running the app in
    another thread has none to chain onto.)"""
    if threading.current_thread() is not threading.main_thread():
        return
    for number in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(number)
        if not callable(previous):
            continue

        def handler(sig: int, frame: object, previous: Callable[..., object] = previous) -> None:
            loop.call_soon_threadsafe(stop)
            previous(sig, frame)

        signal.signal(number, handler)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Watch the files while the app runs; at a stop signal (or shutdown, whichever comes
    first) end every open event stream and the watcher."""
    studio: Studio = app.state.studio
    stop = asyncio.Event()

    def stop_all() -> None:
        stop.set()
        app.state.streams.stop.set()
        studio.hub.close()

    task = asyncio.create_task(watch_files(studio, stop)) if studio.watch else None
    on_terminate(asyncio.get_running_loop(), stop_all)
    try:
        yield
    finally:
        stop_all()
        if task is not None:
            await task


def create_app(
    playground: Playground,
    *,
    scenario_folder: str = "tests/scenarios/studio",
    coverage_folder: str = "tests/scenarios",
    watch: bool = True,
    instances: InstancesView | None = None,
    access: Access | None = None,
) -> Starlette:
    """The studio app; `watch` reloads the definitions when their files change; `instances`
    adds the view over a store; `access` says who may use it (by default: a new per-launch
    token, loopback Host names only; see linkflow.studio.guard)."""
    access = access or Access()
    studio = Studio(playground, scenario_folder, coverage_folder, watch, instances)
    guard = Middleware(
        Guard,
        token=access.token,
        allowed_hosts=access.allowed_hosts,
        check_host=access.check_host,
    )
    app = Starlette(routes=ROUTES, lifespan=lifespan, middleware=[guard])
    app.state.studio = studio
    app.state.access = access
    # a host app mounting this one replaces `streams.stop` with its own stop signal
    app.state.streams = studio.streams
    return app
