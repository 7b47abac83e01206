"""Consequences at thresholds (docs/quality.md): the evaluation that puts shops under a consequence and lifts
it, flags serial returners, and the fast approval a shop over the dispute threshold gives on submission.

Every change writes a `QualityEvent` that says why (the figure, the threshold, the volume); the fast approval
writes the case's own `approve` event with the reason in its payload.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.models import Shop, User

from ..choices import ActorRole, Kind
from ..models import AfterSalesCase, Notification, PlatformSetting
from ..notifications import notify_many, shop_members, staff_ids
from ..scorecard import MIN_ORDER_ITEMS, Counts, all_shop_counts
from ..services.apply import Move, moves_apply, snapshot
from .models import BuyerStanding, QualityEvent, QualitySetting, ShopStanding
from .trust import MIN_ORDERS, buyer_records

DISPUTE_ON = "dispute_consequence_on"
DISPUTE_OFF = "dispute_consequence_off"
RESPONSE_ON = "response_warning_on"
RESPONSE_OFF = "response_warning_off"
SERIAL_ON = "serial_returner_flagged"
SERIAL_OFF = "serial_returner_cleared"
SETTINGS_CHANGED = "settings_changed"
FAST_APPROVAL = "shop_over_dispute_threshold"


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _why_off(held: bool) -> str:
    return "back_under_threshold" if held else "volume_below_minimum"


def shops_evaluate(*, now: datetime | None = None) -> list[QualityEvent]:
    """Hold every shop with ≥ 100 order items paid in the window to the thresholds; apply or lift each
    consequence whose condition changed, with an event saying why. Runs periodically (Celery beat) and by
    `python manage.py evaluate_quality`."""
    now = now or timezone.now()
    setting = QualitySetting.current()
    lo, hi, counts = all_shop_counts(now=now)
    written: list[QualityEvent] = []
    notices: list[Notification] = []
    with transaction.atomic():
        standings = {s.shop_id: s for s in ShopStanding.objects.select_for_update()}
        members = shop_members(counts.keys() | standings.keys())
        for shop_id in sorted(counts.keys() | standings.keys()):
            c = counts.get(shop_id, Counts())
            held = c.items_paid >= MIN_ORDER_ITEMS
            dispute, response = c.dispute_rate, c.first_response_hours
            over = held and dispute is not None and dispute > setting.dispute_rate_threshold
            slow = held and response is not None and response > setting.first_response_hours_threshold
            standing = standings.get(shop_id)
            if standing is None:
                if not (over or slow):
                    continue
                standing = ShopStanding(shop_id=shop_id)
            figures = {"from": lo.isoformat(), "to": hi.isoformat(), "order_items_paid": c.items_paid,
                       "ruled_refund": c.ruled_refund, "dispute_rate": _s(dispute),
                       "dispute_rate_threshold": str(setting.dispute_rate_threshold),
                       "responded": c.responded, "first_response_hours": _s(response),
                       "first_response_hours_threshold": str(setting.first_response_hours_threshold),
                       "minimum_order_items": MIN_ORDER_ITEMS}
            if over != standing.over_dispute_threshold:
                standing.over_dispute_threshold = over
                standing.over_dispute_since = now if over else None
                written.append(QualityEvent(at=now, kind=DISPUTE_ON if over else DISPUTE_OFF, shop_id=shop_id,
                                            payload={"why": "over_threshold" if over else _why_off(held),
                                                     **figures}))
            if slow != standing.response_warned:
                standing.response_warned = slow
                standing.response_warned_since = now if slow else None
                written.append(QualityEvent(at=now, kind=RESPONSE_ON if slow else RESPONSE_OFF, shop_id=shop_id,
                                            payload={"why": "over_threshold" if slow else _why_off(held),
                                                     **figures}))
                if slow:
                    notices.extend(Notification(user_id=u, kind="quality_warning",
                                                text=f"首次响应时长 {response} 小时，超过平台阈值 "
                                                     f"{setting.first_response_hours_threshold} 小时，请尽快处理")
                                   for u in members.get(shop_id, []))
            standing.figures, standing.evaluated_at = figures, now
            standing.save()
        QualityEvent.objects.bulk_create(written)
        notify_many(notices)
    return written


def buyers_evaluate(*, now: datetime | None = None) -> list[QualityEvent]:
    """Flag to staff every consumer with ≥ 10 orders in 90 days whose refund rate passes the threshold, with
    the evidence; clear the flag when it no longer holds. The flag never blocks a request."""
    now = now or timezone.now()
    setting = QualitySetting.current()
    records = buyer_records(None, now=now)
    written: list[QualityEvent] = []
    with transaction.atomic():
        standings = {s.consumer_id: s for s in BuyerStanding.objects.select_for_update()}
        for consumer_id in sorted(records.keys() | standings.keys()):
            record = records.get(consumer_id)
            rr = record.refund_rate if record else None
            flagged = (record is not None and record.orders >= MIN_ORDERS and rr is not None
                       and rr > setting.serial_returner_refund_rate)
            standing = standings.get(consumer_id)
            if standing is None:
                if not flagged:
                    continue
                standing = BuyerStanding(consumer_id=consumer_id)
            evidence = {**(record.evidence() if record else {"orders": 0}),
                        "threshold": str(setting.serial_returner_refund_rate), "minimum_orders": MIN_ORDERS}
            if flagged != standing.serial_returner:
                standing.serial_returner = flagged
                standing.flagged_at = now if flagged else None
                why = "refund_rate_over_threshold" if flagged else (
                    "back_under_threshold" if record and record.orders >= MIN_ORDERS else "volume_below_minimum")
                written.append(QualityEvent(at=now, kind=SERIAL_ON if flagged else SERIAL_OFF,
                                            consumer_id=consumer_id, payload={"why": why, **evidence}))
            standing.evidence, standing.evaluated_at = evidence, now
            standing.save()
        QualityEvent.objects.bulk_create(written)
        flagged_now = [e for e in written if e.kind == SERIAL_ON]
        if flagged_now:
            notify_many([Notification(user_id=u, kind="serial_returner",
                                      text=f"{len(flagged_now)} 位买家被标记为高频退款，请在后台概览查看")
                         for u in staff_ids()])
    return written


def quality_evaluate(*, now: datetime | None = None) -> list[QualityEvent]:
    return shops_evaluate(now=now) + buyers_evaluate(now=now)


def settings_changed(*, actor: User, before: dict[str, Any], after: dict[str, Any]) -> QualityEvent | None:
    """A supervisor's change of the thresholds, logged with the old and new values."""
    changed = {k: [str(before.get(k)), str(v)] for k, v in after.items() if str(before.get(k)) != str(v)}
    if not changed:
        return None
    return QualityEvent.objects.create(kind=SETTINGS_CHANGED, actor=actor, payload={"changed": changed})


