"""The sweep's one-case path and its reminders (cases/sweep.py), written for the mutants that survived
`make mutate MODULES=sweep` (docs/mutation.md): a case already paid something fires alone, at the sweep's time;
a clock whose case left its state is cancelled, not fired; reminders go once, to the party who must act, with
the due time, and never on or after the due time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, CaseEvent, Deadline, Notification, Refund
from cases.sweep import deadline_fire, deadlines_sweep, reminders_send
from tests import factories as f
from tests.commit import committed

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def act(action, case, actor, **data):  # type: ignore[no-untyped-def]
    return services.case_act(action=action, case_id=case.pk, actor=actor, data=data)


def running(case) -> Deadline:  # type: ignore[no-untyped-def]
    return Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)


def paid_then_returned(consumer, merchant, agent, supervisor, item) -> AfterSalesCase:  # type: ignore[no-untyped-def]
    """A refund-only case ruled for ¥50 (paid), appealed and overturned for ¥80 with the goods to come back
    (the difference paid at once), the return shipped: its `merchant_receive` clock may move money on a case
    already paid something, so the batch hands it to the one-case path."""
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                amount="80.00", quantity=1)
    act("reject", case, merchant, reason="不同意")
    act("escalate", case, consumer, statement="请平台介入")
    act("rule", case, agent, decision="refund", rationale="依据凭证", amount="50.00")
    act("appeal", case, consumer, statement="应全额退款")
    act("decide_appeal", case, supervisor, outcome="overturn", rationale="改判", decision="refund",
        amount="80.00", require_return=True)
    case = act("ship_return", case, consumer, carrier="SF", tracking_number="SF1")
    assert case.state == "return_in_transit" and running(case).name == "merchant_receive"
    assert [p.amount for p in Refund.objects.get(case=case).payouts.order_by("pk")] == [Decimal("50.00"),
                                                                                         Decimal("30.00")]
    return case


@pytest.mark.parametrize("alone", [False, True], ids=["sweep", "deadline_fire"])
def test_a_paid_case_fires_on_its_own_at_the_sweeps_time(alone, consumer, merchant, agent, supervisor, item,
                                                         caplog):
    case = paid_then_returned(consumer, merchant, agent, supervisor, item)
    clock = running(case)
    later = clock.due_at + timedelta(hours=1, seconds=7)  # not the wall clock: the sweep's `now` is what counts
    caplog.set_level(logging.INFO, logger="cases")
    if alone:
        assert deadline_fire(deadline_id=clock.pk, now=clock.due_at - timedelta(seconds=1)) is False  # not due
        assert AfterSalesCase.objects.get(pk=case.pk).state == "return_in_transit"
        with committed():
            assert deadline_fire(deadline_id=clock.pk, now=later) is True
        assert deadline_fire(deadline_id=clock.pk, now=later) is False  # fired once
    else:
        with committed():
            assert deadlines_sweep(now=later) == 1
        assert deadlines_sweep(now=later) == 0
    # the sweep's log line for the move (docs/reliability.md), written by the one-case path too
    [line] = [r for r in caplog.records if r.name == "cases" and getattr(r, "case_id", None) == case.pk]
    assert (line.action, getattr(line, "from"), line.to, line.deadline) == (  # type: ignore[attr-defined]
        "confirm_receipt", "return_in_transit", "refunded", "merchant_receive")
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert fresh.state == "refunded"
    clock.refresh_from_db()
    assert clock.fired_at == later and clock.cancelled_at is None
    event = CaseEvent.objects.filter(case=case, action="confirm_receipt").get()
    assert (event.role, event.actor, event.from_state, event.to_state) == ("system", None, "return_in_transit",
                                                                         "refunded")
    assert event.at == later
    assert fresh.refund_amount == Refund.objects.get(case=case).amount == Decimal("80.00")
    assert Refund.objects.get(case=case).payouts.count() == 2  # nothing paid twice


def test_a_clock_whose_expiry_the_services_refuse_is_logged_and_not_retried(  # type: ignore[no-untyped-def]
        consumer, merchant, agent, supervisor, item, caplog):
    case = paid_then_returned(consumer, merchant, agent, supervisor, item)
    # the case's decided amount below what was already paid: the automatic receipt is refused (amount_below_paid)
    AfterSalesCase.objects.filter(pk=case.pk).update(refund_amount=Decimal("10.00"))
    clock = running(case)
    later = clock.due_at + timedelta(seconds=5)
    caplog.set_level(logging.WARNING, logger="cases")
    assert deadline_fire(deadline_id=clock.pk, now=later) is False
    clock.refresh_from_db()
    assert (clock.fired_at, clock.cancelled_at) == (later, None)  # spent: the sweep does not try it again
    assert AfterSalesCase.objects.get(pk=case.pk).state == "return_in_transit"
    assert Refund.objects.get(case=case).amount == Decimal("80.00")
    [record] = [r for r in caplog.records if r.name == "cases.sweep"]
    assert record.getMessage().startswith(f"deadline {clock.pk} could not fire: ")
    assert record.case == case.number  # type: ignore[attr-defined]
    assert deadlines_sweep(now=later + timedelta(days=1)) == 0


def test_a_limited_sweep_fires_no_more_than_asked(consumer, shop):
    cases = [services.case_submit(consumer=consumer, order_item_id=f.OrderItemFactory(
        order=f.OrderFactory(consumer=consumer, shop=shop)).pk, kind="return_refund", reason="other", quantity=1)
        for _ in range(3)]
    later = timezone.now() + timedelta(days=6)
    assert deadlines_sweep(now=later, batch=1, limit=1) == 1
    assert sorted(AfterSalesCase.objects.filter(pk__in=[c.pk for c in cases]).values_list("state", flat=True)) == [
        "awaiting_return", "pending_merchant", "pending_merchant"]
    assert deadlines_sweep(now=later, batch=1) == 2  # every batch counted


def test_a_cancelled_clock_never_fires_though_its_case_is_back_in_its_state(consumer, merchant, shop):
    """A queued `deadline_fire` for a clock cancelled earlier must not fire the case's new stay in that state."""
    case = services.case_submit(consumer=consumer, order_item_id=f.OrderItemFactory(
        order=f.OrderFactory(consumer=consumer, shop=shop)).pk, kind="return_refund", reason="other", quantity=1)
    old = running(case)
    act("reject", case, merchant, reason="no")
    act("revise", case, consumer, description="请再看看")
    assert AfterSalesCase.objects.get(pk=case.pk).state == "pending_merchant" and running(case).pk != old.pk
    assert deadline_fire(deadline_id=old.pk, now=old.due_at + timedelta(seconds=1)) is False
    assert AfterSalesCase.objects.get(pk=case.pk).state == "pending_merchant"


