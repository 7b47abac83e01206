"""Authority matrix for writes: every write endpoint × every kind of user (issue 15).

For each write, a fresh world puts the case where the write makes sense for the party the contract
allows (lifecycle.md roles, api.md "who"), then every kind of user sends it in turn, each inside a
savepoint rolled back afterwards. The allowed ones must succeed and write; everyone else must be
refused (API: 401 anonymous, 404 who may not see the case, 403 who sees it but may not act) and write
nothing: events, refunds, messages, evidence, pickups, users, tokens, settings, the case's state and
assignee, and every password and group are compared before and after.

Roles come from `tests.invariants.contract.ACTION_ROLES`, written from lifecycle.md, never from the
code's own table: adding `consumer` to confirm_receipt's roles in cases/permissions.py fails this test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories as f
from tests.invariants.contract import ACTION_ROLES

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "consumer", "other_consumer", "merchant", "other_merchant", "agent", "supervisor", "superuser"]
STAFF = {"agent", "supervisor", "superuser"}
SEES_CASE = {"consumer", "merchant"} | STAFF
HUMAN = {"consumer": {"consumer"}, "merchant": {"merchant"}, "staff": STAFF, "system": set()}


def may(action: str) -> set[str]:
    """The kinds of user the contract lets take an action (the system is nobody's account)."""
    return set().union(*(HUMAN[role] for role in ACTION_ROLES[action]))


# --- the world ----------------------------------------------------------------------------------------------

@dataclass
class World:
    users: dict[str, Any]
    case: Any = None
    pickup: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", f.jpeg_bytes(), content_type="image/jpeg")


def build(kind: str = "return_refund", path: tuple[str, ...] = ()) -> World:
    """People of every kind, and one case of `kind` moved along `path` by the parties entitled to."""
    from cases import services

    consumer = f.ConsumerFactory(username="w-owner")
    merchant = f.MerchantFactory(username="w-merchant")
    shop = f.ShopFactory(code="w-shop", members=[merchant])
    other_merchant = f.MerchantFactory(username="w-merchant-b")
    f.ShopFactory(code="w-shop-b", members=[other_merchant])
    root = f.UserFactory(username="w-root", role="staff", is_staff=True, is_superuser=True)
    users = {"anonymous": None, "consumer": consumer, "other_consumer": f.ConsumerFactory(username="w-other"),
             "merchant": merchant, "other_merchant": other_merchant, "agent": f.make_staff("w-agent"),
             "supervisor": f.make_staff("w-super", supervisor=True), "superuser": root}
    # "in_transit": a refund_only / not_received case whose parcel is still on its way (docs/interception.md)
    in_transit = kind == "in_transit"
    order = (f.OrderFactory(consumer=consumer, shop=shop, signed_at=None, carrier="simulated", waybill="SF0000")
             if in_transit else f.OrderFactory(consumer=consumer, shop=shop))
    item = f.OrderItemFactory(order=order, quantity=2, paid="188.00",
                              product__on_site_service=kind == "repair")  # docs/visits.md
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only" if in_transit else kind,
                                reason="not_received" if in_transit else "quality_issue",
                                quantity=None if in_transit else 1, evidence_files=[_photo()])
    world = World(users=users, case=case)
    steps: dict[str, Callable[[], Any]] = {
        "approve": lambda: services.case_approve(case_id=case.pk, actor=merchant),
        "reject": lambda: services.case_reject(case_id=case.pk, actor=merchant, reason="不符"),
        "ship_return": lambda: services.case_ship_return(case_id=case.pk, actor=consumer, carrier="顺丰",
                                                         tracking_number="SF1"),
        "confirm_receipt": lambda: services.case_confirm_receipt(case_id=case.pk, actor=merchant),
        "ship_replacement": lambda: services.case_ship_replacement(case_id=case.pk, actor=merchant,
                                                                   carrier="顺丰", tracking_number="SF2"),
        "intervene": lambda: services.case_intervene(case_id=case.pk, actor=users["agent"]),
        "book_visit": lambda: services.case_book_visit(case_id=case.pk, actor=consumer, slot=_visit_slot(case)),
        # appeals (docs/appeals.md): the agent rules, the consumer appeals
        "rule": lambda: services.case_rule(case_id=case.pk, actor=users["agent"], decision="refund",
                                           rationale="依据", amount="50.00"),
        "appeal": lambda: services.case_appeal(case_id=case.pk, actor=consumer, statement="申诉"),
        "intercept": lambda: services.case_intercept(case_id=case.pk, actor=consumer),
    }
    for step in path:
        steps[step]()
    world.case.refresh_from_db()
    return world


