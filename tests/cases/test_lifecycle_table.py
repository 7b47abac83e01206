"""The lifecycle table (cases/lifecycle.py) is the one source: the model's django-fsm transitions, the
permissions, the sweep and the chart agree with it; one case or a batch, a deadline does the same thing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import lifecycle, services
from cases.choices import ActorRole, State
from cases.models import AfterSalesCase, CaseEvent, Deadline, Notification, Refund
from cases.permissions import ACTION_ROLES, available_actions
from cases.sweep import deadlines_sweep
from tests import factories as f


def fsm_arrows() -> set[tuple[str, str, str]]:
    field = AfterSalesCase._meta.get_field("state")
    edges = set()
    for t in field.get_all_transitions(AfterSalesCase):
        for target in getattr(t.target, "allowed_states", None) or [t.target]:
            edges.add((str(t.source), str(target), t.name))
    return edges


def test_the_models_transitions_are_the_tables_arrows() -> None:
    table = {(s, t, n) for s, t, n, _roles in lifecycle.arrows()}
    assert fsm_arrows() == table


def test_every_clock_guards_a_state_its_expiry_action_may_leave_as_the_system() -> None:
    for spec in lifecycle.DEADLINES.values():
        assert lifecycle.DEADLINE_FOR_STATE[spec.state] == spec.name
        if spec.on_expiry is not None:
            assert lifecycle.may_take(ActorRole.SYSTEM, spec.on_expiry, spec.state), spec.name
    assert set(lifecycle.DEADLINE_FOR_STATE) == set(lifecycle.NON_TERMINAL)
    assert set(lifecycle.NEXT_PARTY) == set(State.values)


def test_the_consumer_escalates_only_where_the_contract_says() -> None:
    escalate = lifecycle.ACTIONS["escalate"]
    assert escalate.sources_for("consumer") == {State.REJECTED, State.REPLACEMENT_IN_TRANSIT}
    assert escalate.sources_for("system") == {State.AWAITING_REPLACEMENT, State.IN_REPAIR}
    assert escalate.sources_for("merchant") == frozenset()


@pytest.mark.django_db
def test_what_a_user_may_do_now_is_the_tables_answer(consumer, merchant, agent, item) -> None:
    for state in State.values:
        probe = AfterSalesCase(state=state, consumer=consumer, shop=item.order.shop)
        for user, role in ((consumer, "consumer"), (merchant, "merchant"), (agent, "staff")):
            expected = [a for a in lifecycle.PERSON_ACTIONS if lifecycle.may_take(role, a, state)]
            got = available_actions(user, probe)
            # a conditional action (appeal window, interceptable order) is offered only where the table allows it
            assert [a for a in got if not lifecycle.ACTIONS[a].conditional] == [
                a for a in expected if not lifecycle.ACTIONS[a].conditional], (state, role)
            assert set(got) <= set(expected), (state, role)
    assert all(spec.roles == ACTION_ROLES[name] for name, spec in lifecycle.ACTIONS.items())


# --- parity: one deadline at a time (the services) and a batch (the bulk sweep) write the same things --------

def _case_at(deadline_name: str, consumer, merchant, agent, shop):  # type: ignore[no-untyped-def]
    """A fresh case whose running clock is `deadline_name`."""
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=2, unit_price="50.00",
                              paid="100.00")
    kind = {"merchant_ship_replacement": "exchange", "merchant_repair": "repair",
            "consumer_confirm": "exchange", "technician_visit": "repair"}.get(deadline_name, "return_refund")
    reason = "quality_issue" if kind == "repair" else "other"
    if deadline_name == "merchant_response" and shop.code.endswith("r"):
        kind = "refund_only"
    if deadline_name == "interception":
        kind, reason = "refund_only", "not_received"
        order = item.order
        order.signed_at, order.carrier, order.waybill = None, "simulated", f"SIM{item.pk:011d}"
        order.save()
    photos = [SimpleUploadedFile("p.jpg", f.jpeg_bytes())] if reason == "quality_issue" else None
    if kind == "repair":
        item.product.warranty_days = 365
        item.product.on_site_service = deadline_name == "technician_visit"
        item.product.save()
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason, quantity=1,
                                evidence_files=photos)
    steps = {
        "merchant_response": [],
        "consumer_revise": [("reject", merchant, {"reason": "不同意"})],
        "consumer_ship": [("approve", merchant, {})],
        "merchant_receive": [("approve", merchant, {}),
                             ("ship_return", consumer, {"carrier": "SF", "tracking_number": "SF1"})],
        "merchant_ship_replacement": [("approve", merchant, {}),
                                      ("ship_return", consumer, {"carrier": "SF", "tracking_number": "SF1"}),
                                      ("confirm_receipt", merchant, {})],
        "merchant_repair": [("approve", merchant, {}),
                            ("ship_return", consumer, {"carrier": "SF", "tracking_number": "SF1"}),
                            ("confirm_receipt", merchant, {})],
        "consumer_confirm": [("approve", merchant, {}),
                             ("ship_return", consumer, {"carrier": "SF", "tracking_number": "SF1"}),
                             ("confirm_receipt", merchant, {}),
                             ("ship_replacement", merchant, {"carrier": "SF", "tracking_number": "SF2"})],
        "evidence": [("reject", merchant, {"reason": "不同意"}), ("escalate", consumer, {"statement": "请介入"})],
        "interception": [("intercept", consumer, {})],
        "technician_visit": [("approve", merchant, {})],
    }[deadline_name]
    for action, actor, data in steps:
        services.case_act(action=action, case_id=case.pk, actor=actor, data=data)
    if deadline_name == "technician_visit":  # docs/visits.md: a technician instead of the return parcel
        from pickups.visits import visit_assess

        slot = visit_assess(case=AfterSalesCase.objects.get(pk=case.pk)).slots[0]
        services.case_act(action="book_visit", case_id=case.pk, actor=consumer, data={"slot": slot.pk})
    assert Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True).name == deadline_name
    return case


def _outcome(case: AfterSalesCase) -> dict:
    fresh = AfterSalesCase.objects.get(pk=case.pk)
    refund = Refund.objects.filter(case=case).first()
    return {
        "state": fresh.state, "closure": fresh.closure_reason, "refund_amount": fresh.refund_amount,
        "closed": fresh.closed_at is not None, "auto": fresh.auto_approved, "escalated": fresh.escalated,
        "clock": list(Deadline.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True)
                      .values_list("name", "state")),
        "deadline_name": fresh.deadline_name,
        "last_event": CaseEvent.objects.filter(case=case).order_by("-id").values_list(
            "action", "role", "from_state", "to_state", "payload").first(),
        "refund": None if refund is None else (refund.amount, refund.status, list(
            refund.payouts.values_list("amount", flat=True))),
        "told": sorted(Notification.objects.filter(case=case).values_list("user__username", "kind")),
    }


# every clock with an expiry action, and merchant_response once more on a refund-only case (money moves)
PARITY = [(d.name, False) for d in lifecycle.DEADLINES.values() if d.on_expiry] + [("merchant_response", True)]


@pytest.mark.django_db
@pytest.mark.parametrize(("deadline_name", "refund_only"), PARITY)
def test_a_deadline_fired_alone_or_in_a_batch_writes_the_same(deadline_name, refund_only, consumer, merchant,
                                                               agent) -> None:
    shop = f.ShopFactory(code="par" + ("r" if refund_only else "x"), members=[merchant])
    alone = _case_at(deadline_name, consumer, merchant, agent, shop)
    batch = [_case_at(deadline_name, consumer, merchant, agent, shop) for _ in range(3)]
    later = timezone.now() + timedelta(days=40)
    clock = Deadline.objects.get(case=alone, fired_at__isnull=True, cancelled_at__isnull=True)
    spec = lifecycle.DEADLINES[deadline_name]
    # one case through its action's service, as the system (what a person's action takes too)
    services.case_act(action=spec.on_expiry, case_id=alone.pk, actor=None, data={}, now=later,
                      expected_state=clock.state)
    Deadline.objects.filter(pk=clock.pk).update(fired_at=later, cancelled_at=None)
    assert deadlines_sweep(now=later) >= 3  # the batch path
    expected = _outcome(alone)
    for case in batch:
        got = _outcome(case)
        assert got == expected, deadline_name
    if expected["refund"] is not None:
        assert expected["refund"][0] > Decimal("0")
