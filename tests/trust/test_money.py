"""Issue #15, money: what is paid always equals the refund amount (lifecycle.md, Money), proven through the real
services with the payouts really sent after commit (the simulated provider's own ledger is the truth)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from cases import policy, services
from cases.choices import State
from cases.models import AfterSalesCase, CaseEvent, PlatformAdvance, Refund
from cases.payments import SimulatedPayout
from cases.services import CaseError
from portal.models import Wallet, WalletEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Call a service and let its after-commit work (payout tasks) run, as a real commit would."""
    def call(service, **kwargs):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)
    return call


def sent(case: AfterSalesCase) -> Decimal:
    """What the payment provider has really paid out for the case (all its payouts' keys)."""
    keys = list(Refund.objects.get(case=case).payouts.values_list("idempotency_key", flat=True))
    return SimulatedPayout.objects.filter(idempotency_key__in=keys).aggregate(s=Sum("amount"))["s"] or Decimal("0")


def fast_refunded_case(run, consumer, merchant, item, amount="50.00"):  # type: ignore[no-untyped-def]
    """A return of one unit, approved and shipped: a fast refund of `amount`, then refused on receipt."""
    case = run(services.case_submit, consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
               quantity=1, amount=amount)
    run(services.case_approve, case_id=case.pk, actor=merchant)
    run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number="SF1")
    assert sent(case) == Decimal(amount)
    run(services.case_refuse_receipt, case_id=case.pk, actor=merchant, reason="包装破损")
    return case


def to_ruling(run, consumer, case):  # type: ignore[no-untyped-def]
    run(services.case_escalate, case_id=case.pk, actor=consumer, statement="商家拒收")


