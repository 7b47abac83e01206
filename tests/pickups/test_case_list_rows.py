"""The case JSON is built from plain rows (cases.api.case_row_dict): every field must say what the models
say, the same in the list and in the detail, pickup and refund included, for the consumer and the merchant."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services as case_services
from cases.models import AfterSalesCase, CaseEvent, Refund
from cases.permissions import available_actions
from pickups import services
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_case_json_says_what_the_models_say(api: Any, case: Any, consumer: Any, merchant: Any, shop: Any) -> None:
    slot = services.pickup_assess(case=case).slots[0]
    services.pickup_book(case_id=case.pk, actor=consumer, slot_id=slot.pk)
    refunded = case_services.case_submit(
        consumer=consumer, order_item_id=f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)).pk,
        kind="refund_only", reason="other", quantity=1, amount="5.00")
    case_services.case_approve(case_id=refunded.pk, actor=merchant)
    with_photo = case_services.case_submit(
        consumer=consumer, order_item_id=f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)).pk,
        kind="return_refund", reason="quality_issue", quantity=1,
        evidence_files=[SimpleUploadedFile("p.jpg", f.jpeg_bytes())])

    for user in (consumer, merchant):
        client = api(user)
        listed = client.get("/api/v1/cases/?ordering=deadline&page_size=10").json()
        assert listed["count"] == 3
        by_id = {row["id"]: row for row in listed["results"]}
        assert set(by_id) == {case.pk, refunded.pk, with_photo.pk}
        for case_id, row in by_id.items():
            detail = client.get(f"/api/v1/cases/{case_id}/").json()
            # a list row carries the newest event and the count instead of the timeline (api.md)
            assert "events" not in row
            assert row["events_count"] == len(detail["events"]) == CaseEvent.objects.filter(case_id=case_id).count()
            assert row["last_event"] == detail["events"][-1]
            assert {k: v for k, v in row.items() if k not in ("last_event", "events_count")} == {
                k: v for k, v in detail.items() if k != "events"}
            model = AfterSalesCase.objects.select_related("order_item__order", "order_item__product", "shop",
                                                          "consumer").get(pk=case_id)
            assert (row["number"], row["state"], row["amount"], row["order_number"], row["sku"], row["shop"],
                    row["consumer"]) == (model.number, model.state, str(model.amount), model.order_item.order.number,
                                         model.order_item.product.sku, model.shop.code, model.consumer.username)
            assert row["available_actions"] == available_actions(user, model)
            assert [(e["action"], e["to_state"]) for e in detail["events"]] == list(
                CaseEvent.objects.filter(case_id=case_id).order_by("at", "id").values_list("action", "to_state"))
            assert (row["deadline"] or {}).get("name", "") == model.deadline_name
        assert by_id[case.pk]["pickup"]["state"] and by_id[case.pk]["refund"] is None
        refund = Refund.objects.get(case=refunded)
        assert by_id[refunded.pk]["refund"] == {"amount": "5.00", "status": refund.status, "fast": False,
                                                "paid_at": None}
        assert [e["url"] for e in by_id[with_photo.pk]["evidence"]] == [
            f"/api/v1/evidence/{e.pk}/file/" for e in with_photo.evidence.all()]
        phone = by_id[case.pk]["pickup"]["address"]["phone"]
        assert ("*" in phone) is (user == merchant)
