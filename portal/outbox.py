"""Every outgoing effect goes through the transactional outbox (docs/outbox.md), with the re-send sweep behind it.

**The outbox.** A change that owes a task message (a refund payout, a notification's email copy, an export, a
courier booking or cancellation, an interception request) writes that message as an `OutboxMessage` row in its
own transaction (`outbox_put` / `outbox_put_many`) instead of queueing it with `on_commit` alone. Right after
the commit the messages are published and marked sent (`outbox_publish`, registered with `on_commit`); a
process killed between the commit and the publish, or a broker down at that moment, leaves the rows unsent,
and the relay (`outbox_relay`, beat entry `relay-outbox` every OUTBOX_RELAY_SECONDS) publishes every message
still unsent OUTBOX_RELAY_AFTER_SECONDS after it was written. Sent rows are deleted OUTBOX_KEEP_SECONDS after
sending. Delivery is at least once (a crash between publish and marking sends again): every task is idempotent.

**The re-send sweep.** `resend_outgoing` finds each kind of effect still owed by its own rows (a pending
refund, an unsent email copy, a pending export, an undispatched pickup, an unacknowledged cancellation) and
queues it again: it covers what the outbox cannot (a message published, then lost by a flushed broker or a
worker killed without acks). The effects and the function that re-sends each are listed in
settings.OUTBOX_RESENDERS.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One task message: the task's registered name, its positional arguments (JSON), its idempotency key."""

    task: str
    args: list[Any] = field(default_factory=list)
    key: str = ""


@dataclass
class Publish:
    """The after-commit callback of one transaction's messages (tests read `tasks`)."""

    messages: list[Message]

    @property
    def tasks(self) -> list[str]:
        return [m.task for m in self.messages]

    def __call__(self) -> None:
        outbox_publish(self.messages)


def outbox_put(task: str, args: Sequence[Any] = (), *, key: str = "") -> None:
    """Write one message in the current transaction; it is published once that transaction commits."""
    outbox_put_many([Message(task=task, args=list(args), key=key)])


def outbox_put_many(messages: Iterable[Message]) -> None:
    """Write the messages in one INSERT in the current transaction, published after its commit.

    A message without a key gets a fresh one; a key already written is not written again (its first message
    stands, and is what the relay sends). Outside a transaction (autocommit) the rows are written and
    published at once.
    """
    from .models import OutboxMessage

    keyed = [m if m.key else Message(task=m.task, args=m.args, key=f"{m.task}:{uuid.uuid4().hex}")
             for m in messages]
    if not keyed:
        return
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=m.task, args=m.args, key=m.key, created_at=now) for m in keyed], ignore_conflicts=True)
    _publish_on_commit(keyed)


def _publish_on_commit(messages: list[Message]) -> None:
    """One publish (and so one UPDATE marking them sent, one commit) for all the messages a transaction writes:
    joined to the transaction's last callback when that is a publish registered at the same savepoint level
    (a savepoint rolled back drops its callbacks, so messages are never joined across one)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and connection.run_on_commit:
        sids, last, _robust = connection.run_on_commit[-1]
        if isinstance(last, Publish) and sids == set(connection.savepoint_ids):
            last.messages.extend(messages)
            return
    transaction.on_commit(Publish(messages), robust=True)


def _send(task: str, args: list[Any]) -> None:
    from .celery import app

    if task not in app.tasks:  # a task module nothing imported yet in this process (names are module.function)
        import_module(task.rsplit(".", 1)[0])
    app.tasks[task].apply_async(args=tuple(args))


def outbox_publish(messages: Sequence[Message]) -> int:
    """Publish committed messages and mark those the broker took as sent (one UPDATE); answers how many.

    A message the broker refused stays unsent for the relay."""
    from .models import OutboxMessage

    sent: list[str] = []
    for message in messages:
        try:
            _send(message.task, message.args)
        except Exception:  # broker down: the relay publishes it later
            log.exception("could not publish an outbox message", extra={"task": message.task})
        else:
            sent.append(message.key)
    if sent:
        marked = OutboxMessage.objects.filter(key__in=sent, sent_at__isnull=True)
        connection = transaction.get_connection()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Called after the commit that wrote them (autocommit): the mark needs no wait for the WAL flush,
            # one more fsync per request on the write paths. A mark lost to a database crash only means the
            # relay publishes those messages again, which every task tolerates (at least once, above).
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                marked.update(sent_at=timezone.now())
        else:
            marked.update(sent_at=timezone.now())
    return len(sent)


def outbox_relay(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish what a crash or an outage left unsent (written at least OUTBOX_RELAY_AFTER_SECONDS ago), oldest
    first, `limit` at a time under SKIP LOCKED (two relays share the work); delete sent rows older than
    OUTBOX_KEEP_SECONDS. Answers how many messages it published."""
    from .models import OutboxMessage

    now = now or timezone.now()
    published = 0
    with transaction.atomic():
        rows = list(OutboxMessage.objects.select_for_update(skip_locked=True)
                    .filter(sent_at__isnull=True,
                            created_at__lte=now - timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS))
                    .order_by("pk")[:limit])
        sent: list[int] = []
        for row in rows:
            try:
                _send(row.task, list(row.args))
            except Exception:  # still down: next round
                log.exception("outbox relay could not publish", extra={"task": row.task})
            else:
                sent.append(row.pk)
        if rows:
            OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(attempts=F("attempts") + 1)
        if sent:
            OutboxMessage.objects.filter(pk__in=sent).update(sent_at=timezone.now())
            published = len(sent)
    OutboxMessage.objects.filter(sent_at__lt=now - timedelta(seconds=settings.OUTBOX_KEEP_SECONDS)).delete()
    if published:
        log.info("outbox relay published messages left unsent", extra={"task": "relay_outbox", "count": published})
    return published


def resend_outgoing(*, now: datetime | None = None) -> dict[str, int]:
    """Queue again every effect still owed; answers how many of each kind were re-sent."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for name, path in settings.OUTBOX_RESENDERS.items():
        try:
            counts[name] = import_string(path)(now=now)
        except Exception:  # one effect's broker trouble must not stop the others being re-sent
            log.exception("re-send sweep failed", extra={"task": name})
            counts[name] = 0
    if any(counts.values()):
        log.info("re-sent outgoing effects", extra={"task": "resend_outgoing", "counts": counts})
    return counts
