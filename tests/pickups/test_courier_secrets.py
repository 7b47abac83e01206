"""Courier secrets and the webhook's edges (lifecycle.md, pickups; issue #15 item 2): the simulated courier's
secret is random per installation, never a constant in the code; production refuses empty or known-default
secrets; an unknown courier answers like a bad signature; a long event id is never cut."""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import re
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from pickups import services
from pickups.courier_secrets import SHIPPED_DEFAULT_DIGEST, is_weak, new_secret
from pickups.models import Courier, CourierEvent, Pickup
from pickups.signing import signed_headers
from tests.pickups.helpers import signed_post

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
HEX64 = re.compile(r"[0-9a-f]{64}")
WEAK = ["", "   ", "changeme", "secret"]


def _migration(name: str) -> Any:
    return importlib.import_module(f"pickups.migrations.{name}")


@pytest.fixture
def dispatched(case: Any, consumer: Any) -> Pickup:
    slot = services.pickup_assess(case=case).slots[0]
    pickup = services.pickup_book(case_id=case.pk, actor=consumer, slot_id=slot.pk)
    return services.pickup_record_dispatch(pickup_id=pickup.pk, idempotency_key=pickup.idempotency_key,
                                           waybill="SIM000000000001", source="system")


def event(event_id: str = "e1", status: str = "picked_up", waybill: str = "SIM000000000001") -> dict[str, str]:
    return {"event_id": event_id, "waybill": waybill, "status": status, "at": "2026-11-23T10:00:00+08:00"}


# --- random per installation ---------------------------------------------------------------------------

def test_migrate_gives_the_simulated_courier_a_random_secret_per_installation():
    made = Courier.objects.get(code="simulated").secret
    assert HEX64.fullmatch(made) and not is_weak(made)
    seen = {made}
    for _ in range(2):  # two more fresh installations: the migration that creates the courier, run again
        Courier.objects.filter(code="simulated").delete()
        _migration("0002_simulated_courier").create_simulated(django_apps, None)
        secret = Courier.objects.get(code="simulated").secret
        assert HEX64.fullmatch(secret) and secret not in seen
        seen.add(secret)


@pytest.mark.parametrize("old", WEAK)
def test_migrate_replaces_an_existing_installations_empty_or_default_secret(old):
    Courier.objects.filter(code="simulated").update(secret=old)
    _migration("0003_courier_secrets_and_event_ids").randomise_default_secret(django_apps, None)
    secret = Courier.objects.get(code="simulated").secret
    assert HEX64.fullmatch(secret) and not is_weak(secret)


def test_migrate_keeps_a_secret_the_operator_chose():
    chosen = new_secret()
    Courier.objects.filter(code="simulated").update(secret=chosen)
    _migration("0003_courier_secrets_and_event_ids").randomise_default_secret(django_apps, None)
    assert Courier.objects.get(code="simulated").secret == chosen


def test_no_string_in_the_code_is_the_secret_once_shipped_or_todays():
    """grep, by meaning: no Python string literal anywhere in the project is the constant the simulated
    courier's secret used to be, nor this installation's secret."""
    today = Courier.objects.get(code="simulated").secret
    found = []
    for path in ROOT.glob("**/*.py"):
        if any(part in (".venv", "var", "node_modules") for part in path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    node.value == today or hashlib.sha256(node.value.encode()).hexdigest() == SHIPPED_DEFAULT_DIGEST):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
    assert not hasattr(importlib.import_module("pickups.conf"), "simulated_secret")


def test_the_simulator_reads_its_secret_from_the_courier_row(client, courier):
    """Rotate the row's secret: the simulator's signed API follows it, and refuses the old one."""
    old = courier.secret
    courier.secret = new_secret()
    courier.save(update_fields=["secret"])
    for secret, expected in ((courier.secret, 200), (old, 401)):
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(secret, b"").items()
                   if k != "Content-Type"}
        assert client.get("/simulated-courier/control/", **headers).status_code == expected


# --- production refuses weak secrets ------------------------------------------------------------------

@pytest.mark.parametrize("weak", WEAK)
def test_deploy_check_refuses_an_empty_or_default_courier_secret(courier, weak):
    Courier.objects.filter(pk=courier.pk).update(secret=weak)
    with pytest.raises(SystemCheckError, match=r"pickups\.E001.*simulated"):
        call_command("check", "--deploy", stdout=StringIO(), stderr=StringIO())


