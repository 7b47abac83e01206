"""Who may see a case, and the appeal offered while the holidays extend its window (cases/permissions.py):
written for the mutants of `may_see` and `_holidays` that no test in the lifecycle selection reached
(docs/mutation.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.lifecycle import arrows
from cases.models import AfterSalesCase, Holiday
from cases.permissions import available_actions, may_see
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_who_may_see_a_case(consumer, merchant, agent, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    outsider_merchant = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[outsider_merchant])
    inactive = f.make_staff("frank")
    inactive.is_active = False
    inactive.save()
    assert may_see(consumer, case) and may_see(merchant, case) and may_see(agent, case)
    assert not may_see(f.ConsumerFactory(username="mallory"), case)
    assert not may_see(outsider_merchant, case)
    assert not may_see(inactive, case)
    assert not may_see(AnonymousUser(), case)  # type: ignore[arg-type]


def _ruled(consumer, merchant, agent, item) -> AfterSalesCase:  # type: ignore[no-untyped-def]
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                amount="50.00", quantity=1)
    services.case_act(action="reject", case_id=case.pk, actor=merchant, data={"reason": "no"})
    services.case_act(action="escalate", case_id=case.pk, actor=consumer, data={"statement": "x"})
    return services.case_act(action="rule", case_id=case.pk, actor=agent,
                             data={"decision": "refund", "rationale": "r", "amount": "50.00"})


def test_the_appeal_stays_offered_while_a_holiday_extends_its_window(consumer, merchant, agent, item,
                                                                     time_machine):
    case = _ruled(consumer, merchant, agent, item)
    ruled_at = case.ruled_at
    assert "appeal" in available_actions(consumer, AfterSalesCase.objects.get(pk=case.pk))
    time_machine.move_to(ruled_at + timedelta(days=3, hours=1), tick=False)
    assert "appeal" not in available_actions(type(consumer).objects.get(pk=consumer.pk),
                                             AfterSalesCase.objects.get(pk=case.pk))
    day = timezone.localtime(ruled_at).date() + timedelta(days=1)
    Holiday.objects.create(name="h", start_date=day, end_date=day)
    fresh_user = type(consumer).objects.get(pk=consumer.pk)  # a new request: nothing memoised
    with CaptureQueriesContext(connection) as queries:
        assert "appeal" in available_actions(fresh_user, AfterSalesCase.objects.get(pk=case.pk))
        assert "appeal" in available_actions(fresh_user, AfterSalesCase.objects.get(pk=case.pk))
    read = [q["sql"] for q in queries.captured_queries if "cases_holiday" in q["sql"]]
    assert len(read) == 1, "the holidays are read once per request"


def test_one_request_checks_each_cases_own_appeal_window(consumer, merchant, agent, shop, time_machine):
    """The per-request memo of a role's actions in a state must not skip the case's own conditions: of two
    ruled cases in the same state, the one whose window closed offers no appeal, whichever is asked first."""
    items = [f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)) for _ in range(2)]
    early = _ruled(consumer, merchant, agent, items[0])
    time_machine.move_to(early.ruled_at + timedelta(days=2), tick=False)
    late = _ruled(consumer, merchant, agent, items[1])
    time_machine.move_to(early.ruled_at + timedelta(days=3, hours=1), tick=False)
    request_user = type(consumer).objects.get(pk=consumer.pk)
    assert "appeal" in available_actions(request_user, AfterSalesCase.objects.get(pk=late.pk))
    assert "appeal" not in available_actions(request_user, AfterSalesCase.objects.get(pk=early.pk))


def test_no_action_is_offered_to_who_is_not_a_party(consumer, merchant, item):
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    outsider_merchant = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[outsider_merchant])
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert set(available_actions(consumer, fresh)) >= {"revise", "withdraw"}
    assert set(available_actions(merchant, fresh)) >= {"approve", "reject"}
    assert available_actions(f.ConsumerFactory(username="mallory"), fresh) == []
    assert available_actions(outsider_merchant, fresh) == []


def test_the_charts_arrows_name_who_takes_them() -> None:
    edges = {(s, t, n): roles for s, t, n, roles in arrows()}
    assert edges["pending_merchant", "rejected", "reject"] == frozenset({"merchant"})
    assert edges["pending_merchant", "awaiting_return", "approve"] == frozenset({"merchant", "system"})
    assert edges["rejected", "in_arbitration", "escalate"] == frozenset({"consumer"})


def test_only_the_other_party_is_offered_the_answer_to_an_appeal(consumer, merchant, agent, item):
    case = _ruled(consumer, merchant, agent, item)
    services.case_act(action="appeal", case_id=case.pk, actor=consumer, data={"statement": "应全额退款"})
    request_consumer = type(consumer).objects.get(pk=consumer.pk)
    request_merchant = type(merchant).objects.get(pk=merchant.pk)
    for _ in range(2):  # the second time from the per-request memo
        fresh = AfterSalesCase.objects.get(pk=case.pk)
        assert "answer_appeal" not in available_actions(request_consumer, fresh)
        assert "answer_appeal" in available_actions(request_merchant, fresh)


def test_rule_is_offered_only_to_staff_with_the_permission(consumer, merchant, agent, item):
    """Who may rule is the `cases.rule_case` permission (given to the agents' group by a data migration, which
    an administrator may take back): without it an agent is not offered `rule`, the rest stays."""
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                amount="50.00", quantity=1)
    services.case_act(action="intervene", case_id=case.pk, actor=agent, data={})
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert {"rule", "close_evidence"} <= set(available_actions(type(agent).objects.get(pk=agent.pk), fresh))
    Group.objects.get(name="agents").permissions.remove(Permission.objects.get(codename="rule_case"))
    without = type(agent).objects.get(pk=agent.pk)  # a new request: permissions read again
    assert not without.has_perm("cases.rule_case")
    actions = available_actions(without, fresh)
    assert "rule" not in actions and "close_evidence" in actions


def test_decide_appeal_is_offered_only_to_a_supervisor_who_did_not_rule(consumer, merchant, item):
    """docs/appeals.md: the staff member who made the ruling under appeal is not offered `decide_appeal`, even as
    a supervisor; another supervisor is, an agent is not (the service refuses them too:
    tests/appeals/test_appeals.py)."""
    ruler = f.make_staff("sup-ruler", supervisor=True)
    other = f.make_staff("sup-other", supervisor=True)
    agent = f.make_staff("plain-agent")
    case = _ruled(consumer, merchant, ruler, item)
    services.case_act(action="appeal", case_id=case.pk, actor=consumer, data={"statement": "应全额退款"})
    users = [type(u).objects.get(pk=u.pk) for u in (ruler, other, agent)]  # one request each
    for _ in range(2):  # the second time from the per-request memo
        fresh = AfterSalesCase.objects.get(pk=case.pk)
        offered = ["decide_appeal" in available_actions(user, fresh) for user in users]
        assert offered == [False, True, False]
