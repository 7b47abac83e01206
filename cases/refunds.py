"""Money: the Refund record (same transaction as the state change) and its asynchronous payout."""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from portal.models import Order, User, Wallet, WalletEntry

from .choices import RefundStatus
from .models import AfterSalesCase, Refund
from .payments import PaymentError, gateway

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def refund_create(*, case: AfterSalesCase, amount: Decimal, fast: bool = False) -> Refund:
    """Create the case's one Refund (pending) and restore points/coupon; payout after commit.

    Must run inside the transaction that moves the case. A second call returns the existing refund.
    """
    existing = Refund.objects.filter(case=case).first()
    if existing is not None:
        return existing
    refund = Refund.objects.create(
        case=case, amount=amount, fast=fast, idempotency_key=f"refund-{case.number}", status=RefundStatus.PENDING
    )
    _restore_points_and_coupon(case=case, refund=refund)
    transaction.on_commit(lambda: _enqueue_payout(refund.pk))
    return refund


def _enqueue_payout(refund_id: int) -> None:
    from .tasks import execute_refund

    try:
        execute_refund.delay(refund_id)
    except Exception:  # broker down: the periodic retry picks the refund up from the database
        log.exception("could not enqueue refund payout", extra={"task": "execute_refund"})


def _wallet_for(user: User) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(user=user)
    return wallet


def wallet_credit(*, user: User, key: str, points: int = 0, reason: str, **coupon) -> bool:
    """Credit once per key; answers whether this call credited."""
    wallet = Wallet.objects.select_for_update().filter(pk=_wallet_for(user).pk).get()
    try:
        with transaction.atomic():
            WalletEntry.objects.create(wallet=wallet, key=key, points=points, reason=reason, **coupon)
    except IntegrityError:
        return False
    if points:
        wallet.points += points
        wallet.save(update_fields=["points"])
    return True


def _restore_points_and_coupon(*, case: AfterSalesCase, refund: Refund) -> None:
    order: Order = case.order_item.order
    order_paid = order.items.aggregate(total=Sum("paid"))["total"] or Decimal("0")
    # this refund is already in the totals (with points_restored still 0)
    totals = Refund.objects.filter(case__order_item__order=order).aggregate(
        refunded=Sum("amount"), points=Sum("points_restored"))
    refunded = totals["refunded"] or 0
    if order.points_used and order_paid > 0:
        target = (Decimal(order.points_used) * Decimal(refunded) / order_paid).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        )
        target = min(int(target), order.points_used)
        points = max(target - (totals["points"] or 0), 0)
        if points and wallet_credit(user=case.consumer, key=f"points-{refund.idempotency_key}", points=points,
                                    reason=f"退款返还积分 {case.number}"):
            refund.points_restored = points
    if order.coupon_code and Decimal(refunded) >= order_paid and (
        order.coupon_valid_until is None or order.coupon_valid_until > timezone.now()
    ):
        if wallet_credit(user=case.consumer, key=f"coupon-{order.number}", reason=f"整单退款返还优惠券 {order.number}",
                         coupon_code=order.coupon_code, coupon_value=order.coupon_value,
                         coupon_valid_until=order.coupon_valid_until):
            refund.coupon_restored = True
    refund.save(update_fields=["points_restored", "coupon_restored"])


def refund_execute(*, refund_id: int) -> Refund:
    """Pay out through the provider with the refund's idempotency key. Safe to run any number of times."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("case__order_item__order").get(pk=refund_id)
        if refund.status == RefundStatus.SUCCEEDED:
            return refund
        refund.attempts += 1
        refund.save(update_fields=["attempts"])
    try:
        payout = gateway().refund(
            idempotency_key=refund.idempotency_key, amount=refund.amount,
            order_number=refund.case.order_item.order.number,
        )
    except PaymentError as exc:
        with transaction.atomic():
            refund = Refund.objects.select_for_update().get(pk=refund_id)
            refund.last_error = str(exc)[:255]
            if refund.attempts >= MAX_ATTEMPTS and refund.status == RefundStatus.PENDING:
                refund.status = RefundStatus.FAILED
                from .notifications import notify_staff

                notify_staff(case=refund.case, kind="refund_failed",
                             text=f"退款失败，需人工处理：{refund.case.number}")
            refund.save(update_fields=["last_error", "status"])
        raise
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.SUCCEEDED:
            refund.status = RefundStatus.SUCCEEDED
            refund.provider_reference = payout.reference
            refund.paid_at = timezone.now()
            refund.save(update_fields=["status", "provider_reference", "paid_at"])
    return refund