def test_deploy_check_passes_with_random_secrets(courier):
    """Only the courier-secret check is asked (other deploy checks depend on the test process's environment,
    e.g. DJANGO_ALLOW_ASYNC_UNSAFE set by the browser tests)."""
    from django.core import checks

    issues = checks.run_checks(include_deployment_checks=True)
    assert not [i for i in issues if i.id == "pickups.E001"]
    Courier.objects.filter(pk=courier.pk).update(secret="")
    assert [i.id for i in checks.run_checks(include_deployment_checks=True) if i.id == "pickups.E001"]


def test_production_refuses_to_start_while_a_courier_secret_is_weak(settings, courier, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", new_secret())
    monkeypatch.delenv("COURIER_SECRETS_REQUIRED", raising=False)
    production = importlib.import_module("portal.settings.production")
    assert production.COURIER_SECRETS_REQUIRED is True
    settings.COURIER_SECRETS_REQUIRED = True
    Courier.objects.filter(pk=courier.pk).update(secret="")

    def start() -> Any:  # what gunicorn and runserver do first: load the WSGI module
        monkeypatch.delitem(sys.modules, "portal.wsgi", raising=False)
        return importlib.import_module("portal.wsgi")

    with pytest.raises(ImproperlyConfigured, match="simulated"):
        start()
    Courier.objects.filter(pk=courier.pk).update(secret=new_secret())
    assert start().application is not None


def test_admin_refuses_a_known_default_secret(client, courier):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-1")
    client.force_login(root)
    page = client.get(f"/admin/pickups/courier/{courier.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update({"new_secret": "changeme", "courierregionrule_set-TOTAL_FORMS": "0",
                 "courierregionrule_set-INITIAL_FORMS": "0"})
    before = Courier.objects.get(pk=courier.pk).secret
    response = client.post(f"/admin/pickups/courier/{courier.pk}/change/", data)
    assert response.status_code == 200 and "new_secret" in response.context["adminform"].form.errors
    assert Courier.objects.get(pk=courier.pk).secret == before


# --- the webhook ----------------------------------------------------------------------------------------

def test_unknown_courier_answers_exactly_like_a_bad_signature(client, courier, dispatched):
    unknown = signed_post(client, event(), secret=courier.secret, courier="nobody")
    bad = signed_post(client, event(), secret=new_secret())
    unsigned = client.post("/api/v1/couriers/nobody/webhook/", data=json.dumps(event()),
                           content_type="application/json")
    assert unknown.status_code == bad.status_code == unsigned.status_code == 401
    assert unknown.content == bad.content == unsigned.content
    assert unknown.json()["code"] == "invalid_signature"
    assert not CourierEvent.objects.exists()


@pytest.mark.parametrize("weak", WEAK)
def test_a_courier_with_an_empty_or_default_secret_accepts_nothing(client, courier, dispatched, weak):
    Courier.objects.filter(pk=courier.pk).update(secret=weak)
    forged = signed_post(client, event(), secret=weak)
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_signature"
    assert Pickup.objects.get(pk=dispatched.pk).state == "dispatched" and not CourierEvent.objects.exists()


def test_long_event_ids_sharing_a_prefix_are_both_processed(client, courier, dispatched):
    prefix = "evt-" + "x" * 150  # longer than the 128 characters ids used to be cut to
    first = signed_post(client, event(event_id=prefix + "-1", status="picked_up"), secret=courier.secret)
    second = signed_post(client, event(event_id=prefix + "-2", status="in_transit"), secret=courier.secret)
    assert first.json()["applied"] is True and first.json()["duplicate"] is False
    assert second.json()["applied"] is True and second.json()["duplicate"] is False
    assert sorted(CourierEvent.objects.values_list("event_id", flat=True)) == [prefix + "-1", prefix + "-2"]
    assert Pickup.objects.get(pk=dispatched.pk).state == "in_transit"


@pytest.mark.parametrize(("field", "value"), [("event_id", "e" * 256), ("waybill", "SIM000000000001" + "9" * 50),
                                              ("status", "picked_up" + "_" * 30)])
def test_a_field_too_long_for_its_column_is_refused_not_cut(client, courier, dispatched, field, value):
    body = {**event(event_id=f"long-{field}"), field: value}
    response = signed_post(client, body, secret=courier.secret)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["field"] == field
    assert not CourierEvent.objects.exists() and Pickup.objects.get(pk=dispatched.pk).state == "dispatched"


def test_stale_timestamp_is_still_told_apart_for_a_correctly_signed_event(client, courier, dispatched):
    r = signed_post(client, event(), secret=courier.secret, timestamp=int(time.time()) - 400)
    assert r.status_code == 401 and r.json()["code"] == "stale_timestamp"
