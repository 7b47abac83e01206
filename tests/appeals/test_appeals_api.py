"""Appeals over HTTP: available_actions, the action route, the case JSON's appeal window and decision."""

from __future__ import annotations

import pytest

from tests.appeals.test_appeals import ruled

pytestmark = pytest.mark.django_db


def test_appeal_over_the_api(api, consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item)
    shown = api(consumer).get(f"/api/v1/cases/{case.pk}/").json()
    assert "appeal" in shown["available_actions"]
    assert shown["appeal"]["window_due_at"] and shown["appeal"]["appealed_at"] is None
    assert "appeal" in api(merchant).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"]
    assert "appeal" not in api(agent).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"]

    missing = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/appeal/", {}, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "statement"
    done = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/appeal/", {"statement": "金额太少"}, format="json")
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["state"] == "under_appeal" and body["appeal"]["appellant"] == "consumer"
    assert body["deadline"]["name"] == "appeal_answer"
    assert body["available_actions"] == []  # the appellant waits
    merchant_view = api(merchant).get(f"/api/v1/cases/{case.pk}/").json()
    assert merchant_view["available_actions"] == ["answer_appeal"]
    assert "decide_appeal" not in api(agent).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"]
    assert "decide_appeal" in api(supervisor).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"]

    second = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/appeal/", {"statement": "再来"}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "invalid_transition"
    denied = api(agent).post(f"/api/v1/cases/{case.pk}/actions/decide_appeal/",
                             {"outcome": "uphold", "rationale": "x"}, format="json")
    assert denied.status_code == 403
    decided = api(supervisor).post(f"/api/v1/cases/{case.pk}/actions/decide_appeal/",
                                   {"outcome": "overturn", "rationale": "全额", "decision": "refund",
                                    "amount": "80.00"}, format="json")
    assert decided.status_code == 200, decided.json()
    out = decided.json()
    assert out["state"] == "refunded" and out["refund"]["amount"] == "80.00"
    assert out["appeal"]["outcome"] == "overturn" and out["appeal"]["decided_at"]
    assert [e["action"] for e in out["events"]][-3:] == ["appeal", "decide_appeal", "further_payout"]
    again = api(merchant).post(f"/api/v1/cases/{case.pk}/actions/appeal/", {"statement": "x"}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "already_appealed"


def test_appeal_with_evidence_files(api, consumer, merchant, agent, item):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests import factories as f

    case = ruled(consumer, merchant, agent, item)
    photo = SimpleUploadedFile("p.jpg", f.jpeg_bytes(), content_type="image/jpeg")
    response = api(merchant).post(f"/api/v1/cases/{case.pk}/actions/appeal/",
                                  {"statement": "附上签收记录", "evidence": [photo]}, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["events"][-1]["payload"]["evidence"] == 1
    assert [e["role"] for e in body["evidence"]][-1] == "merchant"


def test_not_appealable_over_the_api(api, consumer, merchant, item):
    from cases import services

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                amount="50.00", quantity=1)
    services.case_act(action="approve", case_id=case.pk, actor=merchant, data={})
    response = api(consumer).post(f"/api/v1/cases/{case.pk}/actions/appeal/", {"statement": "x"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_appealable"
    assert api(consumer).get(f"/api/v1/cases/{case.pk}/").json()["appeal"] is None
