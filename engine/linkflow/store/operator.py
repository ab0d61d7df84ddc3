"""What an operator does to a stored instance besides an ordinary send: the same send, marked as
theirs; cancel; terminate. Each is one write transaction and leaves a history entry that says
which operator action it was and who did it (`actor`).

- **send**: an event through the runtime, as `Store.send` does (guards, payload, version).
- **cancel**: the workflow's own way out. The event taken is one whose transition from the
  current state ends in a final state with outcome `cancelled` (one named `cancel` first, else
  the first declared). Its guards apply: a refusal is recorded as any refusal is. A workflow with
  no such transition from the current state is refused (`NotAllowed`), and nothing is written.
- **terminate**: ends the instance now, whatever the workflow says: outcome `terminated`, the
  state left as it was (so one sees where it stopped), its timer stopped, no action run, no
  handoff. A history entry and a feed entry (event `operator.terminate`, a name no workflow
  event can have) record it. An instance that already ended is refused.

`via` says where the action came from (api, studio, cli; python by default).
`expect_version` makes any of them refuse (Conflict) when another step came first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from linkflow.language.model import Outcome, Workflow
from linkflow.runtime.steps import Step
from linkflow.store.backend import Tx
from linkflow.store.errors import Conflict, NotAllowed
from linkflow.store.records import InstanceRecord, Sent
from linkflow.store.steps import StepWriter
from linkflow.store.world_view import dump

TERMINATED = "terminated"
TERMINATE_EVENT = "operator.terminate"
#: Who did it: 1 to 200 characters, no control character (shown in history and the studio).
MAX_ACTOR = 200


def check_actor(by: str) -> str:
    if not isinstance(by, str) or not by.strip(" ") or len(by) > MAX_ACTOR:
        raise NotAllowed(f"an operator action needs who did it: 1 to {MAX_ACTOR} characters")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in by):
        raise NotAllowed("who did it may hold no control character")
    return by


def cancel_event(workflow: Workflow, state: str) -> str | None:
    """The event of the workflow's own cancel path from `state`, or None."""
    found = []
    for transition in workflow.transitions:
        if transition.is_timeout:
            continue
        if state not in transition.sources and "*" not in transition.sources:
            continue
        if workflow.states[transition.target].final == Outcome.CANCELLED:
            found.append(transition.event)
    if not found:
        return None
    return "cancel" if "cancel" in found else found[0]


class OperatorActions(StepWriter):
    """Operator actions on stored instances (see the module's text)."""

    if TYPE_CHECKING:
        # `Store._send_in` (store.py) is the one that runs: declared here for the type checker
        # only, so the actions below can call it without a method that would do nothing.
        def _send_in(
            self,
            tx: Tx,
            instance_id: str,
            event: str,
            payload: Mapping[str, Any] | None,
            event_id: str | None,
            expect_version: int | None,
        ) -> Sent: ...

    def operator_send(
        self,
        instance_id: str,
        event: str,
        payload: Mapping[str, Any] | None = None,
        *,
        by: str,
        via: str = "python",
        expect_version: int | None = None,
    ) -> Sent:
        """`Store.send`, recorded as an operator's action with who did it."""
        check_actor(by)

        def work(tx: Tx) -> Sent:
            sent = self._send_in(tx, instance_id, event, payload, None, expect_version)
            self._mark(tx, instance_id, {"action": "send", "by": by, "via": via})
            return sent

        return self._write(work)

    def cancel(
        self,
        instance_id: str,
        *,
        by: str,
        via: str = "python",
        expect_version: int | None = None,
    ) -> Sent:
        """Take the workflow's own cancel path; NotAllowed when it has none from here."""
        check_actor(by)

        def work(tx: Tx) -> Sent:
            record = self._row(tx, instance_id, lock=True)
            self._check_open(record, expect_version, "cancel")
            workflow = self._engine(tx, record.definition).workflow
            event = cancel_event(workflow, record.state)
            if event is None:
                raise NotAllowed(
                    f"instance '{instance_id}' cannot be cancelled: workflow "
                    f"'{workflow.name}' has no transition from '{record.state}' that ends as "
                    "cancelled (terminate ends it without one)"
                )
            problem = self._engine(tx, record.definition).check_payload(event, {})
            if problem:
                raise NotAllowed(
                    f"instance '{instance_id}' cannot be cancelled here: the event '{event}' "
                    f"needs a payload ({problem}); send it instead"
                )
            sent = self._send_in(tx, instance_id, event, {}, None, None)
            self._mark(tx, instance_id, {"action": "cancel", "by": by, "via": via})
            return sent

        return self._write(work)

    def terminate(
        self,
        instance_id: str,
        *,
        by: str,
        via: str = "python",
        reason: str | None = None,
        expect_version: int | None = None,
    ) -> Sent:
        """End the instance now with outcome `terminated` (see the module's text)."""
        check_actor(by)
        if reason is not None and len(reason) > MAX_ACTOR:
            raise NotAllowed(f"a reason is at most {MAX_ACTOR} characters")

        def work(tx: Tx) -> Sent:
            record = self._row(tx, instance_id, lock=True)
            self._check_open(record, expect_version, "terminate")
            now = self.clock()
            after = InstanceRecord(
                record.id,
                record.workflow,
                record.definition,
                record.state,
                record.data,
                record.start_data,
                TERMINATED,
                record.version + 1,
                record.created,
                now,
                record.entered,
                None,
                record.session,
            )
            actor = {"action": "terminate", "by": by, "via": via}
            if reason:
                actor["reason"] = reason
            entry = (record.id, record.id, now, TERMINATE_EVENT, record.state, record.state, 1)
            tx.run(self.sql["insert_history"], (*entry, None, None, None, None, None, None))
            self._mark(tx, record.id, actor)
            tx.run(
                self.sql["update_instance"],
                (
                    after.state,
                    dump(after.data),
                    TERMINATED,
                    after.version,
                    now,
                    after.entered,
                    None,
                    record.id,
                ),
            )
            feed = (record.id, record.workflow, TERMINATE_EVENT, record.state, record.state)
            found = tx.one(self.sql["insert_feed_next"], (*feed, TERMINATED, now))
            assert found is not None
            seq = int(found[0])
            step = Step(TERMINATE_EVENT, record.state, record.state, None, None)
            return Sent(step, after, feed_seq=seq)

        return self._write(work)

    @staticmethod
    def _check_open(record: InstanceRecord, expect_version: int | None, action: str) -> None:
        if expect_version is not None and expect_version != record.version:
            raise Conflict(
                f"instance '{record.id}' is at version {record.version}, not "
                f"{expect_version}: another step came first; read it again"
            )
        if record.outcome is not None:
            raise NotAllowed(
                f"instance '{record.id}' already ended ({record.outcome}): there is nothing "
                f"to {action}"
            )

    def _mark(self, tx: Tx, instance_id: str, actor: Mapping[str, Any]) -> None:
        """Say on the instance's newest history entry which operator action it was, by whom."""
        text = json.dumps(dict(actor), ensure_ascii=False, separators=(",", ":"))
        tx.run(self.sql["mark_operator"], (text, instance_id, instance_id))
