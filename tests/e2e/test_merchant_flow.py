"""The merchant desk in a real headless Chromium: queue, bulk approve, reject, receipt, metrics."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.merchant.models import ReplyTemplate
from cases.models import AfterSalesCase
from tests import factories as f
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _photo() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 360), (236, 240, 245))
    draw = ImageDraw.Draw(img)
    draw.rectangle((120, 80, 360, 300), fill=(214, 120, 60))
    draw.line((130, 100, 350, 280), fill=(60, 40, 30), width=6)  # the crack the consumer photographed
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return SimpleUploadedFile("crack.jpg", buf.getvalue(), "image/jpeg")


@pytest.fixture
def desk():  # type: ignore[no-untyped-def]
    """Shop acme with bob, consumers alice and bo, and cases in the states a desk sees every day."""
    bob = f.MerchantFactory(username="bob")
    shop = f.ShopFactory(code="acme", name="ACME 旗舰店", members=[bob])
    alice = f.ConsumerFactory(username="alice")
    bo = f.ConsumerFactory(username="bo_li")
    products = [f.ProductFactory(sku=sku, name=name, shop=shop) for sku, name in [
        ("TEE-1", "纯棉圆领T恤"), ("MUG-2", "陶瓷马克杯"), ("LAMP-3", "LED 台灯"), ("BAG-4", "帆布托特包"),
        ("KETTLE-5", "电热水壶"), ("SOCK-6", "羊毛袜三双装")]]

    def case(consumer, product, kind, reason, paid, hours_left=None, photo=False, **kw):  # type: ignore[no-untyped-def]
        order = f.OrderFactory(consumer=consumer, shop=shop)
        item = f.OrderItemFactory(order=order, product=product, quantity=1, unit_price=paid, paid=paid)
        c = services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason,
                                 condition_intact=True, description=kw.get("description", "收到后发现问题，申请售后"),
                                 evidence_files=[_photo()] if photo else [])
        if hours_left is not None:
            AfterSalesCase.objects.filter(pk=c.pk).update(
                deadline_due_at=timezone.now() + timedelta(hours=hours_left))
        return c

    cases = {
        "bulk1": case(alice, products[0], "refund_only", "no_reason", "59.00", hours_left=3),
        "bulk2": case(bo, products[1], "refund_only", "no_reason", "35.00", hours_left=10),
        "bulk3": case(alice, products[3], "refund_only", "no_reason", "89.00", hours_left=30),
        "reject": case(bo, products[4], "return_refund", "quality_issue", "199.00", hours_left=50, photo=True,
                       description="水壶底部有裂纹，烧水时漏水"),
        "exchange": case(alice, products[5], "exchange", "no_reason", "49.00", hours_left=100),
        "receipt": case(alice, products[2], "return_refund", "no_reason", "129.00"),
    }
    services.case_approve(case_id=cases["receipt"].pk, actor=bob)
    services.case_ship_return(case_id=cases["receipt"].pk, actor=alice, carrier="顺丰速运",
                              tracking_number="SF1234567890")
    services.message_post(case_id=cases["reject"].pk, author=bo, body="请尽快处理，谢谢")
    _history(shop, [alice, bo], products)
    ReplyTemplate.objects.create(shop=shop, title="请补充照片", body="您好，请补充商品整体及问题部位的清晰照片。")
    ReplyTemplate.objects.create(shop=shop, title="已安排退款", body="您好，退款已安排，请留意到账。")
    return cases


HISTORY_DAYS = 24


def _history(shop, consumers, products) -> None:  # type: ignore[no-untyped-def]
    """Four weeks of finished cases, written straight to the tables, so the metrics page has a trend."""
    from decimal import Decimal

    from cases.models import Refund

    now = timezone.now()
    kinds = [("refund_only", "no_reason"), ("return_refund", "quality_issue"), ("refund_only", "not_as_described"),
             ("exchange", "wrong_item"), ("return_refund", "no_reason"), ("repair", "other")]
    n = 0
    for day in range(1, HISTORY_DAYS + 1):
        for k in range((day * 7) % 4 + 1):
            n += 1
            kind, reason = kinds[(day + k) % len(kinds)]
            created = now - timedelta(days=day, hours=k * 3)
            order = f.OrderFactory(consumer=consumers[n % 2], shop=shop, paid_at=created - timedelta(days=4),
                                   shipped_at=created - timedelta(days=3), signed_at=created - timedelta(days=1))
            paid = Decimal(40 + (n * 37) % 160)
            item = f.OrderItemFactory(order=order, product=products[n % len(products)], paid=paid, unit_price=paid)
            refunded = kind in ("refund_only", "return_refund")
            case = AfterSalesCase.objects.create(
                number=f"AS-H{n:05d}", order_item=item, consumer=consumers[n % 2], shop=shop, kind=kind,
                reason=reason, amount=paid if refunded else Decimal("0.00"),
                state="refunded" if refunded else "completed", created_at=created,
                first_response_at=None if n % 5 == 0 else created + timedelta(minutes=20 + (n * 53) % 900),
                auto_approved=n % 5 == 0, escalated=n % 9 == 0,
            )
            if refunded:
                Refund.objects.create(case=case, amount=paid, idempotency_key=f"hist-{n}",
                                      created_at=created + timedelta(hours=6))


def test_merchant_works_the_queue(page, desk):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    login(page, "bob")
    page.goto(page.base_url + "/merchant/")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(6)
    # most urgent first: the 3-hour case is red and on top
    expect(rows.first).to_have_attribute("data-case", desk["bulk1"].number)
    expect(rows.first).to_have_class(re.compile("urgency-red"))
    expect(page.locator(f'tr[data-case="{desk["bulk2"].number}"]')).to_have_class(re.compile("urgency-amber"))
    screenshot(page, "merchant-queue")

    # sort by amount, then filter by kind
    page.select_option("#f-sort", "-amount")
    page.click("form.filters button[type=submit]")
    expect(rows.first).to_have_attribute("data-case", desk["reject"].number)
    page.select_option("#f-kind", "return_refund")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(2)
    page.click("text=退货运输中")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case", desk["receipt"].number)
    page.goto(page.base_url + "/merchant/")

    # bulk-approve three cases
    for key in ("bulk1", "bulk2", "bulk3"):
        page.check(f'tr[data-case="{desk[key].number}"] input[name=ids]')
    expect(page.locator("[data-selected-count]")).to_contain_text("3")
    page.click("[data-testid=bulk-approve]")
    summary = page.locator("[data-testid=bulk-summary]")
    expect(summary).to_contain_text("3 个售后单")
    expect(summary).to_contain_text("¥183.00")
    screenshot(page, "merchant-bulk-confirm")
    page.click("[data-testid=bulk-confirm]")
    expect(page.locator("[data-testid=bulk-result]")).to_contain_text("成功 3 个，失败 0 个")
    screenshot(page, "merchant-bulk-result")
    for key in ("bulk1", "bulk2", "bulk3"):
        desk[key].refresh_from_db()
        assert desk[key].state == "refunded"

    # reject one with a reason from the list, after answering with a template
    page.goto(page.base_url + f"/merchant/cases/{desk['reject'].pk}/")
    expect(page.locator("[data-testid=consumer-phone]")).to_have_text("138****5678")
    expect(page.locator(".gallery img")).to_have_count(1)
    page.select_option("#tpl-select", label="请补充照片")
    expect(page.locator("#reply-body")).to_have_value("您好，请补充商品整体及问题部位的清晰照片。")
    page.click("form.reply button[type=submit]")
    expect(page.locator(".chat li.mine")).to_have_count(1)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "merchant-case")
    page.click("text=拒绝申请")
    page.select_option("#id_reject-reason_code", "insufficient_evidence")
    page.fill("#id_reject-reason", "照片未显示裂纹位置，请补充后重新提交")
    page.click("[data-testid=reject]")
    expect(page.locator("#confirm-dialog")).to_contain_text("确定拒绝")
    page.click("#confirm-dialog [data-dialog-ok]")
    expect(page.locator("[data-testid=case-state]")).to_have_text("商家已拒绝")
    expect(page.locator(".timeline")).to_contain_text("照片未显示裂纹位置")

    # confirm receipt of a return
    page.goto(page.base_url + f"/merchant/cases/{desk['receipt'].pk}/")
    expect(page.locator("#actions")).to_contain_text("SF1234567890")
    page.click("[data-testid=confirm-receipt]")
    expect(page.locator("#confirm-dialog")).to_contain_text("立即退款")
    page.click("#confirm-dialog [data-dialog-ok]")
    expect(page.locator("[data-testid=case-state]")).to_have_text("退款成功")
    desk["receipt"].refresh_from_db()
    assert desk["receipt"].state == "refunded"

    # the metrics page
    page.goto(page.base_url + "/merchant/metrics/")
    history = AfterSalesCase.objects.filter(number__startswith="AS-H").count()
    expect(page.locator('[data-kpi="cases"]')).to_have_text(str(6 + history))
    expect(page.locator("svg.svg-chart").first).to_be_visible()
    screenshot(page, "merchant-metrics")