def test_ruling_above_a_fast_refund_pays_the_difference(run, consumer, merchant, agent, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    to_ruling(run, consumer, case)
    run(services.case_rule, case_id=case.pk, actor=agent, decision="refund", rationale="商品有问题", amount="94.00")
    refund = Refund.objects.get(case=case)
    assert AfterSalesCase.objects.get(pk=case.pk).state == State.REFUNDED
    assert refund.amount == Decimal("94.00") == sent(case)
    assert [p.amount for p in refund.payouts.all()] == [Decimal("50.00"), Decimal("44.00")]
    assert refund.status == "succeeded"
    payouts = list(CaseEvent.objects.filter(case=case, action__in=["fast_refund", "further_payout"])
                   .order_by("id").values_list("action", "payload"))
    assert payouts == [("fast_refund", {"amount": "50.00", "total": "50.00"}),
                       ("further_payout", {"amount": "44.00", "total": "94.00"})]


def test_ruling_below_what_was_paid_is_amount_below_paid_and_changes_nothing(run, consumer, merchant, agent, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    to_ruling(run, consumer, case)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(CaseError) as err:
        run(services.case_rule, case_id=case.pk, actor=agent, decision="refund", rationale="部分", amount="30.00")
    assert (err.value.code, err.value.status, err.value.field) == ("amount_below_paid", 400, "amount")
    assert AfterSalesCase.objects.get(pk=case.pk).state == State.IN_ARBITRATION
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Refund.objects.get(case=case).amount == Decimal("50.00") == sent(case)


def test_amount_below_paid_over_the_api(run, api, consumer, merchant, agent, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    to_ruling(run, consumer, case)
    r = api(agent).post(f"/api/v1/cases/{case.pk}/actions/rule/",
                        {"decision": "refund", "rationale": "部分", "amount": "10.00"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "amount_below_paid"


def test_revise_and_reapprove_after_a_fast_refund_records_no_payout_that_was_not_sent(run, consumer, merchant, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    run(services.case_revise, case_id=case.pk, actor=consumer, description="重新寄回")
    run(services.case_approve, case_id=case.pk, actor=merchant)
    run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number="SF2")
    assert CaseEvent.objects.filter(case=case, action="fast_refund").count() == 1
    run(services.case_confirm_receipt, case_id=case.pk, actor=merchant)
    assert Refund.objects.get(case=case).amount == Decimal("50.00") == sent(case)


def test_revise_below_what_was_paid_is_refused(run, consumer, merchant, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    with pytest.raises(CaseError) as err:
        run(services.case_revise, case_id=case.pk, actor=consumer, amount="20.00")
    assert err.value.code == "amount_below_paid"


def test_ruling_for_the_merchant_after_payment_is_a_platform_advance(run, consumer, merchant, agent, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    to_ruling(run, consumer, case)
    run(services.case_rule, case_id=case.pk, actor=agent, decision="reject", rationale="消费者责任")
    case.refresh_from_db()
    assert (case.state, case.closure_reason) == (State.CLOSED, "ruled_for_merchant")
    assert case.refund_amount == Decimal("50.00") == Refund.objects.get(case=case).amount == sent(case)
    advance = PlatformAdvance.objects.get(case=case)
    assert advance.amount == Decimal("50.00")


def test_value_of_k_of_n_units_is_rounded_once(consumer, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=6, unit_price="10.00",
                              paid="10.00")
    assert policy.claimable(item, 5) == Decimal("8.33")  # not 1.67 × 5 = 8.35
    ledger = policy.ItemLedger(units_used=5, units_value=Decimal("8.33"), refunded_total=Decimal("8.33"))
    assert policy.claimable(item, 1, ledger) == Decimal("1.67")  # the last unit: the parts add up to paid


def test_parts_of_an_item_always_add_up_to_what_was_paid(run, consumer, merchant, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=3, unit_price="3.34",
                              paid="10.00")
    total = Decimal("0")
    for _ in range(3):
        case = run(services.case_submit, consumer=consumer, order_item_id=item.pk, kind="refund_only",
                   reason="other", quantity=1)
        run(services.case_approve, case_id=case.pk, actor=merchant)
        total += Refund.objects.get(case=case).amount
    assert total == Decimal("10.00")


def test_second_ruling_credits_its_own_compensation_once(run, consumer, merchant, agent, item):
    case = run(services.case_submit, consumer=consumer, order_item_id=item.pk, kind="return_refund",
               reason="other", quantity=1, amount="60.00")
    run(services.case_reject, case_id=case.pk, actor=merchant, reason="不同意")
    to_ruling(run, consumer, case)
    run(services.case_rule, case_id=case.pk, actor=agent, decision="refund", rationale="退货退款", amount="60.00",
        require_return=True, compensation_points=10)
    run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number="SF3")
    run(services.case_refuse_receipt, case_id=case.pk, actor=merchant, reason="货不对")
    to_ruling(run, consumer, case)
    run(services.case_rule, case_id=case.pk, actor=agent, decision="reject", rationale="第二次裁决",
        compensation_points=20)
    assert Wallet.objects.get(user=consumer).points == 30
    assert WalletEntry.objects.filter(key__startswith=f"compensation-{case.number}").count() == 2


def test_exchange_asking_more_than_claimable_is_amount_exceeds_paid(consumer, item):
    with pytest.raises(CaseError) as err:
        services.case_submit(consumer=consumer, order_item_id=item.pk, kind="exchange", reason="other", quantity=1,
                             amount="500.00")
    assert err.value.code == "amount_exceeds_paid"
    with pytest.raises(CaseError) as err:
        services.case_submit(consumer=consumer, order_item_id=item.pk, kind="exchange", reason="other", quantity=1,
                             amount="5.00")
    assert err.value.code == "amount_not_allowed"


def test_exchange_reapproved_after_a_refund_ruling_goes_to_replacement(run, consumer, merchant, agent, item):
    """Suspicion: an old ruling's require_return flag made a later exchange refund on receipt. Settled: an
    approval decides afresh."""
    consumer.good_standing = False
    consumer.save()
    case = run(services.case_submit, consumer=consumer, order_item_id=item.pk, kind="exchange", reason="other",
               quantity=1)
    run(services.case_reject, case_id=case.pk, actor=merchant, reason="不同意")
    to_ruling(run, consumer, case)
    run(services.case_rule, case_id=case.pk, actor=agent, decision="refund", rationale="退款", amount="10.00",
        require_return=True)
    run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number="SF4")
    run(services.case_refuse_receipt, case_id=case.pk, actor=merchant, reason="未收到")
    run(services.case_revise, case_id=case.pk, actor=consumer, description="改为换货")
    run(services.case_approve, case_id=case.pk, actor=merchant)
    run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number="SF5")
    run(services.case_confirm_receipt, case_id=case.pk, actor=merchant)
    assert AfterSalesCase.objects.get(pk=case.pk).state == State.AWAITING_REPLACEMENT
    assert not Refund.objects.filter(case=case).exists()


def test_fast_refund_stops_at_the_consumers_quota(run, consumer, merchant, shop, settings):
    """3 × the limit outstanding (paid fast, not yet received back) at most for a consumer in good standing."""
    from cases.models import PlatformSetting

    limit = PlatformSetting.current().fast_refund_limit
    cases = []
    for _ in range(4):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=1,
                                  unit_price=str(limit), paid=str(limit))
        case = run(services.case_submit, consumer=consumer, order_item_id=item.pk, kind="return_refund",
                   reason="other", quantity=1)
        run(services.case_approve, case_id=case.pk, actor=merchant)
        run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number=f"Q{case.pk}")
        cases.append(case)
    fast = [Refund.objects.filter(case=c, fast=True).exists() for c in cases]
    assert fast == [True, True, True, False]
    run(services.case_confirm_receipt, case_id=cases[0].pk, actor=merchant)  # one received back: room again
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=1,
                              unit_price=str(limit), paid=str(limit))
    case = run(services.case_submit, consumer=consumer, order_item_id=item.pk, kind="return_refund",
               reason="other", quantity=1)
    run(services.case_approve, case_id=case.pk, actor=merchant)
    run(services.case_ship_return, case_id=case.pk, actor=consumer, carrier="SF", tracking_number="Q-last")
    assert Refund.objects.filter(case=case, fast=True).exists()


def test_retry_sweep_leaves_a_refund_inside_its_own_retries(run, consumer, merchant, item, settings):
    """Suspicion: the periodic retry re-sent refunds still inside their task's own retries, so attempts climbed
    early and a payout that went through could end `failed`. Settled: a recent attempt is left to its task."""
    from datetime import timedelta

    from django.utils import timezone

    from cases.payments import SimulatedGateway
    from cases.refunds import refunds_due_for_retry

    settings.REFUND_RETRY_AFTER_SECONDS = 60
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="20.00")
    services.case_approve(case_id=case.pk, actor=merchant)  # payout task not run (no commit): a lost task
    refund = Refund.objects.get(case=case)
    old = timezone.now() - timedelta(seconds=600)
    Refund.objects.filter(pk=refund.pk).update(created_at=old, last_attempt_at=timezone.now())
    assert refunds_due_for_retry() == []  # attempted a moment ago: its own retry is on the way
    Refund.objects.filter(pk=refund.pk).update(last_attempt_at=old)
    assert refunds_due_for_retry() == [refund.pk]
    # a provider that paid but timed out: the retry with the same key finds the payout, never `failed`
    from cases.payments import PaymentError
    from cases.refunds import refund_execute

    SimulatedGateway.timeout_next = 1
    with pytest.raises(PaymentError):
        refund_execute(refund_id=refund.pk)
    assert Refund.objects.get(pk=refund.pk).status == "pending"
    assert refund_execute(refund_id=refund.pk).status == "succeeded"
    assert SimulatedPayout.objects.filter(idempotency_key=refund.idempotency_key).count() == 1


def test_staff_see_the_platform_advance_and_every_payout(run, client, consumer, merchant, agent, item):
    case = fast_refunded_case(run, consumer, merchant, item)
    to_ruling(run, consumer, case)
    run(services.case_rule, case_id=case.pk, actor=agent, decision="reject", rationale="消费者责任")
    client.force_login(agent)
    page = client.get("/admin/cases/platformadvance/")
    assert page.status_code == 200 and case.number in page.content.decode()
    refund = Refund.objects.get(case=case)
    detail = client.get(f"/admin/cases/refund/{refund.pk}/change/")
    assert detail.status_code == 200 and refund.idempotency_key in detail.content.decode()
    assert client.post(f"/admin/cases/platformadvance/{PlatformAdvance.objects.get().pk}/delete/").status_code in (
        403, 302) and PlatformAdvance.objects.count() == 1
