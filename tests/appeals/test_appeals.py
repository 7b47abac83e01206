"""Appeals (docs/appeals.md): the window, once only, who answers, who decides, and the money after every
decision (what is paid equals the refund amount)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.models import AfterSalesCase, CaseEvent, Deadline, Holiday, Notification, PlatformAdvance, Refund
from cases.services import CaseError
from cases.sweep import deadlines_sweep
from portal.models import WalletEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def act(action, case, actor, **data):  # type: ignore[no-untyped-def]
    now = data.pop("now", None)
    return services.case_act(action=action, case_id=case.pk, actor=actor, data=data, now=now)


def ruled(consumer, merchant, agent, item, *, decision="refund", amount="50.00", kind="refund_only",
          **extra):  # type: ignore[no-untyped-def]
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason="other",
                                amount="80.00" if kind != "exchange" else None, quantity=1)
    act("reject", case, merchant, reason="不同意")
    act("escalate", case, consumer, statement="请平台介入")
    data = {"decision": decision, "rationale": "依据凭证裁决", **extra}
    if decision == "refund":
        data["amount"] = amount
    return act("rule", case, agent, **data)


def assert_paid_equals_refund(case: AfterSalesCase) -> None:
    case = AfterSalesCase.objects.get(pk=case.pk)
    refund = Refund.objects.filter(case=case).first()
    if refund is None:
        return
    payouts = sum((p.amount for p in refund.payouts.all()), Decimal("0"))
    assert payouts == refund.amount
    if case.state == "awaiting_return":  # a decided amount waiting for the return: paid on receipt
        assert refund.amount <= case.refund_amount
    else:
        assert refund.amount == case.refund_amount


def test_merchant_appeals_consumer_answers_supervisor_upholds(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item)
    assert case.state == "refunded" and case.ruled_state == "refunded" and case.ruled_by_id == agent.pk
    case = act("appeal", case, merchant, statement="买家已收到货")
    assert case.state == "under_appeal" and case.closed_at is None and case.closure_reason is None
    assert case.appeal_role == "merchant" and case.deadline_name == "appeal_answer"
    event = CaseEvent.objects.filter(case=case).last()
    assert event.action == "appeal" and event.payload["statement"] == "买家已收到货"
    assert event.payload["ruled_state"] == "refunded" and event.payload["window_due_at"]
    case = act("answer_appeal", case, consumer, statement="没有收到")
    assert case.appeal_ready and case.deadline_name == ""
    case = act("decide_appeal", case, supervisor, outcome="uphold", rationale="维持")
    assert case.state == "refunded" and case.closed_at is not None and case.appeal_outcome == "uphold"
    assert Refund.objects.get(case=case).payouts.count() == 1
    assert_paid_equals_refund(case)


def test_an_appeal_is_once_only(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item)
    act("appeal", case, merchant, statement="申诉")
    with pytest.raises(CaseError) as second:
        act("appeal", case, consumer, statement="我也申诉")
    assert (second.value.code, second.value.status) == ("invalid_transition", 409)  # under appeal: other state
    act("decide_appeal", case, supervisor, outcome="uphold", rationale="维持")
    with pytest.raises(CaseError) as again:
        act("appeal", case, consumer, statement="再申诉")
    assert (again.value.code, again.value.status) == ("already_appealed", 400)


def test_the_window_is_three_days_from_the_ruling_and_pauses_over_holidays(consumer, merchant, agent, item):
    case = ruled(consumer, merchant, agent, item)
    ruled_at = AfterSalesCase.objects.get(pk=case.pk).ruled_at
    with pytest.raises(CaseError) as late:
        act("appeal", case, merchant, statement="晚了", now=ruled_at + timedelta(days=3, seconds=1))
    assert (late.value.code, late.value.status) == ("appeal_window_closed", 400)
    day = timezone.localtime(ruled_at + timedelta(days=1)).date()
    Holiday.objects.create(name="假期", start_date=day, end_date=day)
    case = act("appeal", case, merchant, statement="假期顺延", now=ruled_at + timedelta(days=3, hours=1))
    assert case.state == "under_appeal"


def test_never_ruled_or_wrong_state_or_staff(consumer, merchant, agent, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                amount="50.00", quantity=1)
    with pytest.raises(CaseError) as pending:
        act("appeal", case, consumer, statement="x")
    assert (pending.value.code, pending.value.status) == ("invalid_transition", 409)
    act("approve", case, merchant)
    with pytest.raises(CaseError) as never:
        act("appeal", case, consumer, statement="x")
    assert (never.value.code, never.value.status) == ("not_appealable", 400)
    other = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=item.order.shop))
    done = ruled(consumer, merchant, agent, other)
    with pytest.raises(CaseError) as staff:
        act("appeal", done, agent, statement="x")
    assert staff.value.status == 403


def test_only_a_supervisor_who_did_not_rule_decides(consumer, merchant, item):
    ruler = f.make_staff("ruler", supervisor=True)
    plain_agent = f.make_staff("plain")
    other = f.make_staff("other-sup", supervisor=True)
    case = ruled(consumer, merchant, ruler, item)
    act("appeal", case, consumer, statement="金额太少")
    for who in (ruler, plain_agent):
        with pytest.raises(CaseError) as denied:
            act("decide_appeal", case, who, outcome="uphold", rationale="x")
        assert (denied.value.code, denied.value.status) == ("permission_denied", 403)
    with pytest.raises(CaseError) as missing:
        act("decide_appeal", case, other, outcome="overturn", rationale="x")
    assert missing.value.field == "decision"
    assert act("decide_appeal", case, other, outcome="uphold", rationale="维持").state == "refunded"


def test_answer_rules(consumer, merchant, agent, item):
    case = ruled(consumer, merchant, agent, item)
    case = act("appeal", case, consumer, statement="金额太少")
    with pytest.raises(CaseError) as own:
        act("answer_appeal", case, consumer, statement="自己答复")
    assert own.value.status == 403
    due = AfterSalesCase.objects.get(pk=case.pk).deadline_due_at
    with pytest.raises(CaseError) as late:
        act("answer_appeal", case, merchant, statement="晚了", now=due + timedelta(seconds=1))
    assert (late.value.code, late.value.status) == ("answer_window_closed", 400)
    act("answer_appeal", case, merchant, statement="答复")
    with pytest.raises(CaseError) as twice:
        act("answer_appeal", case, merchant, statement="再答复")
    assert twice.value.code == "already_answered"


def test_the_answer_clock_expiring_only_flags_the_case(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item)
    act("appeal", case, consumer, statement="金额太少")
    clock = Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)
    assert clock.name == "appeal_answer" and clock.duration_seconds == 3 * 86400
    deadlines_sweep(now=clock.due_at + timedelta(seconds=1))
    case = AfterSalesCase.objects.get(pk=case.pk)
    assert case.state == "under_appeal" and case.appeal_ready
    assert Notification.objects.filter(user=supervisor, case=case, message="appeal_ready").exists()


def test_overturn_for_more_pays_the_difference(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item, amount="50.00")
    act("appeal", case, consumer, statement="应全额退款")
    case = act("decide_appeal", case, supervisor, outcome="overturn", rationale="改判", decision="refund",
               amount="80.00", compensation_points=100)
    refund = Refund.objects.get(case=case)
    assert case.state == "refunded" and refund.amount == Decimal("80.00")
    assert [p.amount for p in refund.payouts.all()] == [Decimal("50.00"), Decimal("30.00")]
    assert CaseEvent.objects.filter(case=case, action="further_payout").get().payload["amount"] == "30.00"
    assert WalletEntry.objects.filter(key=f"compensation-{case.number}-appeal", points=100).count() == 1
    assert_paid_equals_refund(case)


def test_overturn_for_less_than_paid_is_refused(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item, amount="50.00")
    act("appeal", case, merchant, statement="退多了")
    with pytest.raises(CaseError) as below:
        act("decide_appeal", case, supervisor, outcome="overturn", rationale="x", decision="refund", amount="40.00")
    assert (below.value.code, below.value.status) == ("amount_below_paid", 400)
    assert AfterSalesCase.objects.get(pk=case.pk).state == "under_appeal"
    assert_paid_equals_refund(case)


def test_overturn_for_the_merchant_after_payment_is_a_platform_advance(consumer, merchant, agent, supervisor,
                                                                      item):
    case = ruled(consumer, merchant, agent, item, amount="50.00")
    act("appeal", case, merchant, statement="买家恶意退款")
    case = act("decide_appeal", case, supervisor, outcome="overturn", rationale="支持商家", decision="reject")
    assert case.state == "closed" and case.closure_reason == "ruled_for_merchant"
    advance = PlatformAdvance.objects.get(case=case)
    assert advance.amount == Decimal("50.00") and advance.key == f"advance-{case.number}-appeal"
    assert case.refund_amount == Decimal("50.00")
    assert Refund.objects.get(case=case).payouts.count() == 1  # nothing clawed back, nothing paid again
    assert_paid_equals_refund(case)


def test_a_ruling_for_the_merchant_overturned_pays_the_consumer(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item, decision="reject")
    assert case.state == "closed" and case.ruled_state == "closed"
    case = act("appeal", case, consumer, statement="商品确有问题")
    assert case.closure_reason == "ruled_for_merchant"  # the ruled outcome stays visible
    case = act("decide_appeal", case, supervisor, outcome="overturn", rationale="改判退款", decision="refund",
               amount="60.00")
    assert case.state == "refunded" and case.closure_reason is None
    assert Refund.objects.get(case=case).amount == Decimal("60.00")
    assert_paid_equals_refund(case)


def test_overturn_with_return_required_then_receipt_pays(consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item, decision="reject")
    act("appeal", case, consumer, statement="申诉")
    case = act("decide_appeal", case, supervisor, outcome="overturn", rationale="退货退款", decision="refund",
               amount="70.00", require_return=True)
    assert case.state == "awaiting_return" and case.deadline_name == "consumer_ship"
    act("ship_return", case, consumer, carrier="SF", tracking_number="SF9")
    case = act("confirm_receipt", case, merchant)
    assert case.state == "refunded" and Refund.objects.get(case=case).amount == Decimal("70.00")
    assert_paid_equals_refund(case)


def test_a_ruling_with_return_is_appealed_from_awaiting_return_and_upheld_back(consumer, merchant, agent,
                                                                              supervisor, item):
    case = ruled(consumer, merchant, agent, item, require_return=True)
    assert case.state == "awaiting_return"
    act("appeal", case, merchant, statement="申诉")
    case = act("decide_appeal", case, supervisor, outcome="uphold", rationale="维持")
    assert case.state == "awaiting_return" and case.deadline_name == "consumer_ship"
    act("ship_return", case, consumer, carrier="SF", tracking_number="SF9")
    with pytest.raises(CaseError) as moved:
        act("appeal", case, consumer, statement="x")
    assert moved.value.code in ("invalid_transition", "already_appealed")
