"""One re-send sweep for every outgoing effect.

Each effect (a refund payout, a notification's email copy, an export, a courier booking or cancellation) is
recorded in the database in the transaction that causes it and queued after commit. When that message is
lost (broker down at commit, flushed, a worker killed), the row is still there: this sweep finds each kind
of effect still owed after a grace period and queues it again. Every task it queues is idempotent.
The effects and the function that re-sends each are listed in settings.OUTBOX_RESENDERS.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


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
