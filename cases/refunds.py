"""Money: the Refund record (same transaction as the state change) and its asynchronous payout."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.models import OrderItem, User, Wallet, WalletEntry
from portal.outbox import outbox_put

from . import effects
from .choices import RefundStatus
from .models import AfterSalesCase, Refund, RefundPayout
from .notifications import notify_staff
from .payments import PaymentError, gateway

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class AmountBelowPaid(DomainError):
    """A decision for less than the consumer has already been paid: refused, nothing changes."""


def refund_settle(*, case: AfterSalesCase, amount: Decimal, fast: bool = False,
                  now: datetime | None = None) -> RefundPayout | None:
    """Make what the case pays equal `amount` (lifecycle.md, Money): the case's Refund and its first payout,
    or — when a later decision raises the amount — a further payout of the difference.

    Answers the payout created, or None when the amount is already what is paid. An amount below what the
    refund already pays raises `amount_below_paid`. Runs inside the transaction that decides the amount
    (the case row locked); payouts go to the provider after commit.
    """
    now = now or timezone.now()
    refund = Refund.objects.select_for_update().filter(case=case).first()
    if refund is None:
        refund = Refund.objects.create(case=case, amount=amount, fast=fast, idempotency_key=f"refund-{case.number}",
                                       status=RefundStatus.PENDING, created_at=now)
        payout = RefundPayout.objects.create(refund=refund, amount=amount, idempotency_key=refund.idempotency_key,
                                             fast=fast, created_at=now)
    else:
        if amount < refund.amount:
            raise AmountBelowPaid(
                "amount_below_paid",
                _("已向消费者退款 ¥%(paid)s，金额不能低于已退金额") % {"paid": refund.amount}, field="amount")
        if amount == refund.amount:
            return None
        key = f"{refund.idempotency_key}-{refund.payouts.count() + 1}"
        payout = RefundPayout.objects.create(refund=refund, amount=amount - refund.amount, idempotency_key=key,
                                             fast=fast, created_at=now)
        refund.amount = amount
        refund.status = RefundStatus.PENDING
        refund.attempts = 0
        refund.save(update_fields=["amount", "status", "attempts"])
    restore_points_and_coupons([refund], now=now, points_keys={refund.pk: payout.idempotency_key})
    payouts_enqueue([refund.pk], key=f"payout:{payout.idempotency_key}")
    return payout


def payouts_enqueue(refund_ids: list[int], *, key: str = "") -> None:
    """Owe the payout tasks of these refunds through the outbox (portal.outbox): one message written in this
    transaction, published after commit (a batch's refunds are one message that a worker fans out), and by
    the outbox relay when a crash or a broker outage left it unsent. `refund_execute` is idempotent."""
    if not refund_ids:
        return
    if len(refund_ids) == 1:
        outbox_put("cases.tasks.execute_refund", [refund_ids[0]], key=key)
    else:
        outbox_put("cases.tasks.enqueue_refund_payouts", [list(refund_ids)], key=key)


@dataclass(frozen=True)
class Credit:
    """One ledger line to write at most once (its `key`), with the points it adds or the coupon it returns."""

    user_id: int
    key: str
    reason: str
    points: int = 0
    coupon: dict[str, Any] = field(default_factory=dict)


def wallets_credit(credits: list[Credit]) -> set[str]:
    """Write each credit once per key, in one pass; answers the keys this call credited.

    Wallets are locked in id order (no deadlock with a concurrent credit); a key is always the same
    wallet's, so under that lock "not yet in the ledger" stays true until this transaction commits.
    """
    if not credits:
        return set()
    user_ids = sorted({c.user_id for c in credits})
    Wallet.objects.bulk_create([Wallet(user_id=u) for u in user_ids], ignore_conflicts=True)
    wallets = {w.user_id: w.pk for w in Wallet.objects.select_for_update().filter(user_id__in=user_ids).order_by("pk")}
    done = set(WalletEntry.objects.filter(key__in=[c.key for c in credits]).values_list("key", flat=True))
    entries: list[WalletEntry] = []
    added: defaultdict[int, int] = defaultdict(int)
    for credit in credits:
        if credit.key in done:
            continue
        done.add(credit.key)
        entries.append(WalletEntry(wallet_id=wallets[credit.user_id], key=credit.key, points=credit.points,
                                   reason=credit.reason, **credit.coupon))
        added[wallets[credit.user_id]] += credit.points
    WalletEntry.objects.bulk_create(entries)
    by_amount: dict[int, list[int]] = defaultdict(list)
    for wallet_id, points in added.items():
        if points:
            by_amount[points].append(wallet_id)
    for points, wallet_ids in by_amount.items():
        Wallet.objects.filter(pk__in=wallet_ids).update(points=F("points") + points)
    return {e.key for e in entries}


def wallet_credit(*, user: User, key: str, points: int = 0, reason: str, **coupon: Any) -> bool:
    """Credit once per key; answers whether this call credited."""
    return bool(wallets_credit([Credit(user_id=user.pk, key=key, reason=reason, points=points, coupon=coupon)]))


def restore_points_and_coupons(refunds: list[Refund], *, now: datetime | None = None,
                               points_keys: dict[int, str] | None = None) -> None:
    """Give back, for refunds just created in this transaction (in their order), the order's points in
    proportion to what its refunds now total, and its coupon once the whole order is refunded.

    Works on any number of refunds with a fixed number of queries (the sweep passes a whole batch).
    Each refund sees the order's refunds before it, as if they had been created one at a time. A refund just
    raised (a further payout) credits under that payout's key (`points_keys`: refund id → key).
    """
    now = now or timezone.now()
    # only the refunds whose order used points or a coupon (one query finds them, with their orders)
    items = {item.pk: item for item in OrderItem.objects.select_related("order").filter(
        pk__in={r.case.order_item_id for r in refunds}).filter(Q(order__points_used__gt=0) | ~Q(order__coupon_code=""))}
    mine = [r for r in refunds if r.case.order_item_id in items]
    if not mine:
        return
    order_of = {r.pk: items[r.case.order_item_id].order for r in mine}
    orders = {order.pk: order for order in order_of.values()}
    paid = dict(OrderItem.objects.filter(order_id__in=orders).values("order_id")
                .annotate(total=Sum("paid")).values_list("order_id", "total"))
    totals = {row["order_id"]: row for row in Refund.objects.filter(case__order_item__order_id__in=orders)
              .values(order_id=F("case__order_item__order_id"))
              .annotate(refunded=Sum("amount"), points=Sum("points_restored"))}
    # what the order's refunds totalled before these ones (these are in the totals, with 0 points)
    refunded = {o: totals[o]["refunded"] or Decimal("0") for o in orders}
    points_given = {o: totals[o]["points"] or 0 for o in orders}
    for refund in mine:
        refunded[order_of[refund.pk].pk] -= Decimal(refund.amount)
    credits, points_for, coupon_for = [], {}, {}
    for refund in mine:
        case = refund.case
        order = order_of[refund.pk]
        order_paid = paid.get(order.pk) or Decimal("0")
        refunded[order.pk] += Decimal(refund.amount)
        if order.points_used and order_paid > 0:
            target = (Decimal(order.points_used) * refunded[order.pk] / order_paid).quantize(
                Decimal("1"), rounding=ROUND_HALF_UP)
            points = max(min(int(target), order.points_used) - points_given[order.pk], 0)
            if points:
                key = f"points-{(points_keys or {}).get(refund.pk, refund.idempotency_key)}"
                credits.append(Credit(user_id=case.consumer_id, key=key, points=points,
                                      reason=f"退款返还积分 {case.number}"))
                points_for[key] = (refund, points)
                points_given[order.pk] += points
        if order.coupon_code and refunded[order.pk] >= order_paid and (
            order.coupon_valid_until is None or order.coupon_valid_until > now
        ):
            key = f"coupon-{order.number}"
            if key not in coupon_for:
                credits.append(Credit(user_id=case.consumer_id, key=key, reason=f"整单退款返还优惠券 {order.number}",
                                      coupon={"coupon_code": order.coupon_code, "coupon_value": order.coupon_value,
                                              "coupon_valid_until": order.coupon_valid_until}))
                coupon_for[key] = refund
    credited = wallets_credit(credits)
    changed = {}
    for key, (refund, points) in points_for.items():
        if key in credited:
            refund.points_restored += points
            changed[refund.pk] = refund
    for key, refund in coupon_for.items():
        if key in credited:
            refund.coupon_restored = True
            changed[refund.pk] = refund
    Refund.objects.bulk_update(list(changed.values()), ["points_restored", "coupon_restored"])


def refund_execute(*, refund_id: int) -> Refund:
    """Send every unpaid payout of the refund, each with its own idempotency key. Safe to run any number of
    times, concurrently too: the provider pays a key once, and a payout is marked paid once."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("case__order_item__order").get(pk=refund_id)
        if refund.status == RefundStatus.SUCCEEDED:
            return refund
        refund.attempts += 1
        refund.last_attempt_at = timezone.now()
        refund.save(update_fields=["attempts", "last_attempt_at"])
        unpaid = list(refund.payouts.exclude(status=RefundStatus.SUCCEEDED).order_by("pk"))
    order_number = refund.case.order_item.order.number
    for payout in unpaid:
        try:
            sent = gateway().refund(idempotency_key=payout.idempotency_key, amount=payout.amount,
                                    order_number=order_number)
        except PaymentError as exc:
            _record_failure(refund_id, exc)
            raise
        with transaction.atomic():
            RefundPayout.objects.filter(pk=payout.pk).exclude(status=RefundStatus.SUCCEEDED).update(
                status=RefundStatus.SUCCEEDED, provider_reference=sent.reference, paid_at=timezone.now())
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.SUCCEEDED and not refund.payouts.exclude(
                status=RefundStatus.SUCCEEDED).exists():
            last = refund.payouts.order_by("-pk").first()
            refund.status = RefundStatus.SUCCEEDED
            refund.provider_reference = last.provider_reference if last else ""
            refund.paid_at = timezone.now()
            refund.save(update_fields=["status", "provider_reference", "paid_at"])
    return refund


def _record_failure(refund_id: int, exc: Exception) -> None:
    """A failed attempt: after MAX_ATTEMPTS the refund is `failed` and staff are told (they can retry)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("case").get(pk=refund_id)
        refund.last_error = str(exc)[:255]
        if refund.attempts >= MAX_ATTEMPTS and refund.status == RefundStatus.PENDING:
            refund.status = RefundStatus.FAILED
            notify_staff(case=refund.case, kind="refund_failed")
        refund.save(update_fields=["last_error", "status"])


def refunds_due_for_retry(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending refunds whose payout task went missing: old enough, and not attempted recently.

    A refund still inside its own task's retries (attempted recently) is left to them: re-sending it would
    use up its attempts early and could mark a payout that went through as failed.
    """
    stale = (now or timezone.now()) - timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS)
    return list(Refund.objects.filter(status=RefundStatus.PENDING, created_at__lte=stale)
                .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=stale))
                .order_by("pk").values_list("pk", flat=True)[:limit])


def refunds_resend(*, now: datetime) -> int:
    """Outbox: queue the payout again for refunds whose payout task went missing (refunds_due_for_retry)."""
    ids = refunds_due_for_retry(now=now)
    for refund_id in ids:
        effects.refund_payout_enqueue(refund_id, robust=False)
    return len(ids)