def _visit_slot(case: Any) -> int:
    """The first open technician-visit slot for the case (docs/visits.md)."""
    from cases.models import AfterSalesCase
    from pickups.visits import visit_assess

    _courier()
    return visit_assess(case=AfterSalesCase.objects.get(pk=case.pk)).slots[0].pk


def book_pickup(world: World, *, failed: bool = False) -> None:
    from pickups.services import pickup_book, pickup_fail, slots_ensure
    from portal.models import Region

    case = world.case
    region = Region.resolve(case.order_item.order.address_region)
    slot = slots_ensure(courier=_courier(), region_code=region.city_code, now=timezone.now())[0]
    world.pickup = pickup_book(case_id=case.pk, actor=world.users["consumer"], slot_id=slot.pk)
    if failed:
        world.pickup = pickup_fail(pickup_id=world.pickup.pk, reason="no_show")
    world.extra["slot"] = slots_ensure(courier=_courier(), region_code=region.city_code, now=timezone.now())[1].pk


def _courier() -> Any:
    from pickups.models import Courier

    courier = Courier.objects.get(code="simulated")
    courier.base_url = "http://127.0.0.1:9/simulated-courier/"
    courier.save(update_fields=["base_url"])
    return courier


# --- what a write may change ----------------------------------------------------------------------------------

def fingerprint(world: World) -> str:
    """Everything a write could change, as one string (row counts, the case, accounts, settings)."""
    from cases.models import (
        AfterSalesCase,
        CaseEvent,
        CaseEvidence,
        CaseMessage,
        DeadlinePolicy,
        Holiday,
        PlatformSetting,
        Refund,
    )
    from cases.payments import SimulatedPayout
    from pickups.models import Pickup, PickupEvent, RepairVisit
    from portal.models import Order, Product, Shop, User, WalletEntry

    models = [AfterSalesCase, CaseEvent, CaseEvidence, CaseMessage, Refund, SimulatedPayout, Pickup, PickupEvent,
              RepairVisit, User, Shop, Product, Order, WalletEntry, Holiday, DeadlinePolicy, PlatformSetting]
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables))
        counts = cursor.fetchone()
    parts: list[Any] = [counts]
    parts.append(list(AfterSalesCase.objects.order_by("pk").values_list("pk", "state", "assignee_id", "amount",
                                                                      "refund_amount", "reason")))
    parts.append(list(Pickup.objects.order_by("pk").values_list("pk", "state", "slot_id")))
    parts.append(list(User.objects.order_by("pk").values_list("username", "password", "is_staff", "is_superuser",
                                                            "role", "is_active")))
    parts.append(sorted((u, g) for u, g in User.groups.through.objects.values_list("user_id", "group_id")))
    parts.append(list(PlatformSetting.objects.values_list("fast_refund_limit")))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# --- sending ------------------------------------------------------------------------------------------------

@dataclass
class Write:
    name: str
    allowed: set[str]
    send: Callable[[World, Any], Any]      # (world, client) → response
    kind: str = "return_refund"
    path: tuple[str, ...] = ()
    pickup: str = ""                       # "booked" or "failed"
    api: bool = True
    ok: tuple[int, ...] = (200, 201)
    # statuses a refused user may get when not the API's 401/404/403 (web pages redirect or re-render)
    refused: tuple[int, ...] = ()