def test_a_clock_whose_case_left_its_state_is_cancelled_not_fired(consumer, merchant, shop):
    # another case whose clock is due as well: firing one deadline by id touches that one only
    bystander = services.case_submit(consumer=consumer, order_item_id=f.OrderItemFactory(
        order=f.OrderFactory(consumer=consumer, shop=shop)).pk, kind="return_refund", reason="other", quantity=1)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    act("approve", case, merchant)
    # a clock left running for a state the case has left (what a lost cancel would leave behind); one clock
    # runs per case, so the case's own clock is stopped
    Deadline.objects.filter(case=case).update(cancelled_at=timezone.now())
    stale = Deadline.objects.create(case=case, name="merchant_response", state="pending_merchant",
                                    started_at=timezone.now(), due_at=timezone.now() + timedelta(days=5, hours=1),
                                    remind_at=timezone.now(), duration_seconds=86400)
    later = timezone.now() + timedelta(days=6, seconds=3)
    assert running(bystander).due_at < later
    assert deadline_fire(deadline_id=stale.pk, now=later) is False
    assert AfterSalesCase.objects.get(pk=bystander.pk).state == "pending_merchant"
    assert running(bystander).fired_at is None
    stale.refresh_from_db()
    assert (stale.fired_at, stale.cancelled_at) == (None, later)
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert fresh.state == "awaiting_return" and not fresh.auto_approved
    assert not CaseEvent.objects.filter(case=case, role="system").exists()


