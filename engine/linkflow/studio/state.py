"""What every studio request shares: the playground, its lock, and the open event streams.

Kept on `app.state` (like the service's `Service`), so the handlers are plain module-level
functions and one process can serve several studios without their states mixing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from linkflow.studio.body import BadRequest
from linkflow.studio.instances import InstancesView
from linkflow.studio.playground import Playground


class Hub:
    """Fans a message out to every open event stream."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[str | None]] = set()

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self.queues.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        for queue in self.queues:
            queue.put_nowait(text)

    def close(self) -> None:
        for queue in self.queues:
            queue.put_nowait(None)


@dataclass
class Streams:
    """Open event streams end when `stop` is set: by this app's shutdown, or, mounted in
    another app (whose shutdown this one never sees), by that app's stop signal, which the
    host puts here in place of ours (`app.state.streams.stop`)."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Studio:
    """One studio's shared state (kept on `app.state.studio`).

    Every request that changes the playground holds `lock`, so two tabs never interleave half
    a step; `hub` tells every open page that something changed.
    """

    playground: Playground
    scenario_folder: str
    coverage_folder: str
    #: Reload the definitions when their files change.
    watch: bool = True
    #: The view over a store; None when the studio was started without one.
    instances: InstancesView | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    hub: Hub = field(default_factory=Hub)
    streams: Streams = field(default_factory=Streams)

    def changed(self) -> None:
        """Tell every open page the playground has a new version."""
        playground = self.playground
        self.hub.publish({"version": playground.version, "problems": len(playground.problems)})

    def store_view(self) -> InstancesView:
        if self.instances is None:
            raise BadRequest("this studio has no store: start it with --store URL", 404)
        return self.instances


def studio_of(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio
