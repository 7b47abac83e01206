"""Opening a case: eligibility, the claim, evidence, the first clock."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import cast

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Order, OrderItem, Product, Role, Shop, User

from .. import events, policy
from ..choices import Action, ActorRole, Kind, Reason
from ..deadlines import deadline_first
from ..evidence import evidence_store, evidence_validate, photo_count
from ..models import AfterSalesCase
from ..notifications import next_party_notices, notify_many
from ..quality.consequences import fast_approve_on_submission
from .base import CaseError, _case_number, _parse_amount
from .inputs import Amount

log = logging.getLogger("cases")


def case_submit(
    *,
    consumer: User,
    order_item_id: int,
    kind: str,
    reason: str,
    quantity: int | None = None,
    amount: Amount = None,
    description: str = "",
    condition_intact: bool = False,
    evidence_files: list | None = None,
    now: datetime | None = None,
) -> AfterSalesCase:
    """Open a case after checking eligibility in lifecycle.md's order; evidence is stored with it.

    `not_your_order` comes before anything else, field checks included: another consumer's item is a 404
    whatever else the request gets wrong.
    """
    now = now or timezone.now()
    if consumer.role != Role.CONSUMER or not isinstance(order_item_id, int) or isinstance(order_item_id, bool):
        raise CaseError("not_your_order", _("找不到该订单商品"), field="order_item", status=404)
    with transaction.atomic():
        # The item, locked, only if it is this consumer's: ownership, the lock and everything eligibility reads
        # of the order, product and shop in one statement (and, on PostgreSQL, the new case's id, so its number
        # goes into the INSERT).
        item, next_id, member_ids, version, earlier = _locked_own_item(consumer, order_item_id)
        if item is None:
            raise CaseError("not_your_order", _("找不到该订单商品"), field="order_item", status=404)
        if kind in (None, ""):
            raise CaseError("required", _("此项为必填项"), field="kind")
        if kind not in Kind.values:
            raise CaseError("invalid", _("售后类型无效"), field="kind")
        if reason in (None, ""):
            raise CaseError("required", _("此项为必填项"), field="reason")
        if reason not in Reason.values:
            raise CaseError("invalid", _("售后原因无效"), field="reason")
        files = evidence_validate(evidence_files or [])
        parsed_amount = _parse_amount(amount)
        if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1):
            raise CaseError("invalid", _("数量须为正整数"), field="quantity")
        if not isinstance(description, str) or len(description) > 2000:
            raise CaseError("invalid", _("描述过长"), field="description")
        ledger = policy.item_ledger(item, earlier)
        qty = quantity if quantity is not None else max(item.quantity - ledger.units_used, 1)
        request = policy.Request(kind=kind, reason=reason, quantity=qty, amount=parsed_amount,
                                 condition_intact=bool(condition_intact), evidence_count=photo_count(files))
        refusal = policy.check_eligibility(item, request, now=now, ledger=ledger)
        if refusal:
            raise CaseError(refusal.code, refusal.detail, field=refusal.field, status=refusal.status)
        if kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND):
            claim = parsed_amount if parsed_amount is not None else policy.claimable(item, qty, ledger)
            if claim <= 0:
                raise CaseError("invalid", _("退款金额须大于 0"), field="amount")
        else:
            claim = policy.ZERO
        case = AfterSalesCase(
            order_item=item, consumer=consumer, shop=item.order.shop, kind=kind, reason=reason,
            quantity=qty, amount=claim, description=description.strip(),
            condition_intact=bool(condition_intact),
            freight_payer=policy.freight_payer(kind, reason, insured=item.order.return_shipping_insurance),
            created_at=now,
        )
        # the first clock's due time goes into the case's INSERT; the calendar is this process's copy when the
        # version read with the item says it is current
        clock = deadline_first(case=case, now=now, calendar=policy.calendar(version))
        if next_id is not None:
            case.pk = next_id
            case.number = _case_number(case)
            case.save(force_insert=True)
        else:  # no sequence to draw from (SQLite, the demo): a placeholder until the id is known
            case.number = f"TMP-{uuid.uuid4().hex[:28]}"
            case.save(force_insert=True)
            case.number = _case_number(case)
            AfterSalesCase.objects.filter(pk=case.pk).update(number=case.number)
        event = events.submitted(case=case, consumer=consumer, kind=kind, reason=reason, quantity=qty,
                                 amount=claim, evidence=len(files), at=now)
        stored = evidence_store(case=case, files=files, uploaded_by=consumer, role=ActorRole.CONSUMER)
        if clock is not None:
            clock.case = case
            clock.save(force_insert=True)
        notify_many(next_party_notices(case, Action.SUBMIT, {case.shop_id: member_ids}))
        if not fast_approve_on_submission(case, now=now):
            # What the case has now is exactly what was just written: its history and evidence as prefetched
            # rows, so the 201 is built from them (cases.api.case_created_json) instead of read back. A case
            # the system approved at once moved on (more events, a refund): not filled, read back.
            case.order_item, case.consumer = item, consumer
            case._prefetched_objects_cache = {
                "events": _prefetched(case.events.all(), [event]),
                "evidence": _prefetched(case.evidence.all(), stored)}
        log.info("case %s: submitted (%s/%s)", case.number, kind, reason, extra={"case": case.number})
    return case


def _prefetched(qs: QuerySet, rows: list) -> QuerySet:
    """`qs` with `rows` as its result, as prefetch_related leaves a related manager's cache."""
    qs._result_cache = rows
    qs._prefetch_done = True  # type: ignore[attr-defined]
    return qs