def api_post(url: str, data: Any = None, fmt: str = "json") -> Callable[[World, Any], Any]:
    def send(world: World, client: Any) -> Any:
        body = data(world) if callable(data) else (data or {})
        return client.post(url.format(case=world.case.pk, pickup=getattr(world.pickup, "pk", 0)), body, format=fmt)

    return send


def web_post(url: str, data: Any = None) -> Callable[[World, Any], Any]:
    def send(world: World, client: Any) -> Any:
        body = data(world) if callable(data) else (data or {})
        return client.post(url.format(case=world.case.pk, pickup=getattr(world.pickup, "pk", 0)), body)

    return send


ACTION_SETUP: dict[str, tuple[str, tuple[str, ...]]] = {
    "approve": ("return_refund", ()), "reject": ("return_refund", ()), "revise": ("return_refund", ()),
    "withdraw": ("return_refund", ()), "escalate": ("return_refund", ("reject",)),
    "ship_return": ("return_refund", ("approve",)),
    "confirm_receipt": ("return_refund", ("approve", "ship_return")),
    "refuse_receipt": ("return_refund", ("approve", "ship_return")),
    "ship_replacement": ("exchange", ("approve", "ship_return", "confirm_receipt")),
    "approve_refund": ("exchange", ("approve", "ship_return", "confirm_receipt")),
    "ship_repaired": ("repair", ("approve", "ship_return", "confirm_receipt")),
    "confirm_completion": ("exchange", ("approve", "ship_return", "confirm_receipt", "ship_replacement")),
    "intervene": ("return_refund", ()), "close_evidence": ("return_refund", ("intervene",)),
    "rule": ("return_refund", ("intervene",)), "expire": ("return_refund", ("reject",)),
    # on-site repair visits (docs/visits.md): the outcomes are the system's alone (the provider's webhook)
    "book_visit": ("repair", ("approve",)), "cancel_visit": ("repair", ("approve", "book_visit")),
    "visit_repaired": ("repair", ("approve", "book_visit")),
    "visit_needs_workshop": ("repair", ("approve", "book_visit")),
    "visit_not_repairable": ("repair", ("approve", "book_visit")),
    # appeals and interception (lifecycle.md "Added 2026-12-02")
    "appeal": ("return_refund", ("intervene", "rule")),
    "answer_appeal": ("return_refund", ("intervene", "rule", "appeal")),
    "decide_appeal": ("return_refund", ("intervene", "rule", "appeal")),
    "intercept": ("in_transit", ()), "intercept_failed": ("in_transit", ("intercept",)),
}
# Who may, where the contract narrows an action's roles by the case: only the party who did not appeal answers;
# only a supervisor other than the staff member who ruled (here the agent) decides.
ALLOWED: dict[str, set[str]] = {"answer_appeal": {"merchant"}, "decide_appeal": {"supervisor", "superuser"}}
ACTION_FIELDS: dict[str, dict[str, Any]] = {
    "reject": {"reason": "不符"}, "refuse_receipt": {"reason": "不符"}, "revise": {"description": "补充"},
    "escalate": {"statement": "请平台介入"}, "ship_return": {"carrier": "顺丰", "tracking_number": "SF9"},
    "ship_replacement": {"carrier": "顺丰", "tracking_number": "SF9"},
    "ship_repaired": {"carrier": "顺丰", "tracking_number": "SF9"},
    "rule": {"decision": "refund", "rationale": "依据", "amount": "50.00", "compensation_points": 10},
    "intervene": {"note": "介入"},
    "appeal": {"statement": "申诉"}, "answer_appeal": {"statement": "答复"},
    "decide_appeal": {"outcome": "uphold", "rationale": "维持原裁决"},
}

