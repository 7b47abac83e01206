"""Walk the main paths through the HTTP API with real tokens."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import AfterSalesCase, CaseEvent, Refund
from tests import factories as f

pytestmark = pytest.mark.django_db


def _open(api, consumer, item, **extra):  # type: ignore[no-untyped-def]
    body = {"order_item": item.pk, "kind": "return_refund", "reason": "no_reason", "quantity": 1,
            "amount": "94.00", "condition_intact": True, **extra}
    return api(consumer).post("/api/v1/cases/", body, format="json")


def test_return_refund_path_end_to_end(api, consumer, merchant, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _open(api, consumer, item)
    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["state"] == "pending_merchant"
    assert case["freight_payer"] == "consumer"
    assert case["deadline"]["name"] == "merchant_response"
    assert case["available_actions"] == ["revise", "withdraw"]

    m = api(merchant)
    detail = m.get(f"/api/v1/cases/{case['id']}/").json()
    assert set(detail["available_actions"]) == {"approve", "reject"}
    with django_capture_on_commit_callbacks(execute=True):
        r = m.post(f"/api/v1/cases/{case['id']}/actions/approve/", {}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "awaiting_return"
    r = api(consumer).post(f"/api/v1/cases/{case['id']}/actions/ship_return/",
                           {"carrier": "SF", "tracking_number": "SF123"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "return_in_transit"
    # fast refund: good standing and under the limit → paid at ship_return
    assert r.json()["refund"]["fast"] is True
    with django_capture_on_commit_callbacks(execute=True):
        r = m.post(f"/api/v1/cases/{case['id']}/actions/confirm_receipt/", {}, format="json")
    assert r.json()["state"] == "refunded"
    assert Refund.objects.filter(case_id=case["id"]).count() == 1
    assert Refund.objects.get(case_id=case["id"]).amount == Decimal("94.00")
    events = r.json()["events"]
    assert [e["action"] for e in events] == ["submit", "approve", "ship_return", "fast_refund", "confirm_receipt"]


def test_wrong_role_and_wrong_state(api, consumer, merchant, item):
    case = _open(api, consumer, item).json()
    assert api(consumer).post(f"/api/v1/cases/{case['id']}/actions/approve/").status_code == 403
    r = api(merchant).post(f"/api/v1/cases/{case['id']}/actions/confirm_receipt/")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    stranger = f.ConsumerFactory()
    assert api(stranger).get(f"/api/v1/cases/{case['id']}/").status_code == 404
    assert api(stranger).post(f"/api/v1/cases/{case['id']}/actions/withdraw/").status_code == 404
    assert api(merchant).post(f"/api/v1/cases/{case['id']}/actions/reject/", {}, format="json").json()["field"] == "reason"


def test_evidence_required_and_upload(api, consumer, item):
    r = _open(api, consumer, item, reason="quality_issue")
    assert r.status_code == 400 and r.json()["code"] == "evidence_required"
    assert AfterSalesCase.objects.count() == 0
    photo = SimpleUploadedFile("a.jpg", f.jpeg_bytes(), content_type="image/jpeg")
    r = api(consumer).post("/api/v1/cases/", {"order_item": item.pk, "kind": "return_refund",
                                              "reason": "quality_issue", "quantity": "1", "amount": "94.00",
                                              "evidence": [photo]}, format="multipart")
    assert r.status_code == 201, r.json()
    assert r.json()["freight_payer"] == "merchant"
    assert len(r.json()["evidence"]) == 1
    assert CaseEvent.objects.filter(case_id=r.json()["id"]).count() == 1