def _locked_own_item(consumer: User, order_item_id: int) -> tuple[
        OrderItem | None, int | None, list[int], int | None, list[SimpleNamespace] | None]:
    """The consumer's order item, locked (FOR UPDATE of the item row), with its order, product and shop; the
    shop's member ids (for the merchant's notice); on PostgreSQL, in the same statement, the id the new case
    will take, drawn from the cases' sequence (an id a refused request draws is skipped, as one a rolled-back
    INSERT draws would be), the calendar's version (policy.calendar) and the item's earlier cases with their
    refunds, as `policy.item_ledger` reads them (None elsewhere: the ledger reads them itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_item_sql(), (order_item_id, consumer.pk))
            row = cursor.fetchone()
        if row is None:
            return None, None, [], None, None
        objects = []
        at = 0
        for model, names in _ITEM_COLUMNS:
            objects.append(model.from_db(connection.alias, names, row[at:at + len(names)]))
            at += len(names)
        item, (order, shop, product) = cast(OrderItem, objects[0]), objects[1:]
        Order._meta.get_field("shop").set_cached_value(order, shop)
        OrderItem._meta.get_field("order").set_cached_value(item, order)
        OrderItem._meta.get_field("product").set_cached_value(item, product)
        next_id, member_ids, version = row[at:]
        # The item's earlier cases are NOT taken from this statement: its subqueries see the statement's
        # snapshot, taken before the lock was granted, so a concurrent submission for the same item that
        # committed while this one waited would be missed (two open cases: tests/cases/test_races.py::
        # test_double_submitted_case_creation). The ledger reads them after the lock, in a fresh snapshot.
        return item, int(next_id), list(member_ids), version, None
    found = (OrderItem.objects.select_for_update(of=("self",)).select_related("order", "product", "order__shop")
             .filter(pk=order_item_id, order__consumer_id=consumer.pk).first())
    if found is None:
        return None, None, [], None, None
    return found, None, list(Shop.members.through.objects.filter(shop_id=found.order.shop_id).order_by("user_id")
                             .values_list("user_id", flat=True)), None, None


# The item with its order, shop and product, as select_related would read them (every concrete column, so the
# instances are whole), in one statement written once per process: building the same query through the ORM
# cost 5-7 ms of Python per submission, most of the request's own work.
_ITEM_COLUMNS: list[tuple[type[Model], list[str]]] = []
_ITEM_SQL: list[str] = []


def _item_sql() -> str:
    if _ITEM_SQL:
        return _ITEM_SQL[0]
    tables = {OrderItem: "i", Order: "o", Shop: "s", Product: "p"}
    columns = []
    for model, alias in tables.items():
        fields = model._meta.concrete_fields
        _ITEM_COLUMNS.append((model, [f.attname for f in fields]))
        columns += [f'{alias}."{f.column}"' for f in fields]
    q = connection.ops.quote_name
    case = AfterSalesCase._meta.db_table
    _ITEM_SQL.append(
        f"SELECT {', '.join(columns)}, "
        f"nextval(pg_get_serial_sequence('{case}', 'id')), "
        f"ARRAY(SELECT m.user_id FROM {q(Shop.members.through._meta.db_table)} m WHERE m.shop_id = o.shop_id "
        f"ORDER BY m.user_id), "
        f"{policy.CALENDAR_VERSION_SQL} "
        f"FROM {q(OrderItem._meta.db_table)} i JOIN {q(Order._meta.db_table)} o ON o.id = i.order_id "
        f"JOIN {q(Shop._meta.db_table)} s ON s.id = o.shop_id JOIN {q(Product._meta.db_table)} p ON p.id = i.product_id "
        f"WHERE i.id = %s AND o.consumer_id = %s FOR UPDATE OF i")
    return _ITEM_SQL[0]