ACTION_FIELDS["book_visit"] = lambda w: {"slot": _visit_slot(w.case)}  # type: ignore[assignment]

WRITES: list[Write] = [
    Write(f"api action {action}", ALLOWED.get(action, may(action)),
          api_post(f"/api/v1/cases/{{case}}/actions/{action}/", ACTION_FIELDS.get(action, {})),
          kind=ACTION_SETUP[action][0], path=ACTION_SETUP[action][1])
    for action in ACTION_SETUP
]
WRITES += [
    Write("api evidence", {"consumer", "merchant"}, api_post(
        "/api/v1/cases/{case}/evidence/", lambda w: {"files": [_photo()], "note": "补充"}, fmt="multipart"), ok=(201,)),
    Write("api message", {"consumer", "merchant"} | STAFF,
          api_post("/api/v1/cases/{case}/messages/", {"body": "你好"}), path=("intervene",), ok=(201,)),
    Write("api internal note", STAFF, api_post("/api/v1/cases/{case}/messages/", {"body": "内部", "internal": True}),
          ok=(201,)),
    Write("api pickup book", {"consumer"}, api_post("/api/v1/cases/{case}/pickup/", lambda w: {"slot": w.extra["slot"]}),
          path=("approve",), pickup="slot", ok=(201,)),
    Write("api pickup cancel", {"consumer"}, api_post("/api/v1/pickups/{pickup}/cancel/"), path=("approve",),
          pickup="booked"),
    Write("api pickup reschedule", {"consumer"},
          api_post("/api/v1/pickups/{pickup}/reschedule/", lambda w: {"slot": w.extra["slot"]}),
          path=("approve",), pickup="failed"),
    # api.md: the import is for supervisors only (a superuser is a supervisor)
    Write("api import a consumer", {"supervisor", "superuser"}, api_post("/api/v1/marketplace/import/", {
        "users": [{"username": "w-newbie", "password": "pass-1234", "role": "consumer"}]})),
    # … and never creates, changes or promotes a staff or superuser account, whoever sends it
    Write("api import touching the superuser", set(), api_post("/api/v1/marketplace/import/", {
        "users": [{"username": "w-root", "password": "owned-1234", "role": "staff", "supervisor": True},
                  {"username": "w-agent", "password": "owned-1234", "role": "staff", "supervisor": True}]})),
    Write("api import creating staff", set(), api_post("/api/v1/marketplace/import/", {
        "users": [{"username": "w-mole", "password": "pass-1234", "role": "staff", "supervisor": True}]})),
    Write("api token with another's name and a wrong password", set(), api_post(
        "/api/v1/auth/token/", {"username": "w-root", "password": "guess"})),
]
CONSUMER_WEB = {"withdraw": {}, "revise": {"description": "补充"}, "escalate": {"statement": "请平台介入"},
                "ship_return": {"carrier": "顺丰", "tracking_number": "SF9"}, "confirm_completion": {}}
WRITES += [
    Write(f"web consumer {action}", {"consumer"}, web_post(f"/cases/{{case}}/actions/{action}/", data),
          kind=ACTION_SETUP[action][0], path=ACTION_SETUP[action][1], api=False, ok=(302,))
    for action, data in CONSUMER_WEB.items()
]
MERCHANT_WEB = {"approve": {}, "reject": {"reject-reason_code": "other", "reject-reason": "不符"},
                "confirm_receipt": {}, "refuse_receipt": {"refuse-reason_code": "other", "refuse-reason": "不符"},
                "ship_replacement": {"carrier": "顺丰", "tracking_number": "SF9"},
                "ship_repaired": {"carrier": "顺丰", "tracking_number": "SF9"}, "approve_refund": {}}
