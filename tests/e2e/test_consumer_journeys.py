"""A shopper's journeys in a real browser: request, refusal explained, photos, pickup, escalation, countdown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases import services
from tests import factories as f
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _alice_with_item(**product):  # type: ignore[no-untyped-def]
    alice = f.ConsumerFactory(username="alice")
    bob = f.MerchantFactory(username="bob")
    shop = f.ShopFactory(code="acme", name="ACME 旗舰店", members=[bob])
    order = f.OrderFactory(consumer=alice, shop=shop, number="T20261101")
    defaults = {"shop": shop, "name": "纯棉T恤 白色 L", "sku": "TEE-1"}
    defaults.update(product)
    item = f.OrderItemFactory(order=order, quantity=2, unit_price="99.00", paid="188.00",
                              product=f.ProductFactory(**defaults))
    return alice, bob, item


def _more_orders(alice, shop):  # type: ignore[no-untyped-def]
    crab = f.OrderFactory(consumer=alice, shop=shop, number="T20261102")
    return f.OrderItemFactory(order=crab, product=f.ProductFactory(shop=shop, name="阳澄湖大闸蟹 礼盒", category="fresh",
                                                                   sku="CRAB-1", warranty_days=0), paid="268.00")


def test_no_reason_return_from_orders_to_case(page):
    alice, _bob, item = _alice_with_item()
    _more_orders(alice, item.order.shop)
    login(page, "alice")
    page.goto(page.base_url + "/orders/")
    expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    screenshot(page, "consumer-orders")
    page.locator(f"#item-{item.pk}").get_by_role("link", name="申请售后").click()
    expect(page.get_by_role("heading", name="选择售后类型")).to_be_visible()
    page.locator("a.choice[data-kind=return_refund]").click()
    form = page.locator("#case-form")
    expect(form).to_be_visible()
    expect(page.locator("input[name=amount]")).to_have_value("188.00")
    page.get_by_label("七天无理由").check()
    expect(page.locator("[data-freight-summary]")).to_have_text("买家承担退货运费")
    page.get_by_label("申请数量").fill("1")
    expect(page.locator("input[name=amount]")).to_have_value("94.00")  # follows the quantity
    page.get_by_label("问题描述").fill("尺码偏大")
    page.get_by_label("我确认商品完好、配件齐全、不影响二次销售").check()
    screenshot(page, "consumer-form")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("售后申请已提交")).to_be_visible()
    expect(page.locator(".stepper li.current")).to_contain_text("商家处理")
    expect(page.locator(".deadline")).to_contain_text("超时将自动同意")
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^4天23小时$"))
    expect(page.locator(".badge[data-state]")).to_have_text("待商家处理")
    screenshot(page, "consumer-case")


def test_refusal_on_excluded_item_is_explained(page):
    alice, _bob, item = _alice_with_item(category="fresh", name="阳澄湖大闸蟹 礼盒", warranty_days=0)
    login(page, "alice")
    page.goto(page.base_url + "/orders/")
    card = page.locator(f"#item-{item.pk}")
    card.locator("summary").click()
    expect(card.locator("[data-kind=return_refund] [data-code=category_excluded]")).to_contain_text(
        "不支持七天无理由退换")
    expect(card.locator("[data-kind=repair]")).to_contain_text("该商品不提供保修服务")
    page.goto(page.base_url + f"/orders/items/{item.pk}/after-sales/new/?kind=return_refund")
    expect(page.locator("input[name=reason][value=no_reason]")).to_have_count(0)
    expect(page.locator("input[name=reason][value=quality_issue]")).to_have_count(1)
    expect(page.locator("#field-reason [data-code=category_excluded]")).to_contain_text("七天无理由")


def test_upload_two_photos_with_previews(page):
    alice, _bob, item = _alice_with_item()
    login(page, "alice")
    page.goto(page.base_url + f"/orders/items/{item.pk}/after-sales/new/?kind=exchange")
    page.get_by_label("质量问题").check()
    photos = page.locator("#id_evidence")
    photos.set_input_files([{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    expect(page.locator("[data-photo-error]")).to_contain_text("仅支持 JPEG、PNG、WebP 图片和 PDF 文件")
    photos.set_input_files([
        {"name": "seam.jpg", "mimeType": "image/jpeg", "buffer": f.jpeg_bytes()},
        {"name": "label.png", "mimeType": "image/png", "buffer": f.png_bytes()},
    ])
    expect(page.locator("[data-photo-error]")).to_be_hidden()
    expect(page.locator("#new-previews img")).to_have_count(2)
    page.get_by_label("问题描述").fill("领口开线")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("售后申请已提交")).to_be_visible()
    gallery = page.locator(".gallery img")
    expect(gallery).to_have_count(2)
    page.wait_for_function("() => [...document.querySelectorAll('.gallery img')].every(i => i.naturalWidth > 0)")


def _pickup_regions():  # type: ignore[no-untyped-def]
    """The regions the booking reads (migrations make them all; a flushed transactional DB may not have them)."""
    from portal.models import Region

    for code, name, parent, level in [("310000", "上海市", None, 1), ("310100", "上海市辖区", "310000", 2),
                                      ("310104", "徐汇区", "310100", 3)]:
        Region.objects.update_or_create(code=code, defaults={"name": name, "parent_id": parent, "level": level,
                                                             "remote": False, "covered": True})


def test_book_a_pickup_slot_and_cancel(page, live_server):
    from pickups.courier_secrets import new_secret
    from pickups.models import Courier

    _pickup_regions()
    # The migration's courier, re-made when an earlier transactional test flushed it.
    Courier.objects.update_or_create(code="simulated", defaults={
        "name": "模拟快递", "secret": new_secret(), "base_url": f"{live_server.url}/simulated-courier/",
        "max_weight_grams": 30000, "max_side_cm": 150, "capacity_per_slot": 10, "first_kg_fee": "12.00",
        "extra_kg_fee": "2.00", "covers_remote": False, "is_default": True, "active": True})
    alice, bob, item = _alice_with_item()
    case = services.case_submit(consumer=alice, order_item_id=item.pk, kind="return_refund", reason="no_reason",
                                quantity=1, condition_intact=True)
    services.case_approve(case_id=case.pk, actor=bob)
    login(page, "alice")
    page.goto(page.base_url + f"/cases/{case.pk}/")
    expect(page.locator(".deadline")).to_contain_text("内寄回商品，超时售后将关闭")
    panel = page.locator("#pickup")
    expect(panel).to_contain_text("¥12.00")
    expect(panel).to_contain_text("您承担")
    panel.locator(".slots label.choice").first.click()
    screenshot(page, "consumer-pickup")
    panel.get_by_role("button", name="预约上门取件").click()
    state = page.locator("[data-pickup-state]")
    expect(state).to_have_attribute("data-pickup-state", re.compile("requested|dispatched"))
    expect(state).to_contain_text(re.compile("已预约|快递员已接单"))
    page.get_by_role("button", name="取消预约").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-dialog [data-dialog-ok]").click()
    expect(page.get_by_text("已取消上门取件")).to_be_visible()
    expect(page.locator("[data-pickup-state]")).to_have_attribute("data-pickup-state", "cancelled")


def test_escalate_a_rejected_case(page):
    alice, bob, item = _alice_with_item()
    case = services.case_submit(consumer=alice, order_item_id=item.pk, kind="return_refund", reason="no_reason",
                                quantity=1, condition_intact=True)
    services.case_reject(case_id=case.pk, actor=bob, reason="商品已下水，影响二次销售")
    login(page, "alice")
    page.goto(page.base_url + f"/cases/{case.pk}/")
    expect(page.locator(".stepper li.stopped")).to_contain_text("商家已拒绝")
    expect(page.locator(".timeline")).to_contain_text("理由：商品已下水，影响二次销售")
    page.locator("#escalate summary").click()
    page.get_by_label("您的陈述").fill("商品未下水，吊牌完好，有开箱视频")
    page.locator("#escalate").get_by_role("button", name="申请平台介入").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("申请后不能撤回")
    page.locator("#confirm-dialog [data-dialog-ok]").click()
    expect(page.locator(".badge[data-state]")).to_have_text("平台介入中")
    expect(page.locator(".timeline")).to_contain_text("陈述：商品未下水，吊牌完好，有开箱视频")
    expect(page.locator("#escalate")).to_have_count(0)


def test_countdown_is_live(page, settings):
    settings.CASE_DEADLINES_SECONDS = {"merchant_response": 600}
    alice, _bob, item = _alice_with_item()
    case = services.case_submit(consumer=alice, order_item_id=item.pk, kind="return_refund", reason="no_reason",
                                quantity=1, condition_intact=True)
    login(page, "alice")
    page.goto(page.base_url + f"/cases/{case.pk}/")
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^(9|10)分\d{1,2}秒$"))
    first = countdown.text_content()
    page.wait_for_function("t => document.querySelector('[data-countdown]').textContent !== t", arg=first)
    expect(page.locator(".deadline")).to_contain_text("商家需在")
    expect(page.locator(".deadline")).to_have_attribute("data-party", "merchant")


def test_english_and_phone_layout(mobile_page):
    alice, bob, item = _alice_with_item()
    crab = _more_orders(alice, item.order.shop)
    case = services.case_submit(consumer=alice, order_item_id=item.pk, kind="return_refund", reason="no_reason",
                                quantity=1, condition_intact=True, description="尺码偏大")
    services.message_post(case_id=case.pk, author=bob, body="您好，已收到申请，请耐心等待")
    page = mobile_page
    login(page, "alice")
    width = "() => document.documentElement.scrollWidth"
    for path, name in [("/orders/", "consumer-orders-mobile"), (f"/cases/{case.pk}/", "consumer-case-mobile"),
                       (f"/orders/items/{crab.pk}/after-sales/new/?kind=return_refund", "consumer-form-mobile"),
                       ("/cases/", "consumer-cases-mobile"), ("/notifications/", "consumer-notifications-mobile")]:
        page.goto(page.base_url + path)
        assert page.evaluate(width) <= 375, path
        screenshot(page, name)
    page.select_option("#lang-select", "en")
    page.wait_for_url(re.compile("/notifications/"))
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.goto(page.base_url + f"/cases/{case.pk}/")
    expect(page.locator(".deadline")).to_contain_text("The merchant must respond within")
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^4 d 23 h$"))
    page.keyboard.press("Tab")
    focused = page.evaluate("() => getComputedStyle(document.activeElement).boxShadow")
    assert focused and focused != "none"  # visible focus ring on the first stop (skip link)
