"""Live pages: a page polls its own URL with `?live=<version>`; 204 while nothing changed, else the page.

The version is one row read: the case's state and clock, its newest event, pickup event, message and evidence,
and its refund's status. htmx then swaps the page's live regions out of band (`hx-select-oob`) and leaves a
form someone is filling in alone (portal.js).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse

from cases.models import AfterSalesCase, CaseEvent, CaseEvidence, CaseMessage
from pickups.models import PickupEvent
from portal import sqlcache

POLL_SECONDS = 4


def _newest(model: Any, **filters: Any) -> Subquery:
    return Subquery(model.objects.filter(**filters).order_by("-id").values("id")[:1])


def _digest(values: Iterable[Any]) -> str:
    return hashlib.sha1("|".join(str(v) for v in values).encode()).hexdigest()[:16]


VERSION_FIELDS = ("state", "deadline_due_at", "last_event", "last_pickup_event", "last_message", "last_evidence",
                  "refund__status", "refund__paid_at", "assignee_id")


def _version_row(case_id: int) -> Any:
    return AfterSalesCase.objects.filter(pk=case_id).annotate(
        last_event=_newest(CaseEvent, case=OuterRef("pk")),
        last_pickup_event=_newest(PickupEvent, pickup__case=OuterRef("pk")),
        last_message=_newest(CaseMessage, case=OuterRef("pk")),
        last_evidence=_newest(CaseEvidence, case=OuterRef("pk")),
    ).order_by("pk").values(*VERSION_FIELDS)[:1]


def case_version(case_id: int) -> str:
    """Changes whenever the case, its pickup, its refund, its talk or its evidence changes (one row read, its
    statement compiled once per process: portal.sqlcache)."""
    rows = sqlcache.rows("case_version", _version_row, case_id=case_id)
    return _digest(tuple(rows[0][name] for name in VERSION_FIELDS) if rows else ())


def queue_version(summary: Iterable[Any]) -> str:
    """The merchant queue's version: its per-state summary (cases.merchant.selectors.queue_state_summary,
    the same grouped query that counts the tabs: no statement of its own). It changes when a case enters
    or leaves the queue under the page's filters or one of its cases moves (every move saves the case row)."""
    return _digest(summary)


def unchanged(request: HttpRequest, version: str) -> HttpResponse | None:
    """204 when the poller already shows this version; None when the page should be rendered."""
    if request.headers.get("HX-Request") and request.GET.get("live") == version:
        return HttpResponse(status=204)
    return None
