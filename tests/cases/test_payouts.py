"""Money tests that can fail: what the provider paid, counted per case at the simulated gateway (never per key,
which is unique by construction), through the provider's failures and timeouts and the task's retries.

The payout task runs eagerly here (CELERY_TASK_ALWAYS_EAGER, not propagating): its retries run one after another
at once, with their real count (`max_retries`), so "retries exhausted" is the path a worker takes, without the
back-off.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases import services
from cases.choices import RefundStatus
from cases.models import AfterSalesCase, CaseEvent, Notification, Refund
from cases.payments import PaymentError, SimulatedGateway, SimulatedPayout
from cases.refunds import MAX_ATTEMPTS, refund_execute
from cases.tasks import execute_refund, retry_pending_refunds
from tests.commit import commit, paid_at_gateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(monkeypatch):  # type: ignore[no-untyped-def]
    """The simulated provider's failure knobs, reset after the test. An eager task's retry is only run when
    its exception is not propagated to the caller (CELERY_TASK_EAGER_PROPAGATES is on for the other tests)."""
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    monkeypatch.setattr(SimulatedGateway, "fail_next", 0)
    monkeypatch.setattr(SimulatedGateway, "timeout_next", 0)
    return SimulatedGateway


def refund_only(consumer, item, amount: str = "50.00") -> AfterSalesCase:  # type: ignore[no-untyped-def]
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount=amount)


def approve(case, merchant) -> Refund:  # type: ignore[no-untyped-def]
    commit(lambda: services.case_approve(case_id=case.pk, actor=merchant))
    return Refund.objects.get(case=case)


def test_one_payout_per_case_at_the_gateway(consumer, merchant, item, provider):
    case = refund_only(consumer, item)
    refund = approve(case, merchant)
    assert refund.status == RefundStatus.SUCCEEDED and refund.attempts == 1
    assert paid_at_gateway(case.number) == [Decimal("50.00")]
    # the provider's reference for that payout is kept on the refund and its payout
    sent = SimulatedPayout.objects.get()
    assert (sent.idempotency_key, sent.order_number) == (f"refund-{case.number}", item.order.number)
    assert refund.provider_reference == f"SIM-{sent.pk}" == refund.payouts.get().provider_reference
    # running the payout again (a redelivered task, the periodic retry) pays nothing more
    execute_refund.delay(refund.pk)
    refund_execute(refund_id=refund.pk)
    assert paid_at_gateway(case.number) == [Decimal("50.00")]
    assert SimulatedPayout.objects.count() == 1


def test_provider_error_is_retried_and_pays_once(consumer, merchant, item, provider):
    provider.fail_next = 2
    case = refund_only(consumer, item)
    refund = approve(case, merchant)
    assert provider.fail_next == 0, "both failures were met"
    assert refund.status == RefundStatus.SUCCEEDED and refund.attempts == 3
    assert paid_at_gateway(case.number) == [Decimal("50.00")]
    assert not Notification.objects.filter(kind="refund_failed").exists()


def test_timeout_after_paying_is_retried_without_a_second_payout(consumer, merchant, item, provider):
    """The provider paid but its answer was lost: the retry (same key) must not pay again."""
    provider.timeout_next = 1
    case = refund_only(consumer, item)
    refund = approve(case, merchant)
    assert provider.timeout_next == 0
    assert refund.status == RefundStatus.SUCCEEDED and refund.attempts == 2
    assert refund.last_error == "simulated timeout after payout"  # what the failed attempt met is kept
    assert paid_at_gateway(case.number) == [Decimal("50.00")]


def test_retries_exhausted_mark_the_refund_failed_and_tell_staff(consumer, merchant, agent, supervisor, item,
                                                                provider):
    provider.fail_next = 100
    case = refund_only(consumer, item)
    refund = approve(case, merchant)
    assert 100 - provider.fail_next == MAX_ATTEMPTS == execute_refund.max_retries + 1
    assert refund.status == RefundStatus.FAILED and refund.attempts == MAX_ATTEMPTS
    assert refund.last_error == "simulated provider error"
    assert paid_at_gateway(case.number) == []
    told = Notification.objects.filter(kind="refund_failed", case=case)
    assert set(told.values_list("user__username", flat=True)) == {agent.username, supervisor.username}
    assert not Notification.objects.filter(kind="refund_failed", user__in=[consumer, merchant]).exists()
    # a failed refund is not picked up by the periodic retry (staff decide); paying it by hand pays once
    assert retry_pending_refunds() == 0
    provider.fail_next = 0
    assert refund_execute(refund_id=refund.pk).status == RefundStatus.SUCCEEDED
    assert paid_at_gateway(case.number) == [Decimal("50.00")]
    assert told.count() == 2, "staff were told once, not once per attempt"


def test_timed_out_payout_that_succeeded_is_not_paid_again_after_retries_are_exhausted(
        consumer, merchant, agent, item, provider, monkeypatch):
    """First attempt: the provider pays but its answer times out. Every retry then fails: the refund ends
    `failed` although the money went out. Paying it again by hand must find that payout, not make another."""
    real_refund = SimulatedGateway.refund
    calls = {"n": 0}

    def paid_then_unreachable(self, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            SimulatedGateway.timeout_next = 1  # pays, then the answer is lost
            return real_refund(self, **kw)
        raise PaymentError("provider unreachable")

    monkeypatch.setattr(SimulatedGateway, "refund", paid_then_unreachable)
    case = refund_only(consumer, item)
    refund = approve(case, merchant)
    assert calls["n"] == MAX_ATTEMPTS
    assert refund.status == RefundStatus.FAILED
    assert Notification.objects.filter(kind="refund_failed", case=case, user=agent).count() == 1
    assert paid_at_gateway(case.number) == [Decimal("50.00")], "the timed-out attempt had paid"
    monkeypatch.setattr(SimulatedGateway, "refund", real_refund)
    assert refund_execute(refund_id=refund.pk).status == RefundStatus.SUCCEEDED
    assert paid_at_gateway(case.number) == [Decimal("50.00")]


def test_a_lost_payout_task_is_paid_by_the_periodic_retry_once(consumer, merchant, item, provider, settings):
    """The payout task never ran (broker lost it): `retry_pending_refunds` pays from the database, once."""
    settings.REFUND_RETRY_AFTER_SECONDS = 0
    case = refund_only(consumer, item)
    services.case_approve(case_id=case.pk, actor=merchant)  # not committed: its payout task is never sent
    refund = Refund.objects.get(case=case)
    assert refund.status == RefundStatus.PENDING and paid_at_gateway(case.number) == []
    assert retry_pending_refunds() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert paid_at_gateway(case.number) == [Decimal("50.00")]
    assert retry_pending_refunds() == 0
    assert paid_at_gateway(case.number) == [Decimal("50.00")]


def test_a_further_payout_through_a_timeout_pays_each_payout_once(consumer, merchant, agent, item, provider):
    """A fast refund, then a ruling for more: the difference is a second payout; its first answer times out."""
    commit(lambda: services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                        reason="other", quantity=1, condition_intact=True, amount="50.00"))
    case = AfterSalesCase.objects.get(order_item=item)
    commit(lambda: services.case_approve(case_id=case.pk, actor=merchant))
    commit(lambda: services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1"))
    assert paid_at_gateway(case.number) == [Decimal("50.00")] and Refund.objects.get(case=case).fast
    commit(lambda: services.case_refuse_receipt(case_id=case.pk, actor=merchant, reason="empty box"))
    commit(lambda: services.case_escalate(case_id=case.pk, actor=consumer, statement="x"))
    provider.timeout_next = 1
    commit(lambda: services.case_rule(case_id=case.pk, actor=agent, decision="refund", rationale="r",
                                      amount="94.00"))
    assert provider.timeout_next == 0
    refund = Refund.objects.get(case=case)
    assert refund.amount == Decimal("94.00") and refund.status == RefundStatus.SUCCEEDED
    assert paid_at_gateway(case.number) == [Decimal("50.00"), Decimal("44.00")]


def test_the_simulated_provider_pays_a_key_once(provider, settings):
    """The simulated provider's own contract, which the tests above rely on: one payout per key, whatever is
    asked the second time; the answer names that payout; its optional slowness still pays."""
    settings.SIMULATED_PAYMENT_DELAY_SECONDS = 0.001
    first = SimulatedGateway().refund(idempotency_key="k-1", amount=Decimal("12.30"), order_number="O1")
    again = SimulatedGateway().refund(idempotency_key="k-1", amount=Decimal("99.00"), order_number="O1")
    other = SimulatedGateway().refund(idempotency_key="k-2", amount=Decimal("1.00"), order_number="O1")
    sent = SimulatedPayout.objects.get(idempotency_key="k-1")
    assert (first.reference, first.amount) == (again.reference, again.amount) == (f"SIM-{sent.pk}", Decimal("12.30"))
    assert other.reference != first.reference and other.amount == Decimal("1.00")
    assert SimulatedPayout.objects.count() == 2


def test_pay_keeps_the_decision_time_and_the_case_amount(consumer, item, provider):
    """`cases.services.money.pay` (unit): payouts carry the decision's time, and the case's refund_amount follows
    what is paid, in memory and in the database."""
    from datetime import timedelta

    from django.utils import timezone

    from cases.services.money import pay

    case = refund_only(consumer, item, "30.00")
    at = timezone.now() - timedelta(hours=3)
    first = pay(case, Decimal("30.00"), now=at)
    assert first is not None and first.created_at == at == Refund.objects.get(case=case).created_at
    raised = pay(case, Decimal("45.00"), now=at + timedelta(hours=1))
    assert raised is not None and (raised.amount, raised.created_at) == (Decimal("15.00"), at + timedelta(hours=1))
    assert case.refund_amount == Decimal("45.00") == AfterSalesCase.objects.get(pk=case.pk).refund_amount
    further = CaseEvent.objects.get(case=case, action="further_payout")
    assert (further.at, further.payload) == (at + timedelta(hours=1), {"amount": "15.00", "total": "45.00"})
    assert pay(case, Decimal("45.00"), now=at) is None  # already what is paid: no payout


def test_a_decision_below_what_was_paid_names_the_amount_paid(consumer, item, provider):
    from cases.services import CaseError
    from cases.services.money import pay, refuse_below_paid

    case = refund_only(consumer, item, "30.00")
    refuse_below_paid(case, Decimal("10.00"))  # nothing paid yet: any amount stands
    pay(case, Decimal("30.00"))
    refuse_below_paid(case, Decimal("30.00"))
    with pytest.raises(CaseError) as err:
        refuse_below_paid(case, Decimal("29.99"))
    assert (err.value.code, err.value.field, err.value.status) == ("amount_below_paid", "amount", 400)
    assert err.value.detail == "已向消费者退款 ¥30.00，金额不能低于已退金额"