def fast_approval_due(case: AfterSalesCase) -> dict[str, Any] | None:
    """The payload of the system's approval on submission when the case's shop is over the dispute threshold
    and the case is a `refund_only` at or under the fast-refund limit; None when no consequence applies."""
    if case.kind != Kind.REFUND_ONLY:
        return None
    # the shop's standing first: most shops are under the threshold, and then the limit need not be read
    standing = ShopStanding.objects.filter(shop_id=case.shop_id, over_dispute_threshold=True).first()
    if standing is None:
        return None
    limit = PlatformSetting.current().fast_refund_limit
    if case.amount > limit:
        return None
    figures = standing.figures or {}
    return {"auto": True, "consequence": FAST_APPROVAL, "dispute_rate": figures.get("dispute_rate"),
            "dispute_rate_threshold": figures.get("dispute_rate_threshold"), "fast_refund_limit": str(limit),
            "since": standing.over_dispute_since.isoformat() if standing.over_dispute_since else None}


def fast_approve_on_submission(case: AfterSalesCase, *, now: datetime) -> bool:
    """Approve (and so pay) a just-submitted case by the system through the one apply half, when the shop's
    consequence applies. Called inside the submission's transaction."""
    payload = fast_approval_due(case)
    if payload is None:
        return False
    before = snapshot(case)
    from_state = case.state
    case.approve()
    moves_apply([Move(case=case, action="approve", role=ActorRole.SYSTEM, actor=None, from_state=from_state,
                      before=before, payload=payload)], now=now)
    return True


def shops_over_dispute_threshold() -> list[Shop]:
    return list(Shop.objects.filter(quality_standing__over_dispute_threshold=True).order_by("code"))
