"""On a phone (375 px, Chromium): the merchant works from the card queue, the shopper's page follows live."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.models import AfterSalesCase, Deadline
from tests import factories as f
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until(check, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.25)
    return check()


@pytest.fixture
def shop_cases():  # type: ignore[no-untyped-def]
    bob = f.MerchantFactory(username="bob")
    shop = f.ShopFactory(code="acme", name="ACME 旗舰店", members=[bob])
    alice = f.ConsumerFactory(username="alice")
    made = []
    for sku, name, paid in [("TEE-1", "纯棉圆领T恤", "59.00"), ("MUG-2", "陶瓷马克杯", "35.00")]:
        product = f.ProductFactory(sku=sku, name=name, shop=shop)
        order = f.OrderFactory(consumer=alice, shop=shop)
        item = f.OrderItemFactory(order=order, product=product, quantity=1, unit_price=paid, paid=paid)
        made.append(services.case_submit(consumer=alice, order_item_id=item.pk, kind="refund_only",
                                         reason="no_reason", condition_intact=True))
    return {"bob": bob, "alice": alice, "cases": made}


def test_merchant_approves_from_the_card_queue_at_375(mobile_page, shop_cases):  # type: ignore[no-untyped-def]
    page = mobile_page
    login(page, "bob")
    page.goto(page.base_url + "/merchant/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    card = page.locator(f"tr[data-case='{shop_cases['cases'][0].number}']")
    action = card.locator("td.act a")
    expect(action).to_have_text("处理")
    box, row = action.bounding_box(), card.bounding_box()
    assert box and row and box["x"] + box["width"] <= 375 and row["height"] < 260  # a card, not a tall table row
    expect(card.locator("td.amount")).to_be_visible()
    expect(card.locator("[data-countdown]")).to_be_visible()
    screenshot(page, "merchant-queue-375")
    action.click()
    actions, request = page.locator("#actions").bounding_box(), page.locator("#req-title").bounding_box()
    assert actions and request and actions["y"] < request["y"]  # 处理 comes first on a phone
    assert actions["y"] < 812  # in the first screen
    page.click("[data-testid=approve]")
    expect(page.locator("#confirm-dialog")).to_contain_text("¥59.00")
    page.click("#confirm-dialog [data-dialog-ok]")
    expect(page.locator("[data-testid=case-state]")).not_to_have_text("待商家处理")
    assert AfterSalesCase.objects.get(pk=shop_cases["cases"][0].pk).state == "refunded"


def test_the_shoppers_page_follows_the_merchant_without_a_reload(mobile_page, shop_cases):  # type: ignore[no-untyped-def]
    page = mobile_page
    case = shop_cases["cases"][1]
    login(page, "alice")
    page.goto(page.base_url + f"/cases/{case.pk}/")
    badge = page.locator("#live-head [data-state]")
    expect(badge).to_have_attribute("data-state", "pending_merchant")
    page.evaluate("document.body.dataset.marker = 'same page'")
    services.case_reject(case_id=case.pk, actor=shop_cases["bob"], reason="商品已拆封使用，不符合无理由退货")
    assert _wait_until(lambda: badge.get_attribute("data-state") == "rejected"), "the state follows within seconds"
    expect(page.locator("#live-left")).to_contain_text("商品已拆封使用")
    assert page.evaluate("document.body.dataset.marker") == "same page"  # no reload


def test_countdowns_tick_on_the_card_queue_and_the_case_page_at_375(mobile_page, shop_cases):  # type: ignore[no-untyped-def]
    """Minutes and seconds when less than an hour is left, and they move each second without a reload."""
    page = mobile_page
    case = shop_cases["cases"][0]
    due = timezone.now() + timedelta(minutes=20)
    Deadline.objects.filter(case=case, fired_at__isnull=True, cancelled_at__isnull=True).update(due_at=due)
    AfterSalesCase.objects.filter(pk=case.pk).update(deadline_due_at=due)
    login(page, "bob")
    page.goto(page.base_url + "/merchant/")
    card = page.locator(f"tr[data-case='{case.number}']")
    clock = card.locator("[data-countdown]")
    expect(clock).to_contain_text("秒")
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=5000)  # the page's script ticks it
    box = clock.bounding_box()
    assert box and box["x"] + box["width"] <= 375
    page.goto(page.base_url + f"/merchant/cases/{case.pk}/")
    head = page.locator("[data-countdown]").first
    expect(head).to_contain_text("秒")
    shown = head.inner_text()
    expect(head).not_to_have_text(shown, timeout=5000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
