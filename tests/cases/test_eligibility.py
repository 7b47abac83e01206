"""Every eligibility code of lifecycle.md, in its order, and the windows at their edges."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import AfterSalesCase, CaseEvent
from cases.services import CaseError
from tests import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", f.jpeg_bytes(), content_type="image/jpeg")


def submit(consumer, item, **kw):  # type: ignore[no-untyped-def]
    args = {"kind": "return_refund", "reason": "no_reason", "quantity": 1, "condition_intact": True}
    args.update(kw)
    return services.case_submit(consumer=consumer, order_item_id=item.pk, **args)


def refused(code: str, consumer, item, **kw) -> CaseError:  # type: ignore[no-untyped-def]
    before = (AfterSalesCase.objects.count(), CaseEvent.objects.count())
    with pytest.raises(CaseError) as info:
        submit(consumer, item, **kw)
    assert info.value.code == code, (info.value.code, info.value.detail)
    assert (AfterSalesCase.objects.count(), CaseEvent.objects.count()) == before
    return info.value


def test_not_your_order_is_404_before_anything_else(item):
    other = f.ConsumerFactory()
    err = refused("not_your_order", other, item, quantity=99)
    assert err.status == 404


def test_case_already_open(consumer, item):
    submit(consumer, item)
    refused("case_already_open", consumer, item)


def test_not_delivered_and_the_refund_only_exceptions(consumer, shop):
    unsigned = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=None))
    refused("not_delivered", consumer, unsigned, kind="return_refund")
    refused("not_delivered", consumer, unsigned, kind="refund_only", reason="quality_issue", evidence_files=[photo()])
    case = submit(consumer, unsigned, kind="refund_only", reason="not_received", condition_intact=False)
    assert case.state == "pending_merchant" and case.freight_payer is None
    unshipped = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=None, shipped_at=None))
    case = submit(consumer, unshipped, kind="refund_only", reason="not_shipped")
    assert case.amount == Decimal("99.00")


def test_reason_not_applicable(consumer, shop, item):
    shipped = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=None))
    refused("reason_not_applicable", consumer, shipped, kind="refund_only", reason="not_shipped")
    unshipped = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=None, shipped_at=None))
    refused("reason_not_applicable", consumer, unshipped, kind="refund_only", reason="not_received")
    refused("reason_not_applicable", consumer, item, kind="return_refund", reason="not_received")
    refused("reason_not_applicable", consumer, item, kind="repair", reason="no_reason")


def test_quantity_and_amount(consumer, item):
    refused("quantity_exceeds_purchased", consumer, item, quantity=3)
    err = refused("amount_exceeds_paid", consumer, item, quantity=1, amount="94.01")
    assert err.field == "amount"
    refused("amount_not_allowed", consumer, item, kind="exchange", amount="1.00")
    case = submit(consumer, item, quantity=2, amount=None)
    assert case.amount == Decimal("188.00")


def test_rounding_remainder_on_last_unit(consumer, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=3, paid="100.00")
    refused("amount_exceeds_paid", consumer, item, quantity=1, amount="33.34")
    case = submit(consumer, item, quantity=3)
    assert case.amount == Decimal("100.00")


def test_category_excluded_and_condition(consumer, shop):
    fresh = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop),
                               product=f.ProductFactory(shop=shop, category="fresh"))
    refused("category_excluded", consumer, fresh)
    opted_out = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop),
                                   product=f.ProductFactory(shop=shop, no_reason_returns=False))
    refused("category_excluded", consumer, opted_out)
    ok = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    err = refused("condition_required", consumer, ok, condition_intact=False)
    assert err.field == "condition_intact"


def test_warranty(consumer, shop):
    none = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop),
                              product=f.ProductFactory(shop=shop, warranty_days=0))
    refused("warranty_expired", consumer, none, kind="repair", reason="quality_issue", evidence_files=[photo()])
    old = f.OrderItemFactory(
        order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=datetime.now(SH) - timedelta(days=40)),
        product=f.ProductFactory(shop=shop, warranty_days=30))
    refused("warranty_expired", consumer, old, kind="repair", reason="other")
    case = submit(consumer, f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop)),
                  kind="repair", reason="other")
    assert case.amount == Decimal("0.00") and case.freight_payer == "consumer"


def test_evidence_and_damage_report_window(consumer, shop):
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop,
                                                   signed_at=datetime.now(SH) - timedelta(hours=49)))
    refused("evidence_required", consumer, item, reason="damaged_in_transit")
    refused("report_window_expired", consumer, item, reason="damaged_in_transit", evidence_files=[photo()])
    fresh = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop,
                                                    signed_at=datetime.now(SH) - timedelta(hours=47)))
    case = submit(consumer, fresh, reason="damaged_in_transit", evidence_files=[photo()])
    assert case.freight_payer == "merchant" and case.evidence.count() == 1


def test_insurance_pays_freight_when_consumer_would(consumer, shop):
    insured = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, return_shipping_insurance=True))
    assert submit(consumer, insured).freight_payer == "insurance"


@pytest.mark.parametrize(
    ("kind", "reason", "days"),
    [("return_refund", "no_reason", 7), ("exchange", "no_reason", 7), ("return_refund", "quality_issue", 7),
     ("exchange", "quality_issue", 15), ("return_refund", "other", 15), ("exchange", "other", 15)],
)
def test_window_edges_in_shanghai_days(consumer, shop, time_machine, kind, reason, days):
    signed = datetime(2026, 11, 3, 23, 30, tzinfo=SH)  # late on the 3rd: day 1 is the 4th
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=signed,
                                                   shipped_at=signed - timedelta(days=1),
                                                   paid_at=signed - timedelta(days=2)))
    last_minute = datetime(2026, 11, 3 + days, 23, 59, tzinfo=SH)
    extra = {"evidence_files": [photo()]} if reason == "quality_issue" else {}
    time_machine.move_to(last_minute + timedelta(minutes=1), tick=False)
    refused("window_expired", consumer, item, kind=kind, reason=reason, **extra)
    time_machine.move_to(last_minute, tick=False)
    extra = {"evidence_files": [photo()]} if reason == "quality_issue" else {}
    case = submit(consumer, item, kind=kind, reason=reason, **extra)
    assert case.state == "pending_merchant"


def test_partial_refund_only_uses_money_not_units(consumer, merchant, item, django_capture_on_commit_callbacks):
    case = submit(consumer, item, kind="refund_only", reason="other", quantity=1, amount="30.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_approve(case_id=case.pk, actor=merchant)
    case.refresh_from_db()
    assert case.state == "refunded" and case.refund.amount == Decimal("30.00")
    # both units still claimable, minus the money already refunded
    refused("amount_exceeds_paid", consumer, item, quantity=2, amount="158.01")
    second = submit(consumer, item, quantity=2, amount=None)
    assert second.amount == Decimal("158.00")


def test_after_sales_options_explain(consumer, shop):
    from cases.policy import after_sales_options

    fresh = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop),
                               product=f.ProductFactory(shop=shop, category="fresh", warranty_days=0))
    options = {o.kind: o for o in after_sales_options(fresh)}
    assert "no_reason" not in options["return_refund"].open
    refusal = next(r for r in options["return_refund"].refused if r["reason"] == "no_reason")
    assert refusal["code"] == "category_excluded" and refusal["detail"]
    assert options["repair"].open == []
    assert "quality_issue" in options["exchange"].open
