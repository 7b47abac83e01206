"""Reads: case lists and details with the related rows each page needs, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, F, Func, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from pickups.models import Pickup
from pickups.selectors import PREFETCH_ATTR as PICKUPS_PREFETCH_ATTR
from pickups.selectors import pickup_prefetch, pickups_of
from portal import sqlcache
from portal.db_router import read_alias
from portal.models import Shop, User

from .models import AfterSalesCase, CaseEvent, CaseEvidence
from .permissions import stand_in, visibility, visible_cases


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


def _events_of(case_ids: list[int]) -> QuerySet:
    return CaseEvent.objects.filter(case_id__in=case_ids).order_by("at", "id").values(*EVENT_FIELDS)


def _evidence_of(case_ids: list[int]) -> QuerySet:
    return CaseEvidence.objects.filter(case_id__in=case_ids).order_by("created_at", "id").values(*EVIDENCE_FIELDS)


def _newest_events_of(case_ids: list[int]) -> QuerySet:
    by_case = [F("case_id")]
    return (CaseEvent.objects.filter(case_id__in=case_ids).order_by()
            .annotate(newest_first=Window(RowNumber(), partition_by=by_case, order_by=[F("at").desc(), F("id").desc()]),
                      events_count=Window(Count("id"), partition_by=by_case))
            .filter(newest_first=1).values(*EVENT_FIELDS, "events_count"))


def case_history(case_ids: list[int]) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """Events and evidence of many cases as plain rows (two queries, no model instances), oldest first."""
    events: dict[int, list[dict]] = defaultdict(list)
    evidence: dict[int, list[dict]] = defaultdict(list)
    if not case_ids:
        return events, evidence
    for row in sqlcache.rows("case_events", _events_of, case_ids=case_ids):
        events[row["case_id"]].append(row)
    for row in sqlcache.rows("case_evidence", _evidence_of, case_ids=case_ids):
        evidence[row["case_id"]].append(row)
    return events, evidence


def case_event_summaries(case_ids: list[int]) -> tuple[dict[int, dict], dict[int, int], dict[int, list[dict]]]:
    """For a list page (api.md): each case's newest event and its number of events, and its evidence.

    The newest event is the last of the timeline's order (at, id). One query for both: the cases' events
    numbered newest first within their case and counted per case (two windows over the same rows, read
    through the (case, at) index), the first of each case kept.
    """
    if not case_ids:
        return {}, {}, {}
    last: dict[int, dict] = {}
    counts: dict[int, int] = {}
    for row in sqlcache.rows("case_newest_events", _newest_events_of, case_ids=case_ids):
        counts[row["case_id"]] = row.pop("events_count")
        last[row["case_id"]] = row
    evidence: dict[int, list[dict]] = defaultdict(list)
    for row in sqlcache.rows("case_evidence", _evidence_of, case_ids=case_ids):
        evidence[row["case_id"]].append(row)
    return last, counts, evidence


# A case list row: the case's own columns and the few related values the API shows, from one joined query.
CASE_ROW_FIELDS = ("id", "number", "kind", "reason", "state", "closure_reason", "quantity", "amount", "order_item_id",
                   "consumer_id", "shop_id", "freight_payer", "description", "condition_intact", "created_at",
                   "updated_at", "deadline_name", "deadline_due_at", "overdue", "escalated", "refund_amount",
                   "ruled_state", "ruled_at", "ruled_by_id", "appealed_at", "appeal_role", "appeal_from_state",
                   "appeal_answered_at", "appeal_ready", "appeal_outcome", "appeal_decided_by_id",
                   "appeal_decided_at", "closed_at")
CASE_ROW_RELATED = {
    "order_number": F("order_item__order__number"), "sku": F("order_item__product__sku"),
    "product_name": F("order_item__product__name"), "shop_code": F("shop__code"),
    "consumer_username": F("consumer__username"), "refund_id": F("refund__id"),
    "refund_paid_amount": F("refund__amount"), "refund_status": F("refund__status"),
    "refund_fast": F("refund__fast"), "refund_paid_at": F("refund__paid_at"),
    "order_shipped_at": F("order_item__order__shipped_at"), "order_signed_at": F("order_item__order__signed_at"),
    "order_carrier": F("order_item__order__carrier"), "order_waybill": F("order_item__order__waybill"),
    "product_on_site_service": F("order_item__product__on_site_service"),  # docs/visits.md
    # the consumer's rating (api.md), joined one-to-one so a list page costs no extra query
    "rating_stars": F("rating__stars"), "rating_tags": F("rating__tags"), "rating_comment": F("rating__comment"),
    "rating_pickup_stars": F("rating__pickup_stars"), "rating_hidden": F("rating__comment_hidden"),
    "rating_at": F("rating__created_at"),
}


def case_rows(qs: QuerySet[AfterSalesCase]) -> QuerySet:
    """The list as plain rows (no model instances): a page of 50 costs one query and no object building."""
    return qs.select_related(None).values(*CASE_ROW_FIELDS, **CASE_ROW_RELATED)


# From this offset on, a page first reads its case ids alone (an index-only walk), then the rows for those
# ids: the skipped cases cost an index entry each instead of a row and five joined lookups each.
DEFERRED_JOIN_OFFSET = 200


TOTAL_KEY = "total_of_list"  # the count carried on each row of a page read with its count (CountedRows.expect)


class CountedRows:
    """A page source for a paginator: `rows` (plain rows of `case_rows`, or cases) counted on `counted`
    (the plain case query: a count over the rows' joins would visit every joined row of a big shop).

    From DEFERRED_JOIN_OFFSET on, a page reads its ids alone first (an index-only walk), then its rows.

    `expect(offset, limit)` names the page the paginator will ask for: the paginator's count then reads that
    page with the exact count beside it (an uncorrelated subquery PostgreSQL runs once, in the same snapshot),
    one statement instead of two. A page with no rows (past the end) counts on its own.

    `CountedRows.compiled(key, build, args)`: the two querysets are `build(**args)` (plain rows only), and
    the page's reads are compiled once per shape (portal.sqlcache): the same statements, without building
    and compiling the nine-relation query at every request.
    """

    ordered = True

    def __init__(self, rows: QuerySet | None, counted: QuerySet[AfterSalesCase] | None) -> None:
        self._rows, self._counted = rows, counted
        self._shape: tuple[Hashable, Callable[..., tuple[QuerySet, QuerySet]], dict[str, Any]] | None = None
        self._instances = False
        self._expected: slice | None = None
        self._page: list[Any] | None = None
        self._total: int | None = None

    @classmethod
    def compiled(cls, key: Hashable, build: Callable[..., tuple[QuerySet, QuerySet]],
                 args: dict[str, Any], *, instances: bool = False) -> CountedRows:
        """`instances`: `build` gives querysets of model instances (else plain `.values()` rows)."""
        source = cls(None, None)
        source._shape = (key, build, args)
        source._instances = instances
        return source

    def _built(self) -> tuple[QuerySet, QuerySet]:
        if self._rows is None or self._counted is None:
            assert self._shape is not None
            self._rows, self._counted = self._shape[1](**self._shape[2])
        return self._rows, self._counted

    @property
    def rows(self) -> QuerySet:
        return self._built()[0]

    @property
    def counted(self) -> QuerySet[AfterSalesCase]:
        return self._built()[1]

    def _read(self, tag: Hashable, make: Callable[[QuerySet, QuerySet], QuerySet]) -> list[Any]:
        if self._shape is None:
            return list(make(*self._built()))
        key, build, args = self._shape
        read = sqlcache.objects if self._instances else sqlcache.rows
        return read((key, tag), lambda **values: make(*build(**values)), **args)

    def expect(self, offset: int, limit: int) -> CountedRows:
        if 0 <= offset < DEFERRED_JOIN_OFFSET and limit > 0:
            self._expected = slice(offset, offset + limit)
        return self

    def count(self) -> int:
        if self._total is None and self._expected is not None:
            expected = self._expected

            def with_count(rows: QuerySet, counted: QuerySet) -> QuerySet:
                total = Subquery(counted.order_by().select_related(None)
                                 .annotate(n=Func(F("id"), function="COUNT")).values("n")[:1])
                return rows.annotate(**{TOTAL_KEY: total})[expected]

            page = self._read(("page+count", expected.start, expected.stop), with_count)
            for row in page:
                self._total = row.pop(TOTAL_KEY) if isinstance(row, dict) else getattr(row, TOTAL_KEY)
            self._page = page
        if self._total is None:
            self._total = self.counted.count()
        return self._total

    def __getitem__(self, index: slice) -> list[Any]:
        expected = self._expected
        if self._page is not None and expected is not None and index.start == expected.start \
                and index.stop is not None and index.stop <= expected.stop:
            # Django's paginator asks for [offset:count] on the last page: the rows read are those
            return self._page[:index.stop - index.start]
        if (index.start or 0) < DEFERRED_JOIN_OFFSET:
            return self._read(("slice", index.start, index.stop), lambda rows, counted: rows[index])
        ids = list(self.counted.select_related(None).values_list("id", flat=True)[index])
        by_id = {row["id"] if isinstance(row, dict) else row.pk: row
                 for row in self.rows.order_by().filter(id__in=ids)}
        return [by_id[i] for i in ids if i in by_id]


def case_list_source(user: User, *, state: str | None = None, kind: str | None = None, shop: str | None = None,
                     ordering: str | None = None) -> CountedRows:
    """The API's case list (plain rows of `case_rows` over `case_list_for`) as a paginator source whose
    reads are compiled once per shape: who the user is (staff, merchant, consumer), which filters are given,
    the ordering and the page; the user's shops or id, the filters' values are the statement's parameters."""
    who, args = visibility(user)
    if state:
        args["states"] = state.split(",")
    if kind:
        args["kinds"] = kind.split(",")
    if shop:
        args["shop"] = shop

    def build(states: list[str] | None = None, kinds: list[str] | None = None, shop: str | None = None,
              **visible: Any) -> tuple[QuerySet, QuerySet]:
        qs = case_list_for(stand_in(who, **visible), state=",".join(states) if states else None,
                           kind=",".join(kinds) if kinds else None, shop=shop, ordering=ordering)
        return case_rows(qs), qs

    return CountedRows.compiled(("case_list", who, bool(state), bool(kind), bool(shop), ordering), build, args)


def case_row_for(user: User, case_id: int) -> list[dict[str, Any]]:
    """The one case the user may see as a row of `case_rows` (empty: not theirs, or no such case); compiled
    once per kind of user (portal.sqlcache)."""
    who, args = visibility(user)
    return sqlcache.rows(("case_row", who),
                         lambda case_id, **visible: case_rows(case_list_for(stand_in(who, **visible)).filter(pk=case_id)),
                         case_id=case_id, **args)


@contextmanager
def joins_as_written() -> Iterator[None]:
    """Join the tables in the order the query names them (the case, then what it points to).

    For a page of cases read in index order (or one case by id) the written order is the right one, and
    PostgreSQL otherwise spends 5–15 ms searching every order of the list's seven tables for a query that
    runs in 1–2 ms. Not for queries that filter on a joined table.
    """
    alias = read_alias()  # the replica's session when the list is read there
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    outer = connection.in_atomic_block
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL join_collapse_limit = 1")
        yield
        if outer:  # the setting would outlive this block until the enclosing transaction ends
            cursor.execute("SET LOCAL join_collapse_limit TO DEFAULT")


def case_detail_for(user: User, case_id: int) -> AfterSalesCase | None:
    """One case the user may see, with everything its page shows (None: not theirs, or no such case).

    The statements `with_details(case_list_for(user)).filter(pk=case_id).first()` sends, compiled once
    per kind of user (portal.sqlcache): the case with its related rows, then its events, evidence and
    pickups put where the prefetch would have put them."""
    who, args = visibility(user)
    found = sqlcache.objects(("case_detail", who),
                             lambda case_id, **visible: case_list_for(stand_in(who, **visible)).filter(pk=case_id)[:1],
                             case_id=case_id, **args)
    if not found:
        return None
    fill_details(found)
    return found[0]


def _event_objects(case_ids: list[int]) -> QuerySet:
    return CaseEvent.objects.filter(case_id__in=case_ids).order_by("at", "id")


def _evidence_objects(case_ids: list[int]) -> QuerySet:
    return CaseEvidence.objects.filter(case_id__in=case_ids).order_by("created_at", "id")


def fill_details(cases: list[AfterSalesCase]) -> None:
    """What `with_details` prefetches, read by compiled statements (the same three, in the same order) and
    stored in the same places: `case.events.all()`, `case.evidence.all()`, `current_pickup(case)`."""
    if not cases:
        return
    ids = [case.pk for case in cases]
    by_id = {case.pk: case for case in cases}
    for name, model, build in (("events", CaseEvent, _event_objects), ("evidence", CaseEvidence, _evidence_objects)):
        found: dict[int, list[Any]] = defaultdict(list)
        back = model._meta.get_field("case")
        for obj in sqlcache.objects(("details", name), build, case_ids=ids):
            back.set_cached_value(obj, by_id[obj.case_id])  # as the prefetch does: event.case is the case
            found[obj.case_id].append(obj)
        cache_name = AfterSalesCase._meta.get_field(name).cache_name
        for case in cases:
            qs: Any = model._default_manager.db_manager(case._state.db).get_queryset()
            qs._result_cache = found.get(case.pk, [])
            qs._prefetch_done = True
            prefetched: dict[str, Any] = case.__dict__.setdefault("_prefetched_objects_cache", {})
            prefetched[cache_name] = qs
    pickups: dict[int, list[Any]] = defaultdict(list)
    back = Pickup._meta.get_field("case")
    for pickup in sqlcache.objects("current_pickups", pickups_of, case_ids=ids):
        back.set_cached_value(pickup, by_id[pickup.case_id])
        pickups[pickup.case_id].append(pickup)
    for case in cases:
        setattr(case, PICKUPS_PREFETCH_ATTR, pickups.get(case.pk, []))

