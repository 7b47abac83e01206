"""Every row of lifecycle.md's deadline table with a moved clock: what fires, what it does, what never fires."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.deadlines import recompute_for_holidays
from cases.events import NON_MOVE_KINDS
from cases.models import AfterSalesCase, CaseEvent, Deadline, DeadlinePolicy, Holiday, Notification, Refund
from cases.sweep import deadlines_sweep
from tests import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
H = 3600
D = 86400


@pytest.fixture
def clock(time_machine):  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
    time_machine.move_to(start, tick=False)

    class Clock:
        now = start

        def advance(self, seconds: float) -> datetime:
            self.now = self.now + timedelta(seconds=seconds)
            time_machine.move_to(self.now, tick=False)
            return self.now

    return Clock()


def new_case(consumer, shop, kind="return_refund", reason="other", **order):  # type: ignore[no-untyped-def]
    defaults = {"signed_at": timezone.now() - timedelta(days=1), "shipped_at": timezone.now() - timedelta(days=2),
                "paid_at": timezone.now() - timedelta(days=3)}
    defaults.update(order)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, **defaults))
    extra = {"evidence_files": [SimpleUploadedFile("p.jpg", f.jpeg_bytes())]} if reason == "quality_issue" else {}
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason, quantity=1,
                                **extra)


def state(case) -> str:  # type: ignore[no-untyped-def]
    return AfterSalesCase.objects.get(pk=case.pk).state


def running(case) -> Deadline:  # type: ignore[no-untyped-def]
    return Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)


def fires_exactly_at(clock, case, seconds: int) -> None:  # type: ignore[no-untyped-def]
    """Nothing at due − 1 s; at due, the deadline fires once."""
    before = state(case)
    clock.advance(seconds - 1)
    assert deadlines_sweep() == 0 and state(case) == before
    clock.advance(1)
    assert deadlines_sweep() == 1
    assert deadlines_sweep() == 0


@pytest.mark.parametrize(("kind", "reason", "seconds", "after"), [
    ("refund_only", "not_shipped", 24 * H, "refunded"),
    ("refund_only", "other", 48 * H, "refunded"),
    ("return_refund", "other", 5 * D, "awaiting_return"),
    ("exchange", "other", 5 * D, "awaiting_return"),
])
def test_merchant_response_auto_approves(clock, consumer, shop, kind, reason, seconds, after):
    extra = {"shipped_at": None, "signed_at": None} if reason == "not_shipped" else {}
    case = new_case(consumer, shop, kind=kind, reason=reason, **extra)
    assert running(case).due_at == clock.now + timedelta(seconds=seconds)
    fires_exactly_at(clock, case, seconds)
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert fresh.state == after and fresh.auto_approved
    # the move's event (a `not_shipped` refund is followed by the shop's "don't ship" notice: docs/shop-notices.md)
    event = CaseEvent.objects.filter(case=case).exclude(action__in=NON_MOVE_KINDS).last()
    assert (event.action, event.role, event.actor) == ("approve", "system", None)
    assert CaseEvent.objects.filter(case=case, action="shop_notice").exists() == (reason == "not_shipped")


def test_consumer_revise_expires(clock, consumer, merchant, shop):
    case = new_case(consumer, shop)
    services.case_reject(case_id=case.pk, actor=merchant, reason="no")
    fires_exactly_at(clock, case, 5 * D)
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.closure_reason) == ("closed", "expired")


def test_consumer_ship_expires(clock, consumer, merchant, shop):
    case = new_case(consumer, shop)
    services.case_approve(case_id=case.pk, actor=merchant)
    fires_exactly_at(clock, case, 7 * D)
    assert AfterSalesCase.objects.get(pk=case.pk).closure_reason == "expired"


@pytest.mark.parametrize(("kind", "after"), [("return_refund", "refunded"), ("exchange", "awaiting_replacement"),
                                             ("repair", "in_repair")])
def test_merchant_receive_confirms(clock, consumer, merchant, shop, kind, after):
    consumer.good_standing = False
    consumer.save()
    case = new_case(consumer, shop, kind=kind)
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    fires_exactly_at(clock, case, 10 * D)
    assert state(case) == after


@pytest.mark.parametrize(("kind", "seconds"), [("exchange", 5 * D), ("repair", 15 * D)])
def test_merchant_replacement_or_repair_escalates(clock, consumer, merchant, shop, kind, seconds):
    case = new_case(consumer, shop, kind=kind)
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    fires_exactly_at(clock, case, seconds)
    assert state(case) == "in_arbitration"
    assert running(case).name == "evidence"


def test_consumer_confirm_completes(clock, consumer, merchant, shop):
    case = new_case(consumer, shop, kind="exchange")
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    services.case_ship_replacement(case_id=case.pk, actor=merchant, carrier="SF", tracking_number="2")
    fires_exactly_at(clock, case, 10 * D)
    assert state(case) == "completed"


def test_evidence_then_ruling_sla(clock, consumer, shop, agent, supervisor):
    case = new_case(consumer, shop)
    services.case_intervene(case_id=case.pk, actor=agent)
    fires_exactly_at(clock, case, 3 * D)
    assert state(case) == "awaiting_ruling"
    fires_exactly_at(clock, case, 5 * D)
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert fresh.state == "awaiting_ruling" and fresh.overdue
    assert Notification.objects.filter(user=supervisor, kind="ruling_overdue", case=case).count() == 1
    assert not Notification.objects.filter(user=agent, kind="ruling_overdue").exists()


def test_acted_in_time_never_fires(clock, consumer, merchant, shop):
    case = new_case(consumer, shop)
    clock.advance(5 * D - 60)
    services.case_reject(case_id=case.pk, actor=merchant, reason="no")
    clock.advance(120)
    assert deadlines_sweep() == 0
    assert state(case) == "rejected"
    assert Deadline.objects.filter(case=case, name="merchant_response", fired_at__isnull=False).count() == 0


def test_reminders_once_before_due(clock, consumer, merchant, shop):
    long_case = new_case(consumer, shop)  # 5 days: reminder 24 h before due
    short_case = new_case(consumer, shop, kind="refund_only")  # 48 h: reminder at half the window
    clock.advance(24 * H)
    deadlines_sweep()
    assert Notification.objects.filter(kind="reminder", case=short_case, user=merchant).count() == 1
    assert Notification.objects.filter(kind="reminder", case=long_case).count() == 0
    clock.advance(3 * D)
    deadlines_sweep()
    deadlines_sweep()
    assert Notification.objects.filter(kind="reminder", case=long_case, user=merchant).count() == 1
    assert Notification.objects.filter(kind="reminder", case=short_case).count() == 1


def test_case_deadlines_seconds_overrides_every_variant(clock, consumer, shop, settings):
    settings.CASE_DEADLINES_SECONDS = {"merchant_response": 30}
    DeadlinePolicy.objects.create(name="merchant_response", variant="other", seconds=999,
                                  effective_from=clock.now - timedelta(days=1))
    cases = [new_case(consumer, shop, kind=k) for k in ("refund_only", "return_refund")]
    for case in cases:
        assert running(case).due_at == clock.now + timedelta(seconds=30)


def test_policy_rows_apply_to_new_clocks_only(clock, consumer, shop):
    before = new_case(consumer, shop)
    DeadlinePolicy.objects.create(name="merchant_response", variant="other", seconds=3 * D,
                                  effective_from=clock.now)
    after = new_case(consumer, shop)
    assert running(before).duration_seconds == 5 * D
    assert running(after).duration_seconds == 3 * D


def test_holidays_pause_running_clocks(clock, consumer, shop):
    # clock starts 2026-11-20 10:00 with 5 days → due 11-25 10:00; a holiday 11-22..11-23 adds 2 days
    case = new_case(consumer, shop)
    assert running(case).due_at == datetime(2026, 11, 25, 10, 0, tzinfo=SH)
    Holiday.objects.create(name="平台休息日", start_date=date(2026, 11, 22), end_date=date(2026, 11, 23))
    recompute_for_holidays()
    assert running(case).due_at == datetime(2026, 11, 27, 10, 0, tzinfo=SH)
    assert AfterSalesCase.objects.get(pk=case.pk).deadline_due_at == datetime(2026, 11, 27, 10, 0, tzinfo=SH)
    later = new_case(consumer, shop)
    assert running(later).due_at == datetime(2026, 11, 27, 10, 0, tzinfo=SH)


def test_holiday_boundaries():
    from cases.policy import due_time

    start = datetime(2026, 11, 20, 23, 0, tzinfo=SH)
    hol = [Holiday(name="h", start_date=date(2026, 11, 21), end_date=date(2026, 11, 21))]
    # 1 hour before the holiday, 2 hours of clock: 1 h before, skip the 24 h holiday, 1 h after
    assert due_time(start, 2 * H, hol) == datetime(2026, 11, 22, 1, 0, tzinfo=SH)
    # ends exactly when the holiday starts: not moved
    assert due_time(start, 1 * H, hol) == datetime(2026, 11, 21, 0, 0, tzinfo=SH)
    # starts inside the holiday: the clock waits for it to end
    inside = datetime(2026, 11, 21, 12, 0, tzinfo=SH)
    assert due_time(inside, 1 * H, hol) == datetime(2026, 11, 22, 1, 0, tzinfo=SH)


def test_fired_deadline_never_fires_after_case_left_state(clock, consumer, merchant, shop):
    case = new_case(consumer, shop)
    deadline = running(case)
    services.case_approve(case_id=case.pk, actor=merchant)
    deadline.refresh_from_db()
    assert deadline.cancelled_at is not None
    clock.advance(6 * D)
    from cases.sweep import deadline_fire

    assert deadline_fire(deadline_id=deadline.pk) is False
    assert CaseEvent.objects.filter(case=case, role="system").count() == 0


def test_sweep_restores_points_and_coupon_across_one_batch(clock, consumer, shop):
    """Three refunds of one order fired in the same batch give back what one-at-a-time refunds would:
    points in proportion to the running total (75, 75, 150 of 300) and the coupon once, at the last."""
    from portal.models import Wallet

    order = f.OrderFactory(consumer=consumer, shop=shop, points_used=300, coupon_code="C-7", coupon_value="20.00",
                           coupon_valid_until=clock.now + timedelta(days=30),
                           signed_at=clock.now - timedelta(days=1), shipped_at=clock.now - timedelta(days=2),
                           paid_at=clock.now - timedelta(days=3))
    items = [f.OrderItemFactory(order=order, paid=paid, unit_price=paid) for paid in ("100.00", "100.00", "200.00")]
    cases = [services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                  quantity=1) for item in items]
    clock.advance(48 * H)
    assert deadlines_sweep() == 3
    refunds = [Refund.objects.get(case=case) for case in cases]
    assert [r.points_restored for r in refunds] == [75, 75, 150]
    assert [r.coupon_restored for r in refunds] == [False, False, True]
    wallet = Wallet.objects.get(user=consumer)
    assert wallet.points == 300
    assert list(wallet.entries.exclude(coupon_code="").values_list("coupon_code", "coupon_value")) == [
        ("C-7", Decimal("20.00"))]
    assert deadlines_sweep() == 0
    wallet.refresh_from_db()
    assert wallet.points == 300 and wallet.entries.count() == 4


def test_sweep_keeps_an_expired_coupon(clock, consumer, shop):
    from portal.models import Wallet

    case = new_case(consumer, shop, kind="refund_only", points_used=50, coupon_code="OLD",
                    coupon_value="5.00", coupon_valid_until=clock.now + timedelta(hours=1))
    clock.advance(48 * H)
    assert deadlines_sweep() == 1
    refund = Refund.objects.get(case=case)
    assert (refund.points_restored, refund.coupon_restored) == (50, False)
    assert not Wallet.objects.get(user=consumer).entries.filter(coupon_code="OLD").exists()
