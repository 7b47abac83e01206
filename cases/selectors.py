"""Reads: case lists and details with the related rows each page needs, in a fixed number of queries."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet, Subquery

from pickups.selectors import pickup_prefetch
from portal.models import Shop, User

from .models import AfterSalesCase, CaseEvent, CaseEvidence
from .permissions import visible_cases


def case_list_for(user: User, *, state: str | None = None, kind: str | None = None, shop: str | None = None,
                  ordering: str | None = None) -> QuerySet[AfterSalesCase]:
    qs = visible_cases(user).select_related(
        "order_item__order", "order_item__product", "shop", "consumer", "refund"
    )
    if state:
        qs = qs.filter(state__in=state.split(","))
    if kind:
        qs = qs.filter(kind__in=kind.split(","))
    if shop:
        # a constant shop id lets PostgreSQL walk the (shop, deadline) index instead of joining and sorting
        qs = qs.filter(shop=Subquery(Shop.objects.filter(code=shop).values("pk")[:1]))
    if ordering in ("deadline", "deadline_due_at"):
        qs = qs.order_by(F("deadline_due_at").asc(nulls_last=True), "id")
    elif ordering == "-deadline":
        qs = qs.order_by(F("deadline_due_at").desc(nulls_last=True), "-id")
    elif ordering == "created_at":
        qs = qs.order_by("created_at", "id")
    else:
        qs = qs.order_by("-created_at", "-id")
    return qs


def with_details(qs: QuerySet[AfterSalesCase]) -> QuerySet[AfterSalesCase]:
    return qs.prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.order_by("at", "id")),
        Prefetch("evidence", queryset=CaseEvidence.objects.order_by("created_at", "id")),
        *pickup_prefetch(),
    )


EVENT_FIELDS = ("case_id", "at", "actor_username", "role", "action", "from_state", "to_state", "payload")
EVIDENCE_FIELDS = ("id", "case_id", "role", "content_type", "size", "original_name", "note", "created_at")


def case_history(case_ids: list[int]) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """Events and evidence of many cases as plain rows (two queries, no model instances), oldest first."""
    from collections import defaultdict

    events: dict[int, list[dict]] = defaultdict(list)
    for row in CaseEvent.objects.filter(case_id__in=case_ids).order_by("at", "id").values(*EVENT_FIELDS):
        events[row["case_id"]].append(row)
    evidence: dict[int, list[dict]] = defaultdict(list)
    for row in CaseEvidence.objects.filter(case_id__in=case_ids).order_by("created_at", "id").values(
            *EVIDENCE_FIELDS):
        evidence[row["case_id"]].append(row)
    return events, evidence


def case_detail_for(user: User, case_id: int) -> AfterSalesCase | None:
    return with_details(case_list_for(user)).filter(pk=case_id).first()