def test_a_reminder_names_the_case_and_its_due_time_and_goes_once(consumer, merchant, shop, agent):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    clock = running(case)
    assert reminders_send(now=clock.remind_at - timedelta(seconds=1)) == 0
    assert reminders_send(now=clock.remind_at) == 1  # due at remind_at, not after it
    clock.refresh_from_db()
    assert clock.reminded_at == clock.remind_at
    [told] = Notification.objects.filter(kind="reminder", case=case)
    due = timezone.localtime(clock.due_at)
    assert (told.user_id, told.message) == (merchant.pk, "reminder")
    assert told.params == {"number": case.number, "due": due.strftime("%m-%d %H:%M")}
    assert reminders_send(now=clock.remind_at + timedelta(hours=1)) == 0
    assert Notification.objects.filter(kind="reminder").count() == 1


def test_no_reminder_at_or_after_the_due_time(consumer, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    clock = running(case)
    assert reminders_send(now=clock.due_at) == 0
    clock.refresh_from_db()
    assert clock.reminded_at is None
    assert not Notification.objects.filter(kind="reminder").exists()


def test_reminders_go_to_the_party_who_must_act_in_batches(consumer, merchant, shop, agent, supervisor):
    cases = []
    for _ in range(3):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        cases.append(services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                          reason="other", quantity=1))
    to_staff, to_consumer, moved_on = cases
    act("intervene", to_staff, agent)  # evidence: the staff's clock
    act("reject", to_consumer, merchant, reason="no")  # consumer_revise: the consumer's
    # a clock for a state its case has left (not cancelled): reminded of nothing, but marked so it is not re-read
    stale = running(moved_on)
    act("approve", moved_on, merchant)
    Deadline.objects.filter(case=moved_on).update(cancelled_at=timezone.now())  # one running clock per case
    Deadline.objects.filter(pk=stale.pk).update(cancelled_at=None)
    clocks = Deadline.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True)
    now = timezone.now() + timedelta(hours=1)
    assert clocks.count() == 3 and clocks.update(remind_at=now) == 3
    assert reminders_send(now=now, batch=1) == 3  # a batch at a time, every batch counted
    told = sorted(Notification.objects.filter(kind="reminder").values_list("case_id", "user_id"))
    assert told == sorted([(to_staff.pk, agent.pk), (to_staff.pk, supervisor.pk), (to_consumer.pk, consumer.pk)])
    assert Deadline.objects.filter(pk=stale.pk, reminded_at=now).exists()
    assert reminders_send(now=now) == 0


def test_the_sweep_sends_the_reminders_at_its_own_time(consumer, merchant, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    clock = running(case)
    at = clock.remind_at + timedelta(minutes=1)
    assert isinstance(at, datetime)
    assert deadlines_sweep(now=at) == 0
    clock.refresh_from_db()
    assert clock.reminded_at == at
    assert Notification.objects.filter(kind="reminder", case=case, user=merchant).count() == 1


def test_deadline_fire_answers_whether_the_case_moved(consumer, shop):
    """A clock fired by id through the batch path (a case not paid anything) answers True once it moved it."""
    case = services.case_submit(consumer=consumer, order_item_id=f.OrderItemFactory(
        order=f.OrderFactory(consumer=consumer, shop=shop)).pk, kind="return_refund", reason="other", quantity=1)
    clock = running(case)
    assert deadline_fire(deadline_id=clock.pk, now=clock.due_at) is True
    assert AfterSalesCase.objects.get(pk=case.pk).state == "awaiting_return"
    assert deadline_fire(deadline_id=clock.pk, now=clock.due_at) is False
