"""Rate limits on the HTML forms: the API's throttles (same scopes, keys, rates and counters) on the case
request, actions, messages, uploads and pickup forms of the shopper's and the merchant's pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from cases.models import CaseMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):  # type: ignore[no-untyped-def]
    """Set throttle rates the way settings.REST_FRAMEWORK does (DRF reads them once, into this dict)."""

    def set_rates(**scopes: str) -> None:
        for scope, rate in scopes.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


SHOPPER_FORMS = [
    ("web:case_new", {"item_id": 999999}, "case_create"),
    ("web:case_action", {"case_id": 999999, "action": "withdraw"}, "case_action"),
    ("web:case_message", {"case_id": 999999}, "message"),
    ("web:case_evidence", {"case_id": 999999}, "upload"),
    ("web:pickup_book", {"case_id": 999999}, "case_action"),
    ("web:pickup_cancel", {"case_id": 999999, "pickup_id": 1}, "case_action"),
    ("web:pickup_reschedule", {"case_id": 999999, "pickup_id": 1}, "case_action"),
]
MERCHANT_FORMS = [
    ("merchant:case-action", {"case_id": 999999, "action": "approve"}, "case_action"),
    ("merchant:case-message", {"case_id": 999999}, "message"),
    ("merchant:case-evidence", {"case_id": 999999}, "upload"),
]


@pytest.mark.parametrize(("name", "kwargs", "scope"), SHOPPER_FORMS)
def test_every_shopper_form_is_throttled_by_its_api_scope(client, consumer, rates, name, kwargs, scope):
    client.force_login(consumer)
    url = reverse(name, kwargs=kwargs)
    assert client.post(url, {}).status_code != 429
    rates(**{scope: "0/min"})
    r = client.post(url, {})
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    assert "操作过于频繁" in r.content.decode()


@pytest.mark.parametrize(("name", "kwargs", "scope"), MERCHANT_FORMS)
def test_every_merchant_form_is_throttled_by_its_api_scope(client, merchant, shop, rates, name, kwargs, scope):
    client.force_login(merchant)
    url = reverse(name, kwargs=kwargs)
    assert client.post(url, {}).status_code != 429
    rates(**{scope: "0/min"})
    assert client.post(url, {}).status_code == 429


def test_pages_and_api_share_one_budget_per_user(client, consumer, api, make_case, rates):
    rates(message="3/min")
    case = make_case()
    client.force_login(consumer)
    url = reverse("web:case_message", args=[case.pk])
    for body in ("one", "two"):
        assert client.post(url, {"body": body}).status_code == 302
    assert api(consumer).post(f"/api/v1/cases/{case.pk}/messages/", {"body": "three"}, format="json").status_code == 201
    refused = client.post(url, {"body": "four"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    htmx = client.post(url, {"body": "five"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 429 and "<html" not in htmx.content.decode()
    assert api(consumer).post(f"/api/v1/cases/{case.pk}/messages/", {"body": "six"}, format="json").status_code == 429
    assert list(CaseMessage.objects.filter(case=case).values_list("body", flat=True)) == ["one", "two", "three"]


def test_the_limit_is_per_user_not_per_address(client, consumer, rates, make_case):
    from tests import factories as f

    rates(case_action="1/min")
    client.force_login(consumer)
    url = reverse("web:case_action", kwargs={"case_id": 999999, "action": "withdraw"})
    client.post(url, {})
    assert client.post(url, {}).status_code == 429
    client.force_login(f.ConsumerFactory(username="neighbour"))  # same address, another user
    assert client.post(url, {}).status_code != 429
