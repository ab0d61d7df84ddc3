"""The timer loop inside each service process: fires every timeout that has come due.

Several processes may run it on one PostgreSQL store: the store claims each due instance with
`FOR UPDATE SKIP LOCKED`, so a timeout fires exactly once whichever process gets it. After a
restart the first pass fires what came due while no process was running.
"""

from __future__ import annotations

import logging

import anyio

from linkflow.service.problems import ServiceProblem
from linkflow.service.request_log import log_event
from linkflow.service.state import Service

BATCH = 100


async def timer_loop(service: Service) -> None:
    """Until the service stops: fire what is due, then sleep one interval (or less)."""
    interval = service.config.timer_interval
    access = service.access()
    while not service.stopping.is_set():
        try:
            fired = await access.call(access.store.fire_due, None, BATCH)
        except ServiceProblem:
            fired = []  # the store is down: logged by the call; try again next interval
        except Exception as err:  # a fault must not end the loop for the life of the process
            log_event("timer pass failed", logging.ERROR, error=type(err).__name__)
            fired = []
        if service.metrics is not None:
            service.metrics.timer_pass(fired, access.store.clock())
        for sent in fired:
            log_event(
                "timer",
                instance=sent.instance.id,
                workflow=sent.instance.workflow,
                event=sent.step.event,
                accepted=sent.step.accepted,
                to=sent.step.target,
            )
        if len(fired) == BATCH:
            continue
        with anyio.move_on_after(interval):
            await service.stopping.wait()
    log_event("timer loop stopped", logging.INFO)
