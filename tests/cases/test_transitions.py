"""Every arrow of lifecycle.md's state chart, through the services, with its audit event."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.choices import State
from cases.models import AfterSalesCase, CaseEvent, Deadline, Notification, Refund
from cases.payments import SimulatedPayout
from cases.services import CaseError
from portal.models import Wallet
from tests import factories as f
from tests.commit import commit, committed, paid_at_gateway

pytestmark = pytest.mark.django_db


def new_case(consumer, item, kind="return_refund", reason="other", **kw):  # type: ignore[no-untyped-def]
    extra = {}
    if reason in ("quality_issue", "damaged_in_transit"):
        extra["evidence_files"] = [SimpleUploadedFile("p.jpg", f.jpeg_bytes())]
    return services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason,
                                quantity=kw.pop("quantity", 1), condition_intact=True, **extra, **kw)


def state(case) -> str:  # type: ignore[no-untyped-def]
    return AfterSalesCase.objects.get(pk=case.pk).state


def last_event(case) -> CaseEvent:  # type: ignore[no-untyped-def]
    return CaseEvent.objects.filter(case=case).order_by("-id").first()


def test_refund_only_approve_refunds_in_same_transaction(consumer, merchant, item):
    case = new_case(consumer, item, kind="refund_only", amount="50.00")
    with committed() as after_commit:
        services.case_approve(case_id=case.pk, actor=merchant)
        # the refund is decided in the approval's transaction; the provider is paid only after it commits
        assert state(case) == State.REFUNDED
        assert Refund.objects.get(case=case).status == "pending"
        assert not SimulatedPayout.objects.exists()
    assert after_commit, "the payout was registered to run after commit"
    refund = Refund.objects.get(case=case)
    assert refund.amount == Decimal("50.00") and refund.status == "succeeded"
    assert list(SimulatedPayout.objects.values_list("idempotency_key", "amount")) == [
        (f"refund-{case.number}", Decimal("50.00"))]
    ev = last_event(case)
    assert (ev.action, ev.from_state, ev.to_state, ev.role, ev.actor_username) == (
        "approve", "pending_merchant", "refunded", "merchant", "bob")
    assert not Deadline.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True).exists()


def test_return_refund_full_path(consumer, merchant, item):
    consumer.good_standing = False
    consumer.save()
    case = new_case(consumer, item)
    services.case_approve(case_id=case.pk, actor=merchant)
    assert state(case) == State.AWAITING_RETURN
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="SF1")
    assert state(case) == State.RETURN_IN_TRANSIT
    assert not Refund.objects.filter(case=case).exists()  # not in good standing: no fast refund
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    assert state(case) == State.REFUNDED
    assert Refund.objects.get(case=case).fast is False


def test_exchange_path_to_completed(consumer, merchant, item):
    case = new_case(consumer, item, kind="exchange", reason="quality_issue")
    assert case.amount == Decimal("0.00") and case.freight_payer == "merchant"
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    assert state(case) == State.AWAITING_REPLACEMENT
    services.case_ship_replacement(case_id=case.pk, actor=merchant, carrier="SF", tracking_number="2")
    assert state(case) == State.REPLACEMENT_IN_TRANSIT
    services.case_confirm_completion(case_id=case.pk, actor=consumer)
    assert state(case) == State.COMPLETED
    assert not Refund.objects.filter(case=case).exists()


def test_repair_path_escalated_and_ruled(consumer, merchant, agent, item):
    case = new_case(consumer, item, kind="repair", reason="quality_issue")
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    assert state(case) == State.IN_REPAIR
    services.case_ship_repaired(case_id=case.pk, actor=merchant, carrier="SF", tracking_number="2")
    services.case_escalate(case_id=case.pk, actor=consumer, statement="still broken")
    assert state(case) == State.IN_ARBITRATION
    services.case_close_evidence(case_id=case.pk, actor=agent)
    assert state(case) == State.AWAITING_RULING
    services.case_rule(case_id=case.pk, actor=agent, decision="refund", amount="60.00", rationale="defect",
                       compensation_points=100)
    assert state(case) == State.REFUNDED
    assert Refund.objects.get(case=case).amount == Decimal("60.00")
    assert Wallet.objects.get(user=consumer).points == 100


def test_reject_revise_escalate_rule_for_merchant(consumer, merchant, agent, item):
    case = new_case(consumer, item)
    services.case_reject(case_id=case.pk, actor=merchant, reason="used goods")
    assert state(case) == State.REJECTED
    assert last_event(case).payload["reason"] == "used goods"
    services.case_revise(case_id=case.pk, actor=consumer, amount="80.00", description="please")
    assert state(case) == State.PENDING_MERCHANT
    assert AfterSalesCase.objects.get(pk=case.pk).amount == Decimal("80.00")
    services.case_reject(case_id=case.pk, actor=merchant, reason="still used")
    services.case_escalate(case_id=case.pk, actor=consumer, statement="unfair")
    services.case_rule(case_id=case.pk, actor=agent, decision="reject", rationale="evidence supports merchant")
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.closure_reason) == (State.CLOSED, "ruled_for_merchant")


def test_revise_in_pending_restarts_clock(consumer, item):
    case = new_case(consumer, item)
    first = Deadline.objects.get(case=case)
    services.case_revise(case_id=case.pk, actor=consumer, description="more detail")
    first.refresh_from_db()
    assert first.cancelled_at is not None
    running = Deadline.objects.get(case=case, cancelled_at__isnull=True)
    assert running.name == "merchant_response" and running.pk != first.pk


@pytest.mark.parametrize("path", [[], ["reject"], ["approve"]])
def test_withdraw_from_each_allowed_state(consumer, merchant, item, path):
    case = new_case(consumer, item)
    for action in path:
        kwargs = {"reason": "no"} if action == "reject" else {}
        getattr(services, f"case_{action}")(case_id=case.pk, actor=merchant, **kwargs)
    services.case_withdraw(case_id=case.pk, actor=consumer)
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.closure_reason) == (State.CLOSED, "withdrawn")


@pytest.mark.parametrize("path", [["reject"], ["approve"]])
def test_expire_by_system(consumer, merchant, item, path):
    case = new_case(consumer, item)
    kwargs = {"reason": "no"} if path[0] == "reject" else {}
    getattr(services, f"case_{path[0]}")(case_id=case.pk, actor=merchant, **kwargs)
    services.case_expire(case_id=case.pk)
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.closure_reason) == (State.CLOSED, "expired")
    ev = last_event(case)
    assert ev.role == "system" and ev.actor is None


def test_refuse_receipt_after_fast_refund_keeps_payout_and_alerts_staff(consumer, merchant, agent, item):
    case = new_case(consumer, item)
    services.case_approve(case_id=case.pk, actor=merchant)
    commit(lambda: services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1"))
    refund = Refund.objects.get(case=case)
    assert refund.fast and refund.status == "succeeded"
    services.case_refuse_receipt(case_id=case.pk, actor=merchant, reason="empty box")
    assert state(case) == State.REJECTED
    assert Refund.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(user=agent, kind="fast_refund_refused").exists()


def test_fast_refund_not_paid_twice_on_confirm(consumer, merchant, item):
    case = new_case(consumer, item)
    services.case_approve(case_id=case.pk, actor=merchant)
    commit(lambda: services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1"))
    assert Refund.objects.get(case=case).status == "succeeded"
    commit(lambda: services.case_confirm_receipt(case_id=case.pk, actor=merchant))
    assert state(case) == State.REFUNDED
    # counted per case, not per key: a second payout under any key would show here
    assert paid_at_gateway(case.number) == [Refund.objects.get(case=case).amount]


def test_fast_refund_limit(consumer, merchant, shop):
    dear = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), paid="800.00", unit_price="800.00")
    case = new_case(consumer, dear)
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    assert not Refund.objects.filter(case=case).exists()


@pytest.mark.parametrize("kind,after", [("exchange", State.AWAITING_REPLACEMENT), ("repair", State.IN_REPAIR)])
def test_approve_refund_pays_claimable(consumer, merchant, item, kind, after):
    case = new_case(consumer, item, kind=kind, reason="quality_issue")
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    assert state(case) == after
    services.case_approve_refund(case_id=case.pk, actor=merchant)
    assert state(case) == State.REFUNDED
    assert Refund.objects.get(case=case).amount == Decimal("94.00")


@pytest.mark.parametrize("kind", ["exchange", "repair"])
def test_system_escalates_stalled_replacement_or_repair(consumer, merchant, item, kind):
    case = new_case(consumer, item, kind=kind, reason="quality_issue")
    services.case_approve(case_id=case.pk, actor=merchant)
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    with pytest.raises(CaseError) as info:
        services.case_escalate(case_id=case.pk, actor=consumer)
    assert info.value.code == "invalid_transition"
    services.case_escalate(case_id=case.pk, actor=None)
    assert state(case) == State.IN_ARBITRATION


def test_ruling_with_required_return_pays_ruled_amount_on_receipt(consumer, merchant, agent, item):
    case = new_case(consumer, item, kind="exchange", reason="quality_issue")
    services.case_intervene(case_id=case.pk, actor=agent)
    assert state(case) == State.IN_ARBITRATION
    services.case_rule(case_id=case.pk, actor=agent, decision="refund", amount="70.00", rationale="r",
                       require_return=True)
    assert state(case) == State.AWAITING_RETURN
    services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    assert state(case) == State.REFUNDED
    assert Refund.objects.get(case=case).amount == Decimal("70.00")


@pytest.mark.parametrize("steps", [[], ["reject"], ["approve"], ["approve", "ship"]])
def test_intervene_from_non_terminal(consumer, merchant, agent, item, steps):
    case = new_case(consumer, item)
    for step in steps:
        if step == "reject":
            services.case_reject(case_id=case.pk, actor=merchant, reason="x")
        elif step == "approve":
            services.case_approve(case_id=case.pk, actor=merchant)
        else:
            consumer.good_standing = False
            consumer.save()
            services.case_ship_return(case_id=case.pk, actor=consumer, carrier="SF", tracking_number="1")
    services.case_intervene(case_id=case.pk, actor=agent)
    assert state(case) == State.IN_ARBITRATION
    assert Deadline.objects.get(case=case, cancelled_at__isnull=True, fired_at__isnull=True).name == "evidence"


def test_terminal_states_refuse_everything(consumer, merchant, agent, item):
    case = new_case(consumer, item, kind="refund_only", amount="10.00")
    services.case_approve(case_id=case.pk, actor=merchant)
    for call in (lambda: services.case_intervene(case_id=case.pk, actor=agent),
                 lambda: services.case_withdraw(case_id=case.pk, actor=consumer),
                 lambda: services.case_reject(case_id=case.pk, actor=merchant, reason="x")):
        with pytest.raises(CaseError) as info:
            call()
        assert info.value.code == "invalid_transition" and info.value.status == 409


def test_points_and_coupon_restored(consumer, merchant, shop):
    from datetime import timedelta

    from django.utils import timezone

    order = f.OrderFactory(consumer=consumer, shop=shop, points_used=200, coupon_code="C-9",
                           coupon_value="10.00", coupon_valid_until=timezone.now() + timedelta(days=30))
    a = f.OrderItemFactory(order=order, paid="100.00", unit_price="100.00")
    b = f.OrderItemFactory(order=order, paid="300.00", unit_price="300.00")
    case = new_case(consumer, a, kind="refund_only", amount="100.00")
    services.case_approve(case_id=case.pk, actor=merchant)
    wallet = Wallet.objects.get(user=consumer)
    assert wallet.points == 50
    assert not wallet.entries.filter(coupon_code="C-9").exists()
    case = new_case(consumer, b, kind="refund_only", amount="300.00")
    services.case_approve(case_id=case.pk, actor=merchant)
    wallet.refresh_from_db()
    assert wallet.points == 200
    assert wallet.entries.filter(coupon_code="C-9").count() == 1


def test_compensation_credited_once(consumer, agent, item):
    case = new_case(consumer, item)
    services.case_intervene(case_id=case.pk, actor=agent)
    services.case_rule(case_id=case.pk, actor=agent, decision="reject", rationale="r", compensation_points=30)
    assert Wallet.objects.get(user=consumer).points == 30
    from cases.refunds import wallet_credit

    assert wallet_credit(user=consumer, key=f"compensation-{case.number}", points=30, reason="again") is False
    assert Wallet.objects.get(user=consumer).points == 30


def test_agent_without_permission_cannot_rule(consumer, item):
    user = f.UserFactory(username="helpdesk", role="staff", is_staff=True)
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name="agents")
    user.groups.add(group)
    group.permissions.clear()
    case = new_case(consumer, item)
    services.case_intervene(case_id=case.pk, actor=user)
    with pytest.raises(CaseError) as info:
        services.case_rule(case_id=case.pk, actor=user, decision="reject", rationale="r")
    assert info.value.status == 403


def test_events_are_append_only(consumer, item):
    case = new_case(consumer, item)
    event = CaseEvent.objects.get(case=case)
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_messages(consumer, merchant, agent, item, api):
    case = new_case(consumer, item)
    r = api(consumer).post(f"/api/v1/cases/{case.pk}/messages/", {"body": "hello"}, format="json")
    assert r.status_code == 201
    r = api(agent).post(f"/api/v1/cases/{case.pk}/messages/", {"body": "to both"}, format="json")
    assert r.status_code == 409  # staff talk to parties only once the platform intervenes
    r = api(agent).post(f"/api/v1/cases/{case.pk}/messages/", {"body": "note", "internal": True}, format="json")
    assert r.status_code == 201
    r = api(merchant).post(f"/api/v1/cases/{case.pk}/messages/", {"body": "x", "internal": True}, format="json")
    assert r.status_code == 403
    bodies = [m["body"] for m in api(consumer).get(f"/api/v1/cases/{case.pk}/messages/").json()["results"]]
    assert bodies == ["hello"]
    staff_view = [m["body"] for m in api(agent).get(f"/api/v1/cases/{case.pk}/messages/").json()["results"]]
    assert staff_view == ["hello", "note"]
    assert CaseEvent.objects.filter(case=case).count() == 1  # messages are not events


def test_database_refuses_event_changes_on_postgresql(consumer, item):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    case = new_case(consumer, item)
    from django.db.utils import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(case=case).delete()
    assert CaseEvent.objects.get(case=case).action == "submit"


def test_notification_emails_speak_both_languages(consumer, merchant, item, mailoutbox):
    commit(lambda: new_case(consumer, item))
    mail = next(m for m in mailoutbox if merchant.email in m.to)
    assert "待您处理" in mail.body and "AS" in mail.subject
    assert any(c.isascii() and c.isalpha() for c in mail.body.split("\n\n")[1])
