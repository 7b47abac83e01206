"""Tokens, /healthz, regions and staff groups made by migrations."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from portal.models import ApiToken, Region

pytestmark = pytest.mark.django_db


def test_token_then_bearer_and_many_tokens_per_user(api, consumer):
    client = api()
    first = client.post("/api/v1/auth/token/", {"username": "alice", "password": "pass1234"}, format="json")
    assert first.status_code == 200 and first.json()["token"]
    second = client.post("/api/v1/auth/token/", {"username": "alice", "password": "pass1234"}, format="json")
    assert second.status_code == 200 and second.json()["token"] != first.json()["token"]
    assert ApiToken.objects.filter(user=consumer).count() == 2
    for token in (first.json()["token"], second.json()["token"]):  # the second did not revoke the first
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = client.get("/api/v1/orders/")
        assert response.status_code == 200 and "results" in response.json()


def test_wrong_password_and_bad_tokens_are_401(api, consumer):
    client = api()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    response = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert client.get("/api/v1/orders/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/v1/orders/").status_code == 401
    missing = api().post("/api/v1/auth/token/", {"username": "alice"}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "password"


def test_healthz_ok_structure(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert {"database", "broker", "workers"} <= set(body["checks"]) <= {"database", "broker", "workers", "cache",
                                                                         "replica"}
    assert set(body["checks"].values()) == {"ok"}


def test_healthz_names_the_broker_when_it_is_down(client):
    from portal.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved
    body = response.json()
    assert response.status_code == 503
    assert "broker" in body["failing"] and body["checks"]["broker"] != "ok"
    assert body["checks"]["database"] == "ok"


def test_regions_resolve_with_remote_lineage():
    tianshan = Region.resolve("650102")
    assert tianshan is not None and tianshan.is_remote
    assert [r.code for r in tianshan.lineage()] == ["650102", "650100", "650000"]
    xihu = Region.resolve("330106")
    assert xihu is not None and xihu.code == "330106" and not xihu.is_remote
    unlisted = Region.resolve("650199")  # no such district row: falls back to Ürümqi, still remote
    assert unlisted.code == "650100" and unlisted.is_remote
    assert Region.resolve("540199").is_remote and Region.resolve("632801").is_remote  # Tibet, Qinghai
    assert not Region.resolve("440305").is_remote and Region.resolve("310104").name == "徐汇区"
    assert Region.resolve("12345") is None and Region.resolve("abcdef") is None


def test_regions_cover_every_province_and_prefecture():
    provinces = Region.objects.filter(level=Region.Level.PROVINCE)
    assert provinces.count() == 34
    assert {"110000", "310000", "650000", "540000", "630000", "810000"} <= set(provinces.values_list("code", flat=True))
    cities = Region.objects.filter(level=Region.Level.CITY)
    assert cities.count() >= 333
    assert Region.objects.get(code="330100").name == "杭州市"
    assert Region.objects.get(code="650100").name == "乌鲁木齐市"
    assert not cities.exclude(parent__level=Region.Level.PROVINCE).exists()
    assert all(c.parent_id == c.code[:2] + "0000" for c in cities)
    remote = set(Region.objects.filter(remote=True).values_list("code", flat=True))
    assert remote == set(Region.objects.filter(code__regex=r"^(54|63|65)").values_list("code", flat=True))


def test_staff_groups_have_their_permissions():
    agents = set(Group.objects.get(name="agents").permissions.values_list("codename", flat=True))
    assert {"rule_case", "view_aftersalescase", "view_caseevent", "view_caseevidence", "view_casemessage",
            "view_refund", "view_deadline", "add_casemessage"} <= agents
    assert "reassign_case" not in agents and "edit_platform_settings" not in agents
    supervisors = set(Group.objects.get(name="supervisors").permissions.values_list("codename", flat=True))
    assert agents <= supervisors
    assert {"reassign_case", "edit_platform_settings", "change_aftersalescase", "add_holiday", "change_holiday",
            "delete_holiday", "add_deadlinepolicy", "change_deadlinepolicy", "delete_deadlinepolicy",
            "add_platformsetting", "change_platformsetting", "delete_platformsetting"} <= supervisors
