"""Ledger credits written once per key, the refunds the periodic retry picks up, and what a failed attempt
keeps (cases/refunds.py): written for the mutants that survived `make mutate MODULES=refunds`
(docs/mutation.md)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.models import Refund
from cases.payments import PaymentError, SimulatedGateway
from cases.refunds import (
    AmountBelowPaid,
    Credit,
    _record_failure,
    refund_settle,
    refunds_due_for_retry,
    refunds_resend,
    wallet_credit,
    wallets_credit,
)
from cases.sweep import deadlines_sweep
from portal.models import Wallet, WalletEntry
from tests import factories as f
from tests.commit import commit, committed, paid_at_gateway

pytestmark = pytest.mark.django_db


def test_a_batch_credits_every_new_key_once(consumer):
    other = type(consumer).objects.create(username="zoe")
    assert wallet_credit(user=consumer, key="k-old", points=5, reason="r")
    credited = wallets_credit([
        Credit(user_id=consumer.pk, key="k-old", reason="r", points=5),  # already in the ledger: skipped
        Credit(user_id=consumer.pk, key="k-new", reason="r", points=7),
        Credit(user_id=consumer.pk, key="k-new", reason="r", points=7),  # twice in one batch: once
        Credit(user_id=other.pk, key="k-other", reason="r", points=3),
    ])
    assert credited == {"k-new", "k-other"}
    assert sorted(WalletEntry.objects.values_list("key", "points")) == [("k-new", 7), ("k-old", 5), ("k-other", 3)]
    assert Wallet.objects.get(user=consumer).points == 12 and Wallet.objects.get(user=other).points == 3


def test_a_coupon_credit_keeps_the_coupon_and_no_points(consumer):
    until = timezone.now() + timedelta(days=30)
    assert wallet_credit(user=consumer, key="coupon-1", reason="整单退款返还优惠券", coupon_code="C10",
                         coupon_value=Decimal("10.00"), coupon_valid_until=until)
    assert not wallet_credit(user=consumer, key="coupon-1", reason="again", coupon_code="C10")
    entry = WalletEntry.objects.get(key="coupon-1")
    assert (entry.points, entry.coupon_code, entry.coupon_value, entry.coupon_valid_until, entry.reason) == (
        0, "C10", Decimal("10.00"), until, "整单退款返还优惠券")
    assert Wallet.objects.get(user=consumer).points == 0


def _pending_refund(consumer, merchant, item) -> Refund:  # type: ignore[no-untyped-def]
    """A refund whose payout task never ran (inside a test nothing commits)."""
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="40.00")
    services.case_approve(case_id=case.pk, actor=merchant)
    return Refund.objects.get(case=case)


def test_the_retry_waits_for_a_new_refunds_own_task(consumer, merchant, item, settings):
    refund = _pending_refund(consumer, merchant, item)
    assert refund.last_attempt_at is None
    wait = timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS)
    assert refunds_due_for_retry(now=refund.created_at + wait - timedelta(seconds=1)) == []
    assert refunds_due_for_retry(now=refund.created_at + wait) == [refund.pk]


def test_resend_pays_a_lost_payout_once(consumer, merchant, item, settings):
    refund = _pending_refund(consumer, merchant, item)
    later = refund.created_at + timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS)
    assert refunds_resend(now=later - timedelta(seconds=1)) == 0
    assert paid_at_gateway(refund.case.number) == []
    assert refunds_resend(now=later) == 1  # eager Celery: the payout task runs now
    refund.refresh_from_db()
    assert refund.status == "succeeded" and paid_at_gateway(refund.case.number) == [Decimal("40.00")]
    assert refunds_resend(now=later + timedelta(days=1)) == 0


def test_a_failed_attempt_keeps_the_providers_words_within_the_column(consumer, merchant, item, monkeypatch):
    monkeypatch.setattr(SimulatedGateway, "fail_next", 0)
    refund = _pending_refund(consumer, merchant, item)
    _record_failure(refund.pk, PaymentError("x" * 300))
    refund.refresh_from_db()
    assert refund.last_error == "x" * 255 and refund.status == "pending"


def test_settle_raises_in_numbered_payouts_and_refuses_below_paid(consumer, item):
    """`refund_settle` on its own (the services check `amount_below_paid` before it; this is its own guard)."""
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="40.00")
    first = refund_settle(case=case, amount=Decimal("30.00"), fast=True)
    assert first is not None and (first.idempotency_key, first.amount, first.fast) == (
        f"refund-{case.number}", Decimal("30.00"), True)
    Refund.objects.filter(case=case).update(status="succeeded", attempts=3)
    second = refund_settle(case=case, amount=Decimal("35.00"), fast=True)
    third = refund_settle(case=case, amount=Decimal("40.00"))
    assert second is not None and third is not None
    assert [(p.idempotency_key, p.amount, p.fast) for p in (second, third)] == [
        (f"refund-{case.number}-2", Decimal("5.00"), True), (f"refund-{case.number}-3", Decimal("5.00"), False)]
    refund = Refund.objects.get(case=case)
    assert (refund.amount, refund.status, refund.attempts) == (Decimal("40.00"), "pending", 0)
    assert refund_settle(case=case, amount=Decimal("40.00")) is None  # already what is paid
    with pytest.raises(AmountBelowPaid) as below:
        refund_settle(case=case, amount=Decimal("39.99"))
    assert (below.value.code, below.value.field) == ("amount_below_paid", "amount")
    assert "¥40.00" in str(below.value.detail)
    assert Refund.objects.get(case=case).payouts.count() == 3


def test_a_sweep_batch_pays_each_refund_once_after_commit(consumer, shop):
    """Refund-only cases approved by the sweep in one batch: one outbox message for the batch, published after
    commit, fanned out to one payout per refund (`payouts_enqueue` with several ids)."""
    items = [f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)) for _ in range(2)]
    cases = [services.case_submit(consumer=consumer, order_item_id=i.pk, kind="refund_only", reason="other",
                                  quantity=1, amount=amount) for i, amount in zip(items, ("20.00", "30.00"), strict=True)]
    later = timezone.now() + timedelta(days=3)
    with committed():
        assert deadlines_sweep(now=later) == 2
    assert [paid_at_gateway(c.number) for c in cases] == [[Decimal("20.00")], [Decimal("30.00")]]
    for case in cases:
        refund = Refund.objects.get(case=case)
        assert refund.status == "succeeded" and refund.paid_at is not None and refund.last_attempt_at is not None
        assert all(p.paid_at is not None for p in refund.payouts.all())


def test_a_payout_records_when_it_was_tried_and_paid(consumer, merchant, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="25.00")
    before = timezone.now()
    commit(lambda: services.case_approve(case_id=case.pk, actor=merchant))
    refund = Refund.objects.get(case=case)
    assert refund.status == "succeeded" and paid_at_gateway(case.number) == [Decimal("25.00")]
    assert refund.last_attempt_at is not None and refund.last_attempt_at >= before
    assert refund.paid_at is not None and refund.paid_at >= before
    [payout] = refund.payouts.all()
    assert payout.paid_at is not None and payout.paid_at >= before
    assert refund.provider_reference == payout.provider_reference != ""


def test_a_raised_refund_gives_back_the_rest_of_the_orders_points(consumer, shop):
    """An order paid partly with points: a refund gives back the points in proportion to what it refunds, and a
    later decision that raises it gives back the rest under the further payout's own key (a second credit under
    the first key would be skipped as already written, and the consumer would lose the points)."""
    order = f.OrderFactory(consumer=consumer, shop=shop, points_used=200)
    item = f.OrderItemFactory(order=order, quantity=1, paid=Decimal("100.00"), unit_price=Decimal("100.00"))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="100.00")
    refund_settle(case=case, amount=Decimal("50.00"))
    assert Wallet.objects.get(user=consumer).points == 100
    refund_settle(case=case, amount=Decimal("100.00"))
    assert sorted(WalletEntry.objects.filter(wallet__user=consumer).values_list("key", "points")) == [
        (f"points-refund-{case.number}", 100), (f"points-refund-{case.number}-2", 100)]
    assert Wallet.objects.get(user=consumer).points == 200
    assert Refund.objects.get(case=case).points_restored == 200
