"""What is paid equals the refund amount after every decision: every first ruling × every appeal decision, and a
fast refund that a ruling for the merchant turned into a platform advance, reversed on appeal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cases import services
from cases.models import AfterSalesCase, PlatformAdvance, Refund
from cases.services import CaseError
from tests.appeals.test_appeals import act, assert_paid_equals_refund, ruled

pytestmark = pytest.mark.django_db

RULINGS = {"refund": {"decision": "refund", "amount": "50.00"},
           "refund_with_return": {"decision": "refund", "amount": "50.00", "require_return": True},
           "reject": {"decision": "reject"}}
DECISIONS = {"uphold": {"outcome": "uphold"},
             "refund_more": {"outcome": "overturn", "decision": "refund", "amount": "80.00"},
             "refund_with_return": {"outcome": "overturn", "decision": "refund", "amount": "80.00",
                                    "require_return": True},
             "reject": {"outcome": "overturn", "decision": "reject"}}


def _advanced(case: AfterSalesCase) -> Decimal:
    return sum((a.amount for a in PlatformAdvance.objects.filter(case=case)), Decimal("0"))


def _paid(case: AfterSalesCase) -> Decimal:
    refund = Refund.objects.filter(case=case).first()
    return refund.amount if refund else Decimal("0")


@pytest.mark.parametrize("first", list(RULINGS))
@pytest.mark.parametrize("second", list(DECISIONS))
def test_every_ruling_and_decision_keeps_paid_equal_to_the_refund(first, second, consumer, merchant, agent,
                                                                  supervisor, item):
    spec = dict(RULINGS[first])
    case = ruled(consumer, merchant, agent, item, decision=spec.pop("decision"), **spec)
    before = (case.state, _paid(case))
    act("appeal", case, consumer if first == "reject" else merchant, statement="申诉")
    case = act("decide_appeal", case, supervisor, rationale="复核", **DECISIONS[second])
    assert_paid_equals_refund(case)
    if second == "uphold":
        assert (case.state, _paid(case)) == before
    if case.state == "closed":
        assert case.closure_reason == "ruled_for_merchant"
        assert _advanced(case) == _paid(case)  # the platform bears exactly what was paid
    else:
        assert _advanced(case) == 0
    if case.state == "awaiting_return":
        act("ship_return", case, consumer, carrier="SF", tracking_number="SF1")
        case = act("confirm_receipt", case, merchant)
        assert case.state == "refunded"
        assert_paid_equals_refund(case)
    assert AfterSalesCase.objects.get(pk=case.pk).closed_at is not None or case.state == "awaiting_return"


def test_a_fast_refund_advanced_by_the_platform_is_reversed_when_the_appeal_pays(consumer, merchant, agent,
                                                                               supervisor, item):
    consumer.good_standing = True
    consumer.save()
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                amount="60.00", quantity=1)
    act("approve", case, merchant)
    act("ship_return", case, consumer, carrier="SF", tracking_number="SF1")
    assert _paid(case) == Decimal("60.00")  # fast refund
    act("refuse_receipt", case, merchant, reason="少件")
    act("escalate", case, consumer, statement="没有少件")
    case = act("rule", case, agent, decision="reject", rationale="商家举证充分")
    assert _advanced(case) == Decimal("60.00")
    act("appeal", case, consumer, statement="快递签收单证明完整")
    with pytest.raises(CaseError) as below:
        act("decide_appeal", case, supervisor, outcome="overturn", rationale="x", decision="refund", amount="50.00")
    assert below.value.code == "amount_below_paid"
    case = act("decide_appeal", case, supervisor, outcome="overturn", rationale="改判", decision="refund",
               amount="60.00")
    assert case.state == "refunded" and _paid(case) == Decimal("60.00")
    assert _advanced(case) == 0  # advance reversed once
    assert Refund.objects.get(case=case).payouts.count() == 1
    assert_paid_equals_refund(case)


def test_the_appeal_window_follows_the_deadline_override(settings, consumer, merchant, agent, item):
    settings.CASE_DEADLINES_SECONDS = {"appeal_window": 60}
    case = ruled(consumer, merchant, agent, item)
    ruled_at = AfterSalesCase.objects.get(pk=case.pk).ruled_at
    with pytest.raises(CaseError) as late:
        act("appeal", case, merchant, statement="x", now=ruled_at + timedelta(seconds=61))
    assert late.value.code == "appeal_window_closed"
    assert act("appeal", case, merchant, statement="x", now=ruled_at + timedelta(seconds=59)).state == "under_appeal"
