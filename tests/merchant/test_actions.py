"""Bulk actions and the case handling page: every write goes through the case services."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import services
from cases.merchant.models import RejectReason, ReplyTemplate
from cases.models import CaseEvent, CaseEvidence, CaseMessage, Refund
from tests import factories as f

BULK = reverse("merchant:bulk")


def _action(case, name: str) -> str:  # type: ignore[no-untyped-def]
    return reverse("merchant:case-action", args=[case.pk, name])


# --- bulk -------------------------------------------------------------------------------------

def test_bulk_confirmation_states_count_and_money(merchant_client, make_case):
    a, b = make_case(paid="100.00"), make_case(paid="23.50")
    c = make_case(kind="exchange")
    response = merchant_client.post(BULK, {"action": "approve", "ids": [a.pk, b.pk, c.pk]})
    assert response.status_code == 200
    assert response.context["count"] == 3
    assert response.context["money"] == Decimal("123.50")  # the exchange moves no money
    html = response.content.decode()
    assert "3 个售后单" in html and "¥123.50" in html
    a.refresh_from_db()
    assert a.state == "pending_merchant"  # nothing happens before the confirmation


def test_bulk_approve_runs_each_case_and_reports_each(merchant_client, make_case, merchant, returned_case):
    a, b = make_case(paid="10.00"), make_case(kind="return_refund", paid="20.00")
    moved = returned_case()  # approve is no longer open for this one
    response = merchant_client.post(BULK, {"action": "approve", "ids": [a.pk, b.pk, moved.pk], "confirm": "1"})
    assert response.status_code == 200
    outcomes = {o.number: o for o in response.context["outcomes"]}
    assert outcomes[a.number].ok and outcomes[a.number].state == "refunded"
    assert outcomes[b.number].ok and outcomes[b.number].state == "awaiting_return"
    assert not outcomes[moved.number].ok and outcomes[moved.number].code == "invalid_transition"
    assert "当前状态不能执行此操作" in outcomes[moved.number].message
    assert response.context["ok"] == 2 and response.context["failed"] == 1
    assert Refund.objects.get(case=a).amount == Decimal("10.00")
    assert CaseEvent.objects.filter(case=b, action="approve", actor=merchant).count() == 1


def test_bulk_confirm_receipt(merchant_client, returned_case):
    cases = [returned_case(paid="30.00"), returned_case(paid="12.00")]
    confirm = merchant_client.post(BULK, {"action": "confirm_receipt", "ids": [c.pk for c in cases]})
    assert confirm.context["money"] == Decimal("42.00")
    merchant_client.post(BULK, {"action": "confirm_receipt", "ids": [c.pk for c in cases], "confirm": "1"})
    for case in cases:
        case.refresh_from_db()
        assert case.state == "refunded"


def test_bulk_refuses_unknown_action_and_foreign_cases(merchant_client, make_case, other_shop):
    mine = make_case()
    foreign = make_case(shop_=other_shop)
    assert merchant_client.post(BULK, {"action": "rule", "ids": [mine.pk]}).status_code == 302
    assert merchant_client.post(BULK, {"action": "approve", "ids": [mine.pk, foreign.pk]}).status_code == 404
    assert merchant_client.post(BULK, {"action": "approve", "ids": [foreign.pk], "confirm": "1"}).status_code == 404
    assert merchant_client.post(BULK, {"action": "approve", "ids": ["x"]}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == "pending_merchant"


# --- case page ----------------------------------------------------------------------------------

def test_case_page_shows_request_masked_phone_and_actions(merchant_client, make_case):
    case = make_case(kind="return_refund", reason="quality_issue", photo=True)
    response = merchant_client.get(reverse("merchant:case", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "138****5678" in html and "13800005678" not in html
    assert "漕溪北路 1 号" not in html  # the consumer's street is not needed to approve or reject
    assert "文三路 1 号" in html  # the shop's own return address is shown in full
    evidence = CaseEvidence.objects.get(case=case)
    assert f"/api/v1/evidence/{evidence.pk}/file/" in html
    assert set(response.context["actions"]) == {"approve", "reject"}
    assert "尺码不合适" in html


def test_full_address_only_when_shipping_to_consumer(merchant_client, returned_case, merchant):
    case = returned_case(kind="exchange")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    html = merchant_client.get(reverse("merchant:case", args=[case.pk])).content.decode()
    assert "13800005678" in html and "漕溪北路 1 号" in html


def test_approve_from_case_page(merchant_client, make_case, merchant):
    case = make_case(paid="66.00")
    response = merchant_client.post(_action(case, "approve"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "refunded" and case.first_response_at is not None
    assert Refund.objects.get(case=case).amount == Decimal("66.00")


def test_reject_with_listed_reason_and_text(merchant_client, make_case, shop):
    RejectReason.objects.create(shop=shop, code="tag-removed", label="吊牌已剪")
    case = make_case()
    response = merchant_client.post(_action(case, "reject"), {"reject-reason_code": "tag-removed",
                                                              "reject-reason": "照片显示吊牌已剪"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "rejected"
    event = CaseEvent.objects.get(case=case, action="reject")
    assert event.payload == {"reason": "吊牌已剪：照片显示吊牌已剪", "reason_code": "tag-removed"}


def test_reject_needs_a_listed_reason(merchant_client, make_case):
    case = make_case()
    response = merchant_client.post(_action(case, "reject"), {"reject-reason_code": "made-up", "reject-reason": "x"})
    assert response.status_code == 400
    assert response.context["reject_form"].errors["reason_code"]
    case.refresh_from_db()
    assert case.state == "pending_merchant"


def test_invalid_transition_is_a_message_not_an_error(merchant_client, make_case, merchant):
    case = make_case()
    services.case_approve(case_id=case.pk, actor=merchant)
    response = merchant_client.post(_action(case, "approve"), follow=True)
    assert response.status_code == 200
    assert "当前状态不能执行此操作" in response.content.decode()


def test_confirm_receipt_with_photos(merchant_client, returned_case):
    case = returned_case(paid="45.00")
    photo = SimpleUploadedFile("box.png", f.png_bytes(), "image/png")
    merchant_client.post(_action(case, "confirm_receipt"), {"files": [photo]})
    case.refresh_from_db()
    assert case.state == "refunded"
    assert CaseEvidence.objects.filter(case=case, role="merchant").count() == 1


def test_refuse_receipt_keeps_photos_only_when_it_succeeds(merchant_client, returned_case):
    case = returned_case()
    photo = SimpleUploadedFile("box.jpg", f.jpeg_bytes(), "image/jpeg")
    merchant_client.post(_action(case, "refuse_receipt"), {"refuse-reason_code": "goods_used", "files": [photo]})
    case.refresh_from_db()
    assert case.state == "rejected"
    assert CaseEvent.objects.get(case=case, action="refuse_receipt").payload["reason_code"] == "goods_used"
    assert CaseEvidence.objects.filter(case=case, role="merchant").count() == 1
    bad = SimpleUploadedFile("x.txt", b"hello", "image/jpeg")
    second = returned_case()
    merchant_client.post(_action(second, "refuse_receipt"), {"refuse-reason_code": "goods_used", "files": [bad]})
    second.refresh_from_db()
    assert second.state == "return_in_transit"


def test_ship_replacement_and_repaired(merchant_client, returned_case, merchant):
    exchange = returned_case(kind="exchange")
    services.case_confirm_receipt(case_id=exchange.pk, actor=merchant)
    assert merchant_client.post(_action(exchange, "ship_replacement"), {"carrier": ""}).status_code == 400
    merchant_client.post(_action(exchange, "ship_replacement"), {"carrier": "顺丰", "tracking_number": "SF9"})
    exchange.refresh_from_db()
    assert exchange.state == "replacement_in_transit" and exchange.replacement_tracking == "SF9"

    repair = returned_case(kind="repair", reason="other")
    services.case_confirm_receipt(case_id=repair.pk, actor=merchant)
    merchant_client.post(_action(repair, "ship_repaired"), {"carrier": "JD", "tracking_number": "JD1"})
    repair.refresh_from_db()
    assert repair.state == "replacement_in_transit"


def test_approve_refund_when_no_replacement(merchant_client, returned_case, merchant):
    case = returned_case(kind="exchange", paid="80.00")
    services.case_confirm_receipt(case_id=case.pk, actor=merchant)
    merchant_client.post(_action(case, "approve_refund"))
    case.refresh_from_db()
    assert case.state == "refunded" and Refund.objects.get(case=case).amount == Decimal("80.00")


def test_unknown_action_is_404(merchant_client, make_case):
    case = make_case()
    assert merchant_client.post(_action(case, "rule")).status_code == 404
    assert merchant_client.post(_action(case, "withdraw")).status_code == 404


# --- conversation and templates -----------------------------------------------------------------

def test_reply_with_template_body(merchant_client, make_case, shop):
    ReplyTemplate.objects.create(shop=shop, title="致歉", body="非常抱歉给您带来不便")
    case = make_case()
    page = merchant_client.get(reverse("merchant:case", args=[case.pk])).content.decode()
    assert 'data-body="非常抱歉给您带来不便"' in page
    merchant_client.post(reverse("merchant:case-message", args=[case.pk]), {"body": "非常抱歉给您带来不便"})
    message = CaseMessage.objects.get(case=case)
    assert message.role == "merchant" and message.body == "非常抱歉给您带来不便"
    empty = merchant_client.post(reverse("merchant:case-message", args=[case.pk]), {"body": " "}, follow=True)
    assert CaseMessage.objects.filter(case=case).count() == 1
    assert "必填" in empty.content.decode()


def test_template_crud(merchant_client, shop):
    url = reverse("merchant:templates")
    assert merchant_client.post(url, {"shop": "acme", "title": "催退货", "body": "请尽快寄回"}).status_code == 302
    template = ReplyTemplate.objects.get(shop=shop, title="催退货")
    duplicate = merchant_client.post(url, {"shop": "acme", "title": "催退货", "body": "again"})
    assert duplicate.status_code == 400 and ReplyTemplate.objects.count() == 1
    edit = reverse("merchant:template-edit", args=[template.pk])
    assert merchant_client.get(edit).status_code == 200
    merchant_client.post(edit, {"title": "催退货", "body": "请在 7 天内寄回"})
    template.refresh_from_db()
    assert template.body == "请在 7 天内寄回"
    assert "请在 7 天内寄回" in merchant_client.get(url).content.decode()
    merchant_client.post(reverse("merchant:template-delete", args=[template.pk]))
    assert not ReplyTemplate.objects.exists()


def test_reject_reason_add_and_delete(merchant_client, shop):
    merchant_client.post(reverse("merchant:reason-add"), {"shop": "acme", "code": "Tag Removed", "label": "吊牌已剪"})
    reason = RejectReason.objects.get(shop=shop)
    assert reason.code == "tag-removed"
    merchant_client.post(reverse("merchant:reason-add"), {"shop": "acme", "code": "tag-removed", "label": "x"})
    assert RejectReason.objects.count() == 1
    merchant_client.post(reverse("merchant:reason-delete", args=[reason.pk]))
    assert not RejectReason.objects.exists()
