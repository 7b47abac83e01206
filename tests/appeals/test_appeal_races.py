"""Races on PostgreSQL: both parties appeal at once; a decision races a late answer. One applies, one 409."""

from __future__ import annotations

import pytest

from cases import services
from cases.models import AfterSalesCase, CaseEvent
from tests import factories as f
from tests.cases.test_races import one_winner, race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]


@pytest.fixture
def ruled_case(postgres, db):  # type: ignore[no-untyped-def]
    consumer = f.ConsumerFactory(username="ap-c", good_standing=False)
    merchant = f.MerchantFactory(username="ap-m")
    shop = f.ShopFactory(code="ap", members=[merchant])
    agent = f.make_staff("ap-agent")
    supervisor = f.make_staff("ap-sup", supervisor=True)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                amount="50.00", quantity=1)
    services.case_act(action="reject", case_id=case.pk, actor=merchant, data={"reason": "不同意"})
    services.case_act(action="escalate", case_id=case.pk, actor=consumer, data={})
    services.case_act(action="rule", case_id=case.pk, actor=agent,
                      data={"decision": "refund", "amount": "40.00", "rationale": "裁决"})
    return case, consumer, merchant, supervisor


def test_appeal_races_appeal(ruled_case):
    case, consumer, merchant, _ = ruled_case
    results = race(
        lambda: services.case_act(action="appeal", case_id=case.pk, actor=consumer, data={"statement": "c"}),
        lambda: services.case_act(action="appeal", case_id=case.pk, actor=merchant, data={"statement": "m"}),
    )
    one_winner(results)
    assert CaseEvent.objects.filter(case=case, action="appeal").count() == 1
    assert AfterSalesCase.objects.get(pk=case.pk).state == "under_appeal"


def test_decision_races_a_late_answer(ruled_case):
    case, consumer, merchant, supervisor = ruled_case
    services.case_act(action="appeal", case_id=case.pk, actor=consumer, data={"statement": "c"})
    results = race(
        lambda: services.case_act(action="decide_appeal", case_id=case.pk, actor=supervisor,
                                  data={"outcome": "uphold", "rationale": "维持"}),
        lambda: services.case_act(action="answer_appeal", case_id=case.pk, actor=merchant, data={"statement": "m"}),
    )
    decided = not isinstance(results[0], Exception)
    if decided and isinstance(results[1], Exception):
        one_winner(results)  # the answer came after the decision: 409
    else:
        assert all(not isinstance(r, Exception) for r in results), results  # the answer first, then the decision
    assert AfterSalesCase.objects.get(pk=case.pk).state == "refunded"
    assert CaseEvent.objects.filter(case=case, action="decide_appeal").count() == 1


def test_intercept_races_withdrawal(postgres, db):
    consumer = f.ConsumerFactory(username="ic-c")
    merchant = f.MerchantFactory(username="ic-m")
    shop = f.ShopFactory(code="ic", members=[merchant])
    order = f.OrderFactory(consumer=consumer, shop=shop, signed_at=None, carrier="simulated", waybill="SIM-HOLD")
    item = f.OrderItemFactory(order=order, quantity=1, unit_price="60.00", paid="60.00")
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only",
                                reason="not_received", amount="60.00", quantity=1)
    results = race(
        lambda: services.case_act(action="intercept", case_id=case.pk, actor=merchant, data={}),
        lambda: services.case_act(action="withdraw", case_id=case.pk, actor=consumer, data={}),
    )
    one_winner(results)
    state = AfterSalesCase.objects.get(pk=case.pk).state
    assert state == ("intercepting" if not isinstance(results[0], Exception) else "closed")