WRITES += [
    Write(f"web merchant {action}", {"merchant"}, web_post(f"/merchant/cases/{{case}}/actions/{action}/", data),
          kind=ACTION_SETUP[action][0], path=ACTION_SETUP[action][1], api=False, ok=(302,))
    for action, data in MERCHANT_WEB.items()
]
WRITES += [
    Write("web merchant bulk approve", {"merchant"}, web_post(
        "/merchant/bulk/", lambda w: {"action": "approve", "ids": [w.case.pk], "confirm": "1"}), api=False,
        ok=(200, 302)),
    # the case page's forms serve both parties (api.md: evidence and messages are the consumer's and the merchant's)
    Write("web case page message", {"consumer", "merchant"}, web_post("/cases/{case}/messages/", {"body": "你好"}),
          api=False, ok=(302,)),
    Write("web merchant message", {"merchant"}, web_post("/merchant/cases/{case}/messages/", {"body": "你好"}),
          api=False, ok=(302,)),
    Write("web case page evidence", {"consumer", "merchant"},
          web_post("/cases/{case}/evidence/", lambda w: {"files": [_photo()]}), api=False, ok=(302,)),
    Write("web merchant evidence", {"merchant"},
          web_post("/merchant/cases/{case}/evidence/", lambda w: {"files": [_photo()]}), api=False, ok=(302,)),
    Write("web pickup book", {"consumer"}, web_post("/cases/{case}/pickup/", lambda w: {"slot": w.extra["slot"]}),
          path=("approve",), pickup="slot", api=False, ok=(302,)),
    Write("web pickup cancel", {"consumer"}, web_post("/cases/{case}/pickup/{pickup}/cancel/"), path=("approve",),
          pickup="booked", api=False, ok=(302,)),
    Write("web pickup reschedule", {"consumer"}, web_post("/cases/{case}/pickup/{pickup}/reschedule/",
                                                          lambda w: {"slot": w.extra["slot"]}),
          path=("approve",), pickup="failed", api=False, ok=(302,)),
]
ADMIN = "/admin/cases/aftersalescase/{case}/"
WRITES += [
    Write("admin intervene", STAFF, web_post(ADMIN + "intervene/", {"note": "介入"}), api=False, ok=(302,)),
    Write("admin close_evidence", STAFF, web_post(ADMIN + "close-evidence/"), path=("intervene",), api=False,
          ok=(302,)),
    Write("admin rule", STAFF, web_post(ADMIN + "rule/", {"decision": "refund", "amount": "50.00", "rationale": "依据"}),
          path=("intervene",), api=False, ok=(302,)),
    Write("admin internal note", STAFF, web_post(ADMIN + "message/", {"body": "内部", "internal": "on"}), api=False,
          ok=(302,)),
    Write("admin assign to self", STAFF, web_post(ADMIN + "assign/", {"to": "me"}), api=False, ok=(302,)),
    # lifecycle.md: reassigning is for supervisors (the case is the agent's after its intervention)
    Write("admin reassign to another", {"supervisor", "superuser"},
          web_post(ADMIN + "assign/", lambda w: {"assignee": w.users["supervisor"].pk}), path=("intervene",),
          api=False, ok=(302,)),
    Write("admin settings: fast refund limit", {"supervisor", "superuser"}, web_post(
        "/admin/cases/platformsetting/add/", {"fast_refund_limit": "100.00"}), api=False, ok=(302,)),
    Write("admin settings: holiday", {"supervisor", "superuser"}, web_post(
        "/admin/cases/holiday/add/", {"name": "国庆", "start_date": "2026-12-20", "end_date": "2026-12-22"}),
        api=False, ok=(302,)),
    Write("admin settings: deadline policy", {"supervisor", "superuser"}, web_post(
        "/admin/cases/deadlinepolicy/add/", {"name": "consumer_ship", "variant": "", "hours": "100",
                                             "effective_from_0": "2027-01-01", "effective_from_1": "00:00:00"}),
        api=False, ok=(302,)),
]


