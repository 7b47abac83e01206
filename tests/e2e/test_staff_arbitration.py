"""Platform staff in a real headless Chromium: take a case from the arbitration queue, weigh both sides'
evidence, rule a partial refund with compensation; a supervisor adds a holiday and deadlines move."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.deadlines import running_deadline
from cases.evidence import evidence_add
from cases.models import AfterSalesCase, Refund
from portal.models import Wallet
from tests import factories as f
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _photo(name: str, colour: tuple[int, int, int], crack: bool) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 360), (236, 240, 245))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((110, 60, 370, 300), radius=18, fill=colour)
    if crack:
        draw.line((140, 90, 250, 190, 230, 270), fill=(30, 30, 30), width=5)
    else:
        draw.rectangle((150, 110, 330, 160), fill=(255, 255, 255))
        draw.text((160, 125), "QC PASSED", fill=(21, 128, 61))
    buf = io.BytesIO()
    img.save(buf, "JPEG" if name.endswith(".jpg") else "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), "image/jpeg" if name.endswith(".jpg") else "image/png")


def _dispute(consumer, merchant, shop, product, paid: str, *, statement: str, reject: str, close_by=None):  # type: ignore[no-untyped-def]
    order = f.OrderFactory(consumer=consumer, shop=shop)
    item = f.OrderItemFactory(order=order, product=product, quantity=1, unit_price=paid, paid=paid)
    case = services.case_submit(
        consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="quality_issue", quantity=1,
        amount=paid, description="收到时屏幕边角有裂痕，开机后出现花屏", condition_intact=True,
        evidence_files=[_photo("crack.jpg", (70, 90, 120), True)],
    )
    services.case_reject(case_id=case.pk, actor=merchant, reason=reject)
    evidence_add(case_id=case.pk, user=merchant, files=[_photo("qc.png", (70, 90, 120), False)], note="出厂质检照片")
    services.case_escalate(case_id=case.pk, actor=consumer, statement=statement)
    if close_by is not None:
        services.case_close_evidence(case_id=case.pk, actor=close_by)
    return AfterSalesCase.objects.get(pk=case.pk)


@pytest.fixture
def platform():  # type: ignore[no-untyped-def]
    """A platform with a few shops, disputes in the queue and ordinary cases elsewhere."""
    bob = f.MerchantFactory(username="bob")
    acme = f.ShopFactory(code="acme", name="ACME 旗舰店", members=[bob])
    kim = f.MerchantFactory(username="kim")
    lumen = f.ShopFactory(code="lumen", name="流明灯具专营店", members=[kim])
    alice = f.ConsumerFactory(username="alice")
    bo = f.ConsumerFactory(username="bo_li")
    carol = f.make_staff("carol")
    erin = f.make_staff("erin")
    dave = f.make_staff("dave", supervisor=True)
    tablet = f.ProductFactory(sku="TAB-8", name="8 英寸平板电脑", shop=acme, category="electronics")
    lamp = f.ProductFactory(sku="LAMP-3", name="LED 护眼台灯", shop=lumen, category="home")
    main = _dispute(alice, bob, acme, tablet, "899.00", statement="商家拒绝承认质量问题，我有开箱照片，请平台判定",
                    reject="出厂检测正常，裂痕属于人为摔落")
    late = _dispute(bo, kim, lumen, lamp, "129.00", statement="灯罩破裂，商家一直不处理",
                    reject="签收时未当面验货", close_by=erin)
    AfterSalesCase.objects.filter(pk=late.pk).update(overdue=True, assignee=erin)
    for _i in range(3):  # ordinary traffic for the dashboard
        order = f.OrderFactory(consumer=bo, shop=lumen)
        item = f.OrderItemFactory(order=order, product=lamp, quantity=1, paid="129.00")
        pending = services.case_submit(consumer=bo, order_item_id=item.pk, kind="refund_only", reason="no_reason",
                                       quantity=1, amount="129.00", condition_intact=True)
    services.case_approve(case_id=pending.pk, actor=None)  # the last one approved by timeout
    return {"main": main, "late": late, "alice": alice, "carol": carol, "dave": dave}


def test_agent_takes_a_case_and_rules_a_partial_refund_with_compensation(page, platform):
    case = platform["main"]
    login(page, "carol")
    page.goto(page.base_url + "/admin/cases/aftersalescase/")
    expect(page.locator(".sh-counts")).to_contain_text("待裁决")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(platform["late"].number)  # the overdue ruling comes first
    screenshot(page, "staff-queue")

    # take the case from the queue with the changelist action
    page.locator(f"#result_list tr:has-text('{case.number}') input.action-select").check()
    page.select_option("select[name=action]", "assign_to_me")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1")
    assert AfterSalesCase.objects.get(pk=case.pk).assignee.username == "carol"

    page.click(f"text={case.number}")
    expect(page.locator("[data-testid=assignee]")).to_have_text("carol")
    consumer_side = page.locator("[data-testid=consumer-side]")
    merchant_side = page.locator("[data-testid=merchant-side]")
    expect(consumer_side).to_contain_text("我有开箱照片")
    expect(merchant_side).to_contain_text("人为摔落")
    for side in (consumer_side, merchant_side):
        img = side.locator("img").first
        expect(img).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    expect(page.locator("[data-testid=shop-history]")).to_contain_text("1")
    screenshot(page, "staff-review")

    ruling = page.locator("#ruling")
    ruling.locator("input[value=refund]").check()
    ruling.locator("#id_amount").fill("450.00")
    ruling.locator("#id_rationale").fill("开箱照片可见裂痕，商家质检照片无法排除运输损坏；部分退款，买家保留商品。")
    ruling.locator("#id_compensation_points").fill("500")
    ruling.locator("button[type=submit]").click()
    page.click("#confirm-dialog [data-dialog-ok]")
    expect(page.locator(".messagelist")).to_contain_text("退款成功")
    expect(page.locator("[data-testid=case-state]")).to_have_text("退款成功")
    expect(page.locator("[data-testid=refund]")).to_contain_text("450.00")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("补偿积分 500")
    screenshot(page, "staff-ruled")

    refund = Refund.objects.get(case=case)
    assert refund.amount.to_eng_string() == "450.00"
    # the consumer's wallet: 500 compensation points, once
    wallet = Wallet.objects.get(user=platform["alice"])
    assert wallet.points == 500
    page.goto(page.base_url + f"/admin/portal/wallet/{wallet.pk}/change/")
    expect(page.locator("body")).to_contain_text(f"平台裁决补偿 {case.number}")
    expect(page.locator("div.field-points")).to_contain_text("500")


def test_supervisor_adds_a_holiday_and_running_deadlines_move(page, platform):
    late = platform["late"]
    due_before = running_deadline(late).due_at
    login(page, "dave")
    page.goto(page.base_url + "/admin/cases/aftersalescase/dashboard/")
    expect(page.locator("[data-testid=overdue-rulings]")).to_have_text("1")
    expect(page.locator("[data-testid=top-shops]")).to_contain_text("流明灯具专营店")
    screenshot(page, "staff-dashboard")

    tomorrow = timezone.localtime(timezone.now() + timedelta(days=1)).date()
    page.goto(page.base_url + "/admin/cases/holiday/add/")
    page.fill("#id_name", "平台系统升级")
    page.fill("#id_start_date", tomorrow.isoformat())
    page.fill("#id_end_date", (tomorrow + timedelta(days=1)).isoformat())
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text(re.compile(r"[1-9]\d* 个截止时间"))
    screenshot(page, "staff-holiday")
    late.refresh_from_db()
    assert running_deadline(late).due_at == due_before + timedelta(days=2)

    shown = timezone.localtime(due_before + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    page.goto(page.base_url + "/admin/cases/deadline/?running=yes")
    expect(page.locator("#result_list")).to_contain_text(shown)
    screenshot(page, "staff-holiday-deadlines")
    page.goto(page.base_url + f"/admin/cases/aftersalescase/{late.pk}/review/")
    expect(page.locator(".sh-case-head")).to_contain_text(shown)


def test_agent_rules_on_a_phone(mobile_page, platform):  # type: ignore[no-untyped-def]
    """The review at 375 px: nothing wider than the screen; the ruling asks before it moves money."""
    page = mobile_page
    case = platform["main"]
    login(page, "carol")
    page.goto(page.base_url + f"/admin/cases/aftersalescase/{case.pk}/review/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    ruling = page.locator("#ruling")
    ruling.locator("input[value=refund]").check()
    ruling.locator("#id_amount").fill("300.00")
    ruling.locator("button[type=submit]").click()  # no rationale: told so, not asked to confirm
    expect(page.locator("#ruling .sh-field-error")).to_be_visible()
    assert not page.evaluate("!!document.querySelector('dialog[open]')")
    assert page.url.endswith(f"/{case.pk}/review/")  # the page's own address, not the POST URL
    expect(page.locator("#id_rationale")).to_be_focused()
    ruling = page.locator("#ruling")
    ruling.locator("#id_rationale").fill("照片可见裂痕，部分退款。")
    ruling.locator("button[type=submit]").click()
    page.click("#confirm-dialog [data-dialog-ok]")
    expect(page.locator("[data-testid=case-state]")).to_have_text("退款成功")
    screenshot(page, "staff-ruled-375")
