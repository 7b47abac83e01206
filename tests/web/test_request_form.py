"""The guided request form: only open reasons, pre-filled maximum, refusals next to the field, photos kept."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import AfterSalesCase
from tests import factories as f

pytestmark = pytest.mark.django_db


def url(item):  # type: ignore[no-untyped-def]
    return f"/orders/items/{item.pk}/after-sales/new/"


def field_block(html: str, name: str) -> str:
    """The markup of one field's wrapper, where its error must appear."""
    start = html.index(f'id="field-{name}"')
    return html[start:start + 3000]


def jpeg(name="a.jpg"):  # type: ignore[no-untyped-def]
    return SimpleUploadedFile(name, f.jpeg_bytes(), content_type="image/jpeg")


def test_kind_chooser_then_only_open_reasons_with_prefilled_maximum(shopper, item):
    html = shopper.get(url(item)).content.decode()
    assert "选择售后类型" in html and 'id="case-form"' not in html
    html = shopper.get(url(item) + "?kind=return_refund").content.decode()
    assert 'id="case-form"' in html
    assert 'value="no_reason"' in html and 'value="quality_issue"' in html
    assert 'value="not_shipped"' not in html  # refund_only reason only, and closed anyway
    assert re.search(r'name="quantity"[^>]*value="2"', html)
    assert 'value="188.00"' in html  # the maximum claimable, pre-filled
    assert 'data-claims="1:94.00;2:188.00"' in html
    assert "买家承担退货运费" in html  # freight payer stated per reason before submitting
    assert "商家承担退货运费" in html


def test_another_consumers_item_is_404(client, item):
    stranger = f.ConsumerFactory()
    client.force_login(stranger)
    assert client.get(url(item) + "?kind=return_refund").status_code == 404
    response = client.post(url(item), {"kind": "return_refund", "reason": "no_reason", "quantity": 1})
    assert response.status_code == 404
    assert not AfterSalesCase.objects.exists()


def test_closed_kind_explains_why(shopper, consumer, shop):
    order = f.OrderFactory(consumer=consumer, shop=shop)
    crab = f.OrderItemFactory(order=order, product=f.ProductFactory(shop=shop, category="fresh", warranty_days=0))
    html = shopper.get(url(crab) + "?kind=repair").content.decode()
    assert "该商品不提供保修服务" in html and 'id="case-form"' not in html


def test_missing_declaration_is_shown_next_to_it_and_input_is_kept(shopper, item):
    response = shopper.post(url(item), {"kind": "return_refund", "reason": "no_reason", "quantity": "1",
                                        "amount": "50.00", "description": "尺码不合适，想退"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "七天无理由退换需确认商品完好、不影响二次销售" in field_block(html, "condition_intact")
    assert "尺码不合适，想退" in html
    assert 'value="50.00"' in html
    assert re.search(r'id="reason-no_reason"[^>]*checked', html)
    assert 'aria-invalid="true" aria-describedby="id_condition_intact_error"' in html


def test_amount_over_claimable_is_shown_next_to_amount(shopper, item):
    response = shopper.post(url(item), {"kind": "return_refund", "reason": "no_reason", "quantity": "1",
                                        "amount": "120.00", "condition_intact": "on"})
    assert response.status_code == 400
    assert "退款金额不能超过 ¥94.00" in field_block(response.content.decode(), "amount")


def test_quality_reason_without_photo_is_shown_next_to_photos(shopper, item):
    response = shopper.post(url(item), {"kind": "exchange", "reason": "quality_issue", "quantity": "1"})
    assert response.status_code == 400
    assert "请至少上传一张照片作为凭证" in field_block(response.content.decode(), "evidence")


def test_wrong_file_type_is_refused_by_content(shopper, item):
    fake = SimpleUploadedFile("photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    response = shopper.post(url(item), {"kind": "exchange", "reason": "quality_issue", "quantity": "1",
                                        "evidence": [fake]})
    assert response.status_code == 400
    assert "仅支持 JPEG、PNG、WebP 图片和 PDF 文件" in field_block(response.content.decode(), "evidence")


def test_photos_are_kept_across_a_refusal_and_sent_with_the_fixed_request(shopper, item):
    first = shopper.post(url(item), {"kind": "return_refund", "reason": "quality_issue", "quantity": "1",
                                     "amount": "999.00", "evidence": [jpeg("front.jpg"), jpeg("back.jpg")]})
    assert first.status_code == 400
    html = first.content.decode()
    assert "退款金额不能超过" in field_block(html, "amount")
    assert "您上次选择的照片已为您保留" in html
    token = re.search(r'name="stash" value="([0-9a-f]+)"', html).group(1)
    keys = re.findall(r'name="keep" value="([0-9a-f]+)" checked', html)
    assert len(keys) == 2
    preview = re.search(r'src="(/orders/items/\d+/after-sales/photos/[^"]+)"', html).group(1)
    assert shopper.get(preview)["Content-Type"] == "image/jpeg"
    second = shopper.post(url(item), {"kind": "return_refund", "reason": "quality_issue", "quantity": "1",
                                      "amount": "94.00", "stash": token, "keep": keys})
    assert second.status_code == 302
    case = AfterSalesCase.objects.get()
    assert case.evidence.count() == 2
    assert sorted(case.evidence.values_list("original_name", flat=True)) == ["back.jpg", "front.jpg"]
    assert shopper.get(preview).status_code == 404  # the parked copies are gone


def test_someone_elses_stash_token_is_ignored(client, shopper, item):
    first = shopper.post(url(item), {"kind": "exchange", "reason": "quality_issue", "quantity": "1",
                                     "description": "x" * 2001, "evidence": [jpeg()]})
    token = re.search(r'name="stash" value="([0-9a-f]+)"', first.content.decode()).group(1)
    key = re.search(r'name="keep" value="([0-9a-f]+)"', first.content.decode()).group(1)
    from django.test import Client

    other = Client()
    other.force_login(item.order.consumer)  # same user, new session: the token is not theirs in this session
    assert other.get(f"/orders/items/{item.pk}/after-sales/photos/{token}/{key}/").status_code == 404


def test_no_reason_return_is_submitted_and_lands_on_the_case(shopper, item):
    response = shopper.post(url(item), {"kind": "return_refund", "reason": "no_reason", "quantity": "1",
                                        "amount": "94.00", "condition_intact": "on", "description": "不想要了"})
    case = AfterSalesCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (case.kind, case.reason, case.amount, case.freight_payer) == ("return_refund", "no_reason",
                                                                         case.amount, "consumer")
    assert str(case.amount) == "94.00"
    page = shopper.get(response["Location"]).content.decode()
    assert case.number in page and "售后申请已提交" in page


def test_errors_in_english(shopper, item):
    shopper.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = shopper.post(url(item), {"kind": "return_refund", "reason": "no_reason", "quantity": "1"})
    assert "A no-reason return needs your declaration" in field_block(response.content.decode(), "condition_intact")
