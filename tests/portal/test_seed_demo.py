"""seed_demo: a demo marketplace with cases in every lifecycle state, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from cases.choices import ClosureReason, State
from cases.models import AfterSalesCase, CaseEvent
from portal.models import Order, Product, Region, User
from tests.portal.test_import import snapshot

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_builds_every_state_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo1234" in out.getvalue() and "carol" in out.getvalue()
    states = set(AfterSalesCase.objects.values_list("state", flat=True))
    assert states == set(State.values)
    closures = set(AfterSalesCase.objects.filter(state=State.CLOSED).values_list("closure_reason", flat=True))
    assert closures == set(ClosureReason.values)
    cases, events = AfterSalesCase.objects.count(), CaseEvent.objects.count()
    before = snapshot()

    call_command("seed_demo", stdout=StringIO())
    assert AfterSalesCase.objects.count() == cases and CaseEvent.objects.count() == events
    assert snapshot() == before

    assert Product.objects.count() >= 30
    categories = set(Product.objects.values_list("category", flat=True))
    assert {"fresh", "custom_made", "virtual", "periodical", "electronics"} <= categories
    assert Product.objects.filter(no_reason_returns=False).exists()
    assert Product.objects.filter(category="electronics", warranty_days=365).exists()
    for name in ("alice", "bob", "carol", "dave", "admin"):
        assert User.objects.get(username=name).check_password("demo1234")
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="dave").is_supervisor and not User.objects.get(username="carol").is_supervisor
    assert User.objects.filter(role="consumer", good_standing=False).exists()
    assert sorted(User.objects.get(username="bob").shops.values_list("code", flat=True)) == ["shuma", "youyi"]
    heidi_case = AfterSalesCase.objects.get(consumer__username="heidi", state=State.AWAITING_RETURN)
    assert Region.resolve(heidi_case.order_item.order.address_region).is_remote
    assert Order.objects.filter(shipped_at__isnull=True).exists()
    assert Order.objects.filter(shipped_at__isnull=False, signed_at__isnull=True).exists()
    assert Order.objects.exclude(coupon_code="").exists() and Order.objects.filter(points_used__gt=0).exists()
    assert Order.objects.filter(return_shipping_insurance=True).exists()
    # service quality (issue #18): one shop over the dispute threshold, one flagged buyer, ratings, figures
    from cases.quality.models import BuyerStanding, CaseRating, QualityEvent, ShopStanding
    from cases.scorecard import shop_scorecard
    from portal.models import Shop

    assert list(ShopStanding.objects.filter(over_dispute_threshold=True).values_list("shop__code", flat=True)) == [
        "xianguo"]
    assert list(BuyerStanding.objects.filter(serial_returner=True).values_list("consumer__username", flat=True)) == [
        "judy"]
    assert QualityEvent.objects.filter(kind="dispute_consequence_on").count() == 1
    assert CaseRating.objects.count() == 4
    card = shop_scorecard(Shop.objects.get(code="xianguo")).as_json()
    assert card["held_to_thresholds"] and card["dispute_rate"] is not None and card["rating"]["count"] == 3
    assert card["first_response_hours"] is not None and card["intervention_rate"] is not None
    # (refund_hours fills once the workers have paid the refunds: payouts run after commit)
