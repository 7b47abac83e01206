"""Typed events and typed inputs, read from the lifecycle table (cases/lifecycle.py): every action has the
payload type of its event (`cases.events.MOVES`) and the TypedDict of its input (`cases.services.inputs.INPUTS`)
with exactly the table's fields, its service takes them, and what the services write matches the types."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import get_type_hints

import pytest
from django.utils import timezone

from cases import events, lifecycle, services
from cases.choices import Action
from cases.models import CaseEvent
from cases.services.dispatch import SERVICES
from cases.services.inputs import INPUTS, KIND_TYPES
from cases.sweep import deadlines_sweep
from tests import factories as f
from tests.cases.test_lifecycle_table import _case_at


@pytest.mark.parametrize("action", sorted(lifecycle.ACTIONS))
def test_every_action_has_its_event_type_and_its_input_type(action: str) -> None:
    assert action in events.MOVES, f"{action}: no payload type in cases.events.MOVES"
    assert action in INPUTS, f"{action}: no TypedDict in cases.services.inputs.INPUTS"
    fields = {field.name: field for field in lifecycle.ACTIONS[action].fields}
    declared = get_type_hints(INPUTS[action])
    assert set(declared) == set(fields), action
    for name, field in fields.items():
        assert declared[name] == KIND_TYPES[field.kind], (action, name)


@pytest.mark.parametrize("action", sorted(lifecycle.ACTIONS))
def test_every_service_takes_its_actions_typed_inputs(action: str) -> None:
    service = SERVICES[action]
    parameters = inspect.signature(service).parameters
    hints = get_type_hints(service)
    for name, expected in get_type_hints(INPUTS[action]).items():
        assert name in parameters, (action, name)
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, (action, name)
        assert hints[name] == expected, (action, name)
    untyped = [name for name, hint in hints.items() if hint is object or str(hint) == "typing.Any"]
    assert untyped == [], (action, untyped)


def test_the_kinds_are_the_moves_the_submission_and_the_other_records() -> None:
    assert set(events.KINDS) == set(events.MOVES) | {Action.SUBMIT, *events.NON_MOVE_KINDS}
    assert set(events.MOVES) == set(lifecycle.ACTIONS)


def test_a_payload_off_its_type_is_found() -> None:
    good = {"decision": "refund", "rationale": "r", "amount": "10.00", "require_return": False,
            "compensation_points": 5}
    assert events.payload_problems("rule", good) == []
    assert events.payload_problems("rule", {**good, "amount": 10}) == ["rule: amount=10 is not <class 'str'>"]
    assert events.payload_problems("rule", {**good, "compensation_points": True})
    assert events.payload_problems("rule", {**good, "surprise": 1}) == ["rule: unexpected field 'surprise'"]
    assert events.payload_problems("reject", {}) == ["reject: missing field 'reason'"]
    assert events.payload_problems("rate", {"stars": 4, "tags": ["fast", 3], "pickup_stars": None})
    assert events.payload_problems("no_such_kind", {}) == ["unknown event kind 'no_such_kind'"]


def _act(action: str, case_id: int, actor, **data):  # type: ignore[no-untyped-def]
    return services.case_act(action=action, case_id=case_id, actor=actor, data=data)


@pytest.mark.django_db
def test_the_events_the_services_write_match_their_types(consumer, merchant, agent) -> None:
    shop = f.ShopFactory(code="evtx", members=[merchant])
    # every clock with an expiry action, fired by the sweep (a batch), after the parties' moves that lead there
    for spec in lifecycle.DEADLINES.values():
        if spec.on_expiry:
            _case_at(spec.name, consumer, merchant, agent, shop)
    # the parties' and staff's own moves
    revised = _case_at("consumer_revise", consumer, merchant, agent, shop)
    _act("revise", revised.pk, consumer, amount="40.00", description="再看看", condition_intact=True)
    withdrawn = _case_at("merchant_response", consumer, merchant, agent, shop)
    _act("withdraw", withdrawn.pk, consumer)
    refused = _case_at("merchant_receive", consumer, merchant, agent, shop)
    _act("refuse_receipt", refused.pk, merchant, reason="包装破损", reason_code="damaged")
    exchange = _case_at("merchant_ship_replacement", consumer, merchant, agent, shop)
    _act("approve_refund", exchange.pk, merchant)
    repaired = _case_at("merchant_repair", consumer, merchant, agent, shop)
    _act("ship_repaired", repaired.pk, merchant, carrier="SF", tracking_number="SF3")
    _act("confirm_completion", repaired.pk, consumer)
    ruled = _case_at("consumer_revise", consumer, merchant, agent, shop)
    _act("intervene", ruled.pk, agent, note="平台介入")
    _act("close_evidence", ruled.pk, agent)
    _act("rule", ruled.pk, agent, decision="refund", rationale="商品有瑕疵", amount="50.00", require_return="false",
         compensation_points="5")
    deadlines_sweep(now=timezone.now() + timedelta(days=40))

    written = list(CaseEvent.objects.values_list("action", "payload"))
    problems = [p for kind, payload in written for p in events.payload_problems(kind, payload)]
    assert problems == []
    kinds = {kind for kind, _payload in written}
    assert {"submit", "approve", "reject", "revise", "withdraw", "escalate", "ship_return", "confirm_receipt",
            "refuse_receipt", "ship_replacement", "ship_repaired", "approve_refund", "confirm_completion",
            "intervene", "close_evidence", "rule", "expire", "intercept", "intercept_failed"} <= kinds
    # the system's expiry moves carry the table's expiry payloads
    assert CaseEvent.objects.filter(action="approve", role="system", payload__auto=True).exists()
    assert CaseEvent.objects.filter(action="intercept_failed", payload__expired=True).exists()