def client_for(user: Any, *, api: bool) -> Any:
    if api:
        from portal.models import ApiToken

        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(user)}")
        return client
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def expected_refusal(role: str, write: Write) -> set[int]:
    if not write.api:
        return {302, 400, 403, 404, 405, 409, *write.refused}
    if role == "anonymous":
        return {401}
    if write.name.startswith("api import") or write.name.startswith("api token"):
        return {400, 401, 403}
    return {404} if role not in SEES_CASE else {403}


def setup_of(write: Write) -> str:
    """Writes that need the same world share one (built once, each write × user in its own savepoint)."""
    if write.name.startswith("api import"):
        return "import"
    return "-".join([write.kind, *write.path, write.pickup or "no pickup"])


SETUPS = sorted({setup_of(w) for w in WRITES})


@pytest.mark.parametrize("setup", SETUPS)
def test_who_may_write(setup: str) -> None:
    writes = [w for w in WRITES if setup_of(w) == setup]
    first = writes[0]
    world = build(first.kind, first.path)
    if first.pickup:
        book_pickup(world, failed=first.pickup == "failed")
        if first.pickup == "slot":  # only the slot was needed: the booking is what is tested
            from pickups.services import pickup_cancel

            pickup_cancel(pickup_id=world.pickup.pk, actor=world.users["consumer"])
    clients = {(role, api): client_for(world.users[role], api=api) for role in ROLES for api in (True, False)}
    failures = []
    for write in writes:
        for role in ROLES:
            failures += check_one(world, write, role, clients[role, write.api])
    assert not failures, "\n".join(failures)


def check_one(world: World, write: Write, role: str, client: Any) -> list[str]:
    """One user sends one write, in a savepoint rolled back afterwards; what was wrong, if anything."""
    failures = []
    client.cookies.pop("messages", None)  # a shared client: only this request's messages count
    with transaction.atomic():
        before = fingerprint(world)
        response = write.send(world, client)
        after = fingerprint(world)
        status = response.status_code
        body = getattr(response, "content", b"")[:300].decode("utf-8", "replace")
        if role in write.allowed:
            if status not in write.ok or after == before:
                failures.append(f"{write.name}: {role} may, but got {status} (wrote: {after != before}) {body}")
            elif not write.api and _error_message(response):
                failures.append(f"{write.name}: {role} may, but was told {_error_message(response)}")
        else:
            if after != before:
                failures.append(f"{write.name}: {role} may not, but it wrote ({status}) {body}")
            if status not in expected_refusal(role, write):
                failures.append(f"{write.name}: {role} may not; answered {status}, "
                                f"want one of {sorted(expected_refusal(role, write))} {body}")
        transaction.set_rollback(True)
    return failures


def _error_message(response: Any) -> str:
    """The error a web form redirected with (messages framework), if any."""
    from django.contrib.messages import constants

    storage = getattr(response, "wsgi_request", None)
    if storage is None:
        return ""
    from django.contrib.messages import get_messages

    return "; ".join(str(m) for m in get_messages(response.wsgi_request) if m.level >= constants.ERROR)


def test_the_matrix_covers_every_action_of_the_contract() -> None:
    """Every action of lifecycle.md is in the matrix, through the API, with the contract's roles."""
    named = {w.name.removeprefix("api action ") for w in WRITES if w.name.startswith("api action ")}
    assert named == set(ACTION_ROLES) - {"submit"}
    assert "consumer" not in may("confirm_receipt") and "consumer" not in may("approve_refund")
    assert "consumer" not in may("refuse_receipt") and "merchant" not in may("ship_return")


def test_a_token_for_oneself_is_anyones() -> None:
    """The token endpoint is a login: every kind of account gets its own token, and only its own."""
    world = build()
    for role in ROLES[1:]:
        user = world.users[role]
        response = APIClient().post("/api/v1/auth/token/", {"username": user.username, "password": "pass1234"},
                                    format="json")
        assert response.status_code == 200, (role, response.content)
        assert json.loads(response.content)["token"]
