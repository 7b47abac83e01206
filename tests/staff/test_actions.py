"""Acting on a case from the admin: every change through the services, permissions enforced."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from cases.models import AfterSalesCase, CaseEvent, CaseMessage, Refund
from portal.models import Wallet, WalletEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def _url(name: str, case: AfterSalesCase) -> str:
    return reverse(f"admin:cases_aftersalescase_{name}", args=[case.pk])


def test_ruling_through_the_admin_creates_refund_and_credits_points_once(
        client_for, agent, consumer, dispute, django_capture_on_commit_callbacks):
    client = client_for(agent)
    form = {"decision": "refund", "amount": "60.00", "rationale": "照片可见裂痕，商家未能证明人为损坏",
            "compensation_points": "300"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("rule", dispute), form)
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == "refunded"
    refund = Refund.objects.get(case=dispute)
    assert refund.amount == Decimal("60.00")
    assert WalletEntry.objects.filter(key=f"compensation-{dispute.number}").count() == 1
    assert Wallet.objects.get(user=consumer).points == 300
    event = CaseEvent.objects.get(case=dispute, action="rule")
    assert event.actor_username == "carol" and event.payload["compensation_points"] == 300
    # the same ruling posted again is refused (the case moved on) and credits nothing more
    again = client.post(_url("rule", dispute), form, follow=True)
    assert any("状态" in str(m) for m in again.context["messages"])
    assert Refund.objects.filter(case=dispute).count() == 1
    assert Wallet.objects.get(user=consumer).points == 300
    page = client.get(_url("review", dispute))
    assert page.context["review"].refund.amount == Decimal("60.00")


def test_ruling_above_claimable_is_an_admin_message(client_for, agent, dispute):
    response = client_for(agent).post(_url("rule", dispute), {
        "decision": "refund", "amount": "500.00", "rationale": "全额退款"})
    assert response.status_code == 400
    assert any("94.00" in str(m) for m in response.context["messages"])
    dispute.refresh_from_db()
    assert dispute.state == "in_arbitration" and not Refund.objects.filter(case=dispute).exists()


def test_reject_ruling_closes_for_merchant(client_for, agent, dispute):
    client_for(agent).post(_url("rule", dispute), {"decision": "reject", "rationale": "商家质检单可信"})
    dispute.refresh_from_db()
    assert (dispute.state, dispute.closure_reason) == ("closed", "ruled_for_merchant")


def test_agent_without_rule_case_cannot_rule(client_for, dispute):
    agents = Group.objects.get_or_create(name="agents")[0]
    agents.permissions.remove(*Permission.objects.filter(codename="rule_case"))  # a team without the right
    bare = f.UserFactory(username="frank", role="staff", is_staff=True)
    bare.groups.add(agents)
    client = client_for(bare)
    page = client.get(_url("review", dispute))
    assert page.status_code == 200 and page.context["can_rule"] is False
    response = client.post(_url("rule", dispute), {"decision": "refund", "amount": "10.00", "rationale": "x"},
                           follow=True)
    assert any("无权" in str(m) for m in response.context["messages"])
    dispute.refresh_from_db()
    assert dispute.state == "in_arbitration" and not dispute.ruled


def test_intervene_close_evidence_messages_and_notes(client_for, agent, consumer, merchant, item):
    from cases import services

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="20.00")
    client = client_for(agent)
    # before the platform steps in: only internal notes
    refused = client.post(_url("message", case), {"body": "请双方补充凭证"}, follow=True)
    assert any("介入" in str(m) for m in refused.context["messages"])
    client.post(_url("message", case), {"body": "先观察商家回复", "internal": "on"})
    client.post(_url("intervene", case), {"note": "买家来电投诉"})
    case.refresh_from_db()
    assert case.state == "in_arbitration" and case.assignee == agent
    client.post(_url("message", case), {"body": "请双方补充凭证"})
    assert list(CaseMessage.objects.filter(case=case).values_list("body", "internal")) == [
        ("先观察商家回复", True), ("请双方补充凭证", False)]
    client.post(_url("close_evidence", case))
    case.refresh_from_db()
    assert case.state == "awaiting_ruling"
    # a second close is an admin message, not a 500
    response = client.post(_url("close_evidence", case), follow=True)
    assert response.status_code == 200 and response.context["messages"]


def test_get_on_action_urls_changes_nothing(client_for, agent, dispute):
    client = client_for(agent)
    for name in ("rule", "intervene", "close_evidence", "message", "assign"):
        assert client.get(_url(name, dispute)).status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == "in_arbitration" and dispute.assignee is None


def test_assign_to_me_and_supervisor_only_reassign(client_for, agent, other_agent, supervisor, dispute):
    a = client_for(agent)
    a.post(_url("assign", dispute), {"to": "me"})
    dispute.refresh_from_db()
    assert dispute.assignee == agent
    # another agent can neither take it nor hand it on
    b = client_for(other_agent)
    response = b.post(_url("assign", dispute), {"to": "me"}, follow=True)
    assert any("主管" in str(m) for m in response.context["messages"])
    b.post(_url("assign", dispute), {"assignee": other_agent.pk})
    dispute.refresh_from_db()
    assert dispute.assignee == agent
    # the changelist action: same rule
    changelist = reverse("admin:cases_aftersalescase_changelist")
    b.post(changelist, {"action": "assign_to_me", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert dispute.assignee == agent
    # a supervisor may move it
    client_for(supervisor).post(_url("assign", dispute), {"assignee": other_agent.pk})
    dispute.refresh_from_db()
    assert dispute.assignee == other_agent
    # unassign is a supervisor action; an agent does not even get it
    page = a.get(changelist)
    assert "unassign" not in [name for name, _label in page.context["action_form"].fields["action"].choices]
    client_for(supervisor).post(changelist, {"action": "unassign", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert dispute.assignee is None


def test_assign_to_me_action_on_free_cases(client_for, agent, dispute):
    client_for(agent).post(reverse("admin:cases_aftersalescase_changelist"),
                           {"action": "assign_to_me", "_selected_action": [dispute.pk]})
    dispute.refresh_from_db()
    assert dispute.assignee == agent


def test_no_admin_page_changes_state_or_events(client_for, supervisor, dispute):
    client = client_for(dispute_admin := supervisor)
    assert dispute_admin.is_superuser is False
    change = reverse("admin:cases_aftersalescase_change", args=[dispute.pk])
    response = client.post(change, {"state": "refunded", "amount": "1.00", "closure_reason": "withdrawn"})
    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.state == "in_arbitration" and dispute.amount == Decimal("94.00")
    event = CaseEvent.objects.filter(case=dispute).first()
    assert client.post(reverse("admin:cases_caseevent_change", args=[event.pk]),
                       {"action": "approve", "to_state": "refunded"}).status_code == 403
    assert client.post(reverse("admin:cases_caseevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:cases_caseevent_add")).status_code == 403
    assert client.post(reverse("admin:cases_aftersalescase_delete", args=[dispute.pk]),
                       {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "submit"
    assert CaseEvent.objects.filter(case=dispute).count() == 3


def test_superuser_cannot_edit_state_either(client_for, dispute):
    root = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(root)
    response = client.post(reverse("admin:cases_aftersalescase_change", args=[dispute.pk]), {"state": "refunded"})
    assert response.status_code == 403
    refund_add = client.get(reverse("admin:cases_refund_add"))
    assert refund_add.status_code == 403
    dispute.refresh_from_db()
    assert dispute.state == "in_arbitration"


def test_view_only_records(client_for, agent, dispute):
    client = client_for(agent)
    evidence = dispute.evidence.first()
    message_page = client.get(reverse("admin:cases_caseevidence_change", args=[evidence.pk]))
    assert message_page.status_code == 200  # view
    assert client.post(reverse("admin:cases_caseevidence_change", args=[evidence.pk]),
                       {"note": "x"}).status_code == 403
    assert client.post(reverse("admin:cases_caseevidence_delete", args=[evidence.pk]),
                       {"post": "yes"}).status_code == 403
