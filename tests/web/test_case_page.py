"""The case page: stepper, countdown sentence, timeline, evidence, conversation, actions; and its neighbours."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import AfterSalesCase, CaseMessage, Notification
from tests import factories as f

pytestmark = pytest.mark.django_db


def block(html: str, anchor: str, size: int = 4000) -> str:
    start = html.index(anchor)
    return html[start:start + size]


def steps(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li class="(\w+)" data-step="(\w+)"', html)


def test_pending_return_refund_shows_stepper_countdown_and_timeline(shopper, make_case):
    case = make_case()
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert steps(html) == [("done", "submit"), ("current", "merchant"), ("todo", "return"), ("todo", "resolve"),
                           ("todo", "done")]
    assert "商家需在 " in html and " 内处理，超时将自动同意" in html
    assert re.search(r'data-countdown data-due="[^"]+"[^>]*>4天23小时', html)
    assert 'data-party="merchant"' in html
    assert "提交申请" in block(html, 'class="timeline"')
    assert "撤销申请" in html and "修改申请" in html
    assert "申请平台介入" not in block(html, 'id="actions"', 1500)


def test_refund_only_has_no_return_step(shopper, make_case):
    case = make_case(kind="refund_only", reason="other")
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert [key for _s, key in steps(html)] == ["submit", "merchant", "resolve", "done"]


def test_another_consumers_case_is_404(client, make_case):
    case = make_case()
    client.force_login(f.ConsumerFactory())
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.post(f"/cases/{case.pk}/actions/withdraw/").status_code == 404
    assert client.post(f"/cases/{case.pk}/messages/", {"body": "hi"}).status_code == 404
    evidence = make_case(kind="exchange", reason="quality_issue", target_item=f.OrderItemFactory(
        order=f.OrderFactory(consumer=case.consumer, shop=case.shop))).evidence.get()
    assert client.get(f"/cases/{evidence.case_id}/evidence/{evidence.pk}/file/").status_code == 404
    assert AfterSalesCase.objects.get(pk=case.pk).state == "pending_merchant"


def test_withdraw_closes_the_case(shopper, make_case):
    case = make_case()
    response = shopper.post(f"/cases/{case.pk}/actions/withdraw/")
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.closure_reason) == ("closed", "withdrawn")
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert "已撤销售后申请" in html and "买家撤销" in html
    assert ("stopped", "merchant") in steps(html)


def test_escalate_a_rejected_case_needs_a_statement(shopper, merchant, make_case):
    case = make_case()
    services.case_reject(case_id=case.pk, actor=merchant, reason="商品已使用")
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert "理由：商品已使用" in html
    assert "请在 " in html and "内修改申请或申请平台介入" in html
    response = shopper.post(f"/cases/{case.pk}/actions/escalate/", {"statement": ""})
    assert response.status_code == 400
    assert "请说明您申请平台介入的理由" in block(response.content.decode(), 'id="field-statement"', 1500)
    response = shopper.post(f"/cases/{case.pk}/actions/escalate/", {"statement": "商品未使用，吊牌完好"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "in_arbitration"
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert "陈述：商品未使用，吊牌完好" in html and "平台介入中" in html


def test_revise_refusal_appears_next_to_amount(shopper, make_case):
    case = make_case()
    response = shopper.post(f"/cases/{case.pk}/actions/revise/", {"amount": "500.00", "description": "改一下"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "退款金额不能超过 ¥94.00" in block(html, 'id="field-amount"', 1500)
    assert "改一下" in html
    response = shopper.post(f"/cases/{case.pk}/actions/revise/", {"amount": "60.00", "reason": "no_reason"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert str(case.amount) == "60.00"


def test_ship_return_with_tracking_and_fast_refund(shopper, merchant, make_case, django_capture_on_commit_callbacks):
    case = make_case()
    services.case_approve(case_id=case.pk, actor=merchant)
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert "请在 " in html and "内寄回商品，超时售后将关闭" in html
    assert "自行寄回：填写快递单号" in html and "上门取件" in html
    response = shopper.post(f"/cases/{case.pk}/actions/ship_return/", {"carrier": "顺丰", "tracking_number": ""})
    assert response.status_code == 400
    assert "该字段是必填项" in block(response.content.decode(), 'id="field-tracking_number"', 1500)
    with django_capture_on_commit_callbacks(execute=True):
        response = shopper.post(f"/cases/{case.pk}/actions/ship_return/",
                                {"carrier": "顺丰", "tracking_number": "SF1234567"})
    assert response.status_code == 302
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert "顺丰 运单号 SF1234567" in html
    assert "极速退款" in block(html, 'id="refund"', 1500)
    assert ("current", "return") in steps(html)


def test_messages_post_and_internal_notes_stay_hidden(shopper, agent, make_case):
    case = make_case()
    CaseMessage.objects.create(case=case, author=agent, role="staff", body="内部备注：疑似职业退货", internal=True)
    response = shopper.post(f"/cases/{case.pk}/messages/", {"body": "请尽快处理"})
    assert response.status_code == 302
    response = shopper.post(f"/cases/{case.pk}/messages/", {"body": "第二条"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    partial = response.content.decode()
    assert partial.strip().startswith('<section class="card"') and "第二条" in partial and "请尽快处理" in partial
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert "内部备注" not in html
    empty = shopper.post(f"/cases/{case.pk}/messages/", {"body": "  "})
    assert empty.status_code == 400 and "请输入留言内容" in empty.content.decode()


def test_add_evidence_and_view_it(shopper, make_case):
    case = make_case()
    photo = SimpleUploadedFile("crack.png", f.png_bytes(), content_type="image/png")
    response = shopper.post(f"/cases/{case.pk}/evidence/", {"files": [photo], "note": "裂缝"})
    assert response.status_code == 302
    evidence = case.evidence.get()
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/evidence/{evidence.pk}/file/" in html
    file_response = shopper.get(f"/cases/{case.pk}/evidence/{evidence.pk}/file/")
    assert file_response.status_code == 200 and file_response["Content-Type"] == "image/png"
    bad = SimpleUploadedFile("x.png", b"GIF89a....", content_type="image/png")
    response = shopper.post(f"/cases/{case.pk}/evidence/", {"files": [bad]})
    assert response.status_code == 400
    assert "仅支持 JPEG、PNG、WebP 图片和 PDF 文件" in response.content.decode()


def _count(client, url):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_case_page_query_count_does_not_grow_with_events(shopper, consumer, merchant, make_case,
                                                         django_assert_max_num_queries):
    case = make_case()
    for _ in range(3):
        services.case_revise(case_id=case.pk, actor=consumer, description="a")
        services.message_post(case_id=case.pk, author=consumer, body="m")
    few = _count(shopper, f"/cases/{case.pk}/")
    for _ in range(30):
        services.case_revise(case_id=case.pk, actor=consumer, description="b")
        services.message_post(case_id=case.pk, author=merchant, body="n")
    with django_assert_max_num_queries(few):
        html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert html.count("修改申请") >= 33


def test_cases_list_filters_and_bounds_queries(shopper, consumer, shop, make_case, django_assert_max_num_queries):
    open_case = make_case()
    other = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    closed = make_case(target_item=other)
    services.case_withdraw(case_id=closed.pk, actor=consumer)
    html = shopper.get("/cases/?status=open").content.decode()
    assert open_case.number in html and closed.number not in html
    html = shopper.get("/cases/?status=done").content.decode()
    assert closed.number in html and open_case.number not in html
    few = _count(shopper, "/cases/")
    for _ in range(12):
        make_case(target_item=f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)))
    with django_assert_max_num_queries(few):
        shopper.get("/cases/")


def test_notifications_link_to_the_case_and_are_marked_read(shopper, consumer, merchant, make_case):
    case = make_case()
    services.case_reject(case_id=case.pk, actor=merchant, reason="不符合")
    note = Notification.objects.get(user=consumer)
    assert note.read_at is None
    html = shopper.get("/notifications/").content.decode()
    assert f'href="/cases/{case.pk}/"' in html and "商家拒绝了您的售后申请" in html
    assert 'class="unread"' in html
    note.refresh_from_db()
    assert note.read_at is not None
    html = shopper.get("/notifications/").content.decode()
    assert 'class="unread"' not in html
    shopper.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = shopper.get("/notifications/").content.decode()
    assert f"The merchant rejected your request {case.number}" in html


def test_pickup_panel_offers_slots_and_books(shopper, merchant, make_case):
    case = make_case()
    services.case_approve(case_id=case.pk, actor=merchant)
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    panel = block(html, 'id="pickup"', 20000)
    slot = re.search(r'name="slot" id="slot-(\d+)"', panel)
    assert slot, panel[:2000]
    assert "¥12.00" in panel and "您承担" in panel
    response = shopper.post(f"/cases/{case.pk}/pickup/", {"slot": slot.group(1)})
    assert response.status_code == 302
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-pickup-state="requested"' in html and "取消预约" in html
    pickup_id = re.search(rf"/cases/{case.pk}/pickup/(\d+)/cancel/", html).group(1)
    assert shopper.post(f"/cases/{case.pk}/pickup/{pickup_id}/cancel/").status_code == 302
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-pickup-state="cancelled"' in html and "预约上门取件" in html


def test_pickup_refused_in_a_remote_region_says_why(shopper, consumer, shop, merchant, make_case):
    order = f.OrderFactory(consumer=consumer, shop=shop, address_region="650102")
    case = make_case(target_item=f.OrderItemFactory(order=order))
    services.case_approve(case_id=case.pk, actor=merchant)
    html = shopper.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-code="remote_region"' in html and "偏远地区暂不支持上门取件" in html
    assert 'name="slot"' not in html


def test_pickup_without_a_slot_is_shown_next_to_the_slots(shopper, merchant, make_case):
    case = make_case()
    services.case_approve(case_id=case.pk, actor=merchant)
    response = shopper.post(f"/cases/{case.pk}/pickup/", {})
    assert response.status_code == 400
    assert "请选择取件时段" in block(response.content.decode(), 'id="pickup"', 20000)
