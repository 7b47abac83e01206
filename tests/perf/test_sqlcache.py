"""portal.sqlcache: a compiled read gives what its queryset gives, for every set of arguments, and a shape
it cannot compile safely is run through the ORM every time (issue #26, round three)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cases import services
from portal import sqlcache
from portal.models import ApiToken, Shop, User
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    sqlcache.clear()
    yield
    sqlcache.clear()


def _shops(codes: list[str], name: str) -> object:
    return Shop.objects.filter(code__in=codes, name__gt=name).order_by("code").values("id", "code", "name")


def test_rows_equal_the_querysets_for_each_set_of_arguments():
    made = [f.ShopFactory(code=f"s-{i}", name=f"Shop {i}") for i in range(4)]
    first = sqlcache.rows("t-shops", _shops, codes=["s-0", "s-2"], name="")
    assert first == list(_shops(["s-0", "s-2"], "")) == [
        {"id": made[0].pk, "code": "s-0", "name": "Shop 0"}, {"id": made[2].pk, "code": "s-2", "name": "Shop 2"}]
    # the same shape with other values: the compiled statement, the new values' rows
    second = sqlcache.rows("t-shops", _shops, codes=["s-3", "s-1"], name="Shop 1")
    assert second == list(_shops(["s-3", "s-1"], "Shop 1")) == [{"id": made[3].pk, "code": "s-3", "name": "Shop 3"}]
    assert any(shape[0][0] == "t-shops" for shape in sqlcache.cached_shapes())


def test_objects_fill_select_related_and_annotations_like_the_queryset():
    merchant = f.MerchantFactory()
    shop = f.ShopFactory()
    shop.members.add(merchant)
    key = ApiToken.issue(merchant)

    def build(key_hash: str, now: object) -> object:
        return ApiToken.objects.select_related("user").filter(key_hash=key_hash, expires_at__gt=now).order_by("pk")[:1]

    found = sqlcache.objects("t-token", build, key_hash=ApiToken.hash_key(key), now=timezone.now())
    assert [t.pk for t in found] == [t.pk for t in build(ApiToken.hash_key(key), timezone.now())]
    assert found[0].user == merchant and found[0].user.role == "merchant"
    # expired by the time given: nothing, although the shape is compiled
    assert sqlcache.objects("t-token", build, key_hash=ApiToken.hash_key(key),
                            now=timezone.now() + timedelta(days=400)) == []


def test_a_lookup_that_transforms_its_value_is_not_compiled_and_still_answers():
    f.UserFactory(username="alice")
    f.UserFactory(username="bob")

    def build(prefix: str) -> object:
        return User.objects.filter(username__istartswith=prefix).values("username")

    assert sqlcache.rows("t-prefix", build, prefix="AL") == [{"username": "alice"}]
    assert sqlcache.rows("t-prefix", build, prefix="b") == [{"username": "bob"}]
    assert [v for k, v in sqlcache._cache.items() if k[0][0] == "t-prefix"] == [None]


def test_the_compiled_list_shows_each_merchant_only_their_shops_cases_and_forgets_a_demoted_one():
    """Who may see what is a parameter of the compiled statement, read at every request (api.md)."""
    consumer = f.ConsumerFactory()
    shops, merchants = [], []
    for i in range(2):
        shop = f.ShopFactory(code=f"sc-{i}")
        merchant = f.MerchantFactory(username=f"m{i}")
        shop.members.add(merchant)
        shops.append(shop)
        merchants.append(merchant)
    for shop in shops:
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other", quantity=1)
    clients = [Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(m)}") for m in merchants]
    for shop, client in zip(shops, clients, strict=True):
        body = client.get("/api/v1/cases/?ordering=deadline").json()
        assert body["count"] == 1 and [c["shop"] for c in body["results"]] == [shop.code]
    merchants[1].role = "consumer"
    merchants[1].save(update_fields=["role"])
    assert clients[1].get("/api/v1/cases/?ordering=deadline").json()["count"] == 0  # sees none of the shop's now
    merchants[0].is_active = False
    merchants[0].save(update_fields=["is_active"])
    assert clients[0].get("/api/v1/cases/?ordering=deadline").status_code == 401
