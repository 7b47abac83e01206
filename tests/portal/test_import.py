"""Marketplace import (api.md "Marketplace data"): all or nothing, idempotent, paths in errors."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portal.importer import ImportError_
from portal.importer import import_document as api_import_document
from portal.models import Order, OrderItem, Product, Shop, User
from tests import factories as f
from tests.portal.docs import DELETE, big_doc, doc

pytestmark = pytest.mark.django_db


def import_document(document: object) -> dict:
    """The operator's import (the command's rules: it may create staff); the API's rules are in
    test_import_authority.py."""
    return api_import_document(document, operator=True)


def snapshot() -> dict[str, list]:
    """Every value the import may write, to prove a second import changes nothing."""
    return {
        "users": list(User.objects.order_by("username").values_list(
            "username", "password", "role", "email", "good_standing", "is_staff")),
        "groups": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        "members": sorted(Shop.members.through.objects.values_list("shop__code", "user__username")),
        "shops": list(Shop.objects.order_by("code").values()),
        "products": list(Product.objects.order_by("sku").values()),
        "orders": list(Order.objects.order_by("number").values()),
        "items": list(OrderItem.objects.order_by("id").values()),
    }


def test_valid_document_creates_everything_once():
    counts = import_document(doc())
    assert counts["created"] == {"users": 5, "shops": 2, "products": 3, "orders": 3, "items": 5}
    assert counts["users"] == 5 and counts["orders"] == 3

    alice = User.objects.get(username="imp_alice")
    assert alice.check_password("secret123") and alice.role == "consumer" and alice.email == "a@example.com"
    assert not User.objects.get(username="imp_erin").good_standing
    carol, dave = User.objects.get(username="imp_carol"), User.objects.get(username="imp_dave")
    assert carol.is_platform_staff and not carol.is_supervisor
    assert dave.is_supervisor and dave.has_perm("cases.rule_case")
    bob = User.objects.get(username="imp_bob")
    assert sorted(bob.shops.values_list("code", flat=True)) == ["imp-acme", "imp-fruit"]

    acme = Shop.objects.get(code="imp-acme")
    assert (acme.return_region, acme.return_line, acme.return_phone) == ("330106", "文三路 1 号", "0571-1")
    tee = Product.objects.get(sku="IMP-TEE")
    assert (tee.length_cm, tee.width_cm, tee.height_cm, tee.longest_side_cm) == (30, 20, 5, 30)

    order = Order.objects.get(number="IMP-1")
    assert order.points_used == 200 and order.return_shipping_insurance
    assert (order.coupon_code, order.coupon_value) == ("C-9", Decimal("10.00"))
    assert order.address_region == "310104" and order.address_contact == "Alice"
    items = list(order.items.order_by("position"))
    assert [i.product.sku for i in items] == ["IMP-TEE", "IMP-TEE", "IMP-PHONE"]
    assert items[1].paid == Decimal("99.50") and isinstance(items[1].paid, Decimal)
    assert items[1].unit_price == Decimal("99.00")
    second = Order.objects.get(number="IMP-2")
    assert second.shipped_at is None and second.signed_at is None and second.coupon_value is None
    assert second.paid_at.isoformat() == "2026-11-05T08:00:00+00:00"


def test_second_import_changes_nothing():
    import_document(doc())
    before = snapshot()
    counts = import_document(doc())
    assert counts["created"] == {"users": 0, "shops": 0, "products": 0, "orders": 0, "items": 0}
    assert counts["updated"] == {"users": 0, "shops": 0, "products": 0, "orders": 0, "items": 0}
    assert counts["unchanged"] == {"shops": 2, "users": 5, "products": 3, "orders": 3}
    assert snapshot() == before


def test_reimport_updates_in_place_and_keeps_item_ids():
    import_document(doc())
    ids = list(Order.objects.get(number="IMP-1").items.order_by("position").values_list("id", flat=True))
    changed = doc(**{"orders.0.items.1.quantity": 5, "orders.0.points_used": 0, "users.0.password": "newpass99",
                     "users.3.supervisor": False, "users.1.shops": ["imp-acme"], "shops.1.name": "鲜果园 2",
                     "orders.0.coupon": DELETE})
    counts = import_document(changed)
    assert counts["created"]["orders"] == 0 and counts["updated"]["orders"] == 1
    assert counts["updated"]["users"] == 2 and counts["updated"]["shops"] == 1  # a new password is no change
    order = Order.objects.get(number="IMP-1")
    assert list(order.items.order_by("position").values_list("id", flat=True)) == ids
    assert order.items.get(position=2).quantity == 5 and order.points_used == 0 and order.coupon_code == ""
    assert User.objects.get(username="imp_alice").check_password("secret123")  # set at creation only
    assert not User.objects.get(username="imp_dave").is_supervisor
    assert list(User.objects.get(username="imp_bob").shops.values_list("code", flat=True)) == ["imp-acme"]


def test_references_may_resolve_against_the_database(consumer, shop):
    product = f.ProductFactory(sku="DB-SKU", shop=shop)
    counts = import_document({"orders": [{
        "number": "DB-1", "consumer": consumer.username, "shop": shop.code, "paid_at": "2026-11-01T10:00:00+08:00",
        "address": {"region": "650102"}, "items": [{"sku": product.sku, "quantity": 1, "unit_price": 1, "paid": 1}],
    }]})
    assert counts["created"]["orders"] == 1
    assert import_document({"users": [{"username": "solo", "password": "pw123456", "role": "consumer"}]})[
        "created"]["users"] == 1


BAD = [
    ({"users.1.role": "boss"}, "users[1].role"),
    ({"orders.0.items.0.sku": "NOPE"}, "orders[0].items[0].sku"),
    ({"orders.2.paid_at": "yesterday"}, "orders[2].paid_at"),
    ({"orders.2.paid_at": "2026-11-06T08:00:00"}, "orders[2].paid_at"),  # naive: no offset
    ({"products.0.weight_grams": -1}, "products[0].weight_grams"),
    ({"shops.0.return_address.region": "33010"}, "shops[0].return_address.region"),
    ({"shops.0.return_address.region": "990000"}, "shops[0].return_address.region"),
    ({"orders.1.items.0.quantity": 0}, "orders[1].items[0].quantity"),
    ({"orders.1.items.0.paid": "-1.00"}, "orders[1].items[0].paid"),
    ({"orders.1.items.0.paid": "1.001"}, "orders[1].items[0].paid"),
    ({"orders.1.shipping_fee": 1.5e400}, "orders[1].shipping_fee"),
    ({"orders.0.coupon.value": "ten"}, "orders[0].coupon.value"),
    ({"orders.0.consumer": "imp_bob"}, "orders[0].consumer"),
    ({"orders.0.consumer": "ghost"}, "orders[0].consumer"),
    ({"orders.2.items.0.sku": "IMP-APPLE"}, "orders[2].items[0].sku"),  # another shop's product
    ({"orders.1.address": DELETE}, "orders[1].address"),
    ({"orders.1.items": []}, "orders[1].items"),
    ({"products.2.shop": "nowhere"}, "products[2].shop"),
    ({"products.1.size_cm": [1, 2]}, "products[1].size_cm"),
    ({"users.1.shops": ["imp-acme", "nowhere"]}, "users[1].shops[1]"),
    ({"users.4.good_standing": "yes"}, "users[4].good_standing"),
    ({"users.0.username": DELETE}, "users[0].username"),
    ({"orders.1.number": "IMP-1"}, "orders[1].number"),
]


@pytest.mark.parametrize(("changes", "path"), BAD, ids=[p for _, p in BAD])
def test_one_bad_value_rejects_the_whole_document(changes, path):
    before = snapshot()
    with pytest.raises(ImportError_) as excinfo:
        import_document(doc(**changes))
    assert excinfo.value.path == path
    assert snapshot() == before


@pytest.mark.parametrize(("changes", "path"), BAD[:6], ids=[p for _, p in BAD[:6]])
def test_bad_document_via_command_writes_nothing(tmp_path, changes, path):
    file = tmp_path / "doc.json"
    file.write_text(json.dumps(doc(**changes), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_marketplace", str(file), stdout=StringIO(), stderr=StringIO())
    assert path in str(excinfo.value)
    assert User.objects.filter(username__startswith="imp_").count() == 0
    assert Order.objects.count() == 0 and Shop.objects.count() == 0


@pytest.mark.parametrize(("changes", "path"), BAD[:6], ids=[p for _, p in BAD[:6]])
def test_bad_document_via_api_is_400_with_the_path(api, supervisor, changes, path):
    document = doc(**changes)
    document["users"] = document["users"][:2]  # no staff: the API may not import them
    response = api(supervisor).post("/api/v1/marketplace/import/", document, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["field"] == path
    assert Order.objects.count() == 0 and not User.objects.filter(username__startswith="imp_").exists()


def test_api_import_is_idempotent(api, supervisor):
    document = doc()
    document["users"] = [u for u in document["users"] if u["role"] != "staff"]
    response = api(supervisor).post("/api/v1/marketplace/import/", document, format="json")
    assert response.status_code == 200
    assert response.json()["created"]["orders"] == 3
    again = api(supervisor).post("/api/v1/marketplace/import/", document, format="json").json()
    assert again["created"]["orders"] == 0 and again["updated"]["orders"] == 0


@pytest.mark.parametrize("body", [[], "x", {"users": {"a": 1}}, {"orders": [1]}, {"users": [None]}])
def test_api_rejects_malformed_documents_without_500(api, supervisor, body):
    response = api(supervisor).post("/api/v1/marketplace/import/", body, format="json")
    assert response.status_code == 400


def test_command_imports_a_file_and_prints_counts(tmp_path):
    file = tmp_path / "doc.json"
    file.write_text(json.dumps(doc(), ensure_ascii=False, indent=2), encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_marketplace", str(file), "--progress", stdout=out, stderr=err)
    assert "orders" in out.getvalue() and Order.objects.count() == 3
    assert "100.0%" in err.getvalue()
    out = StringIO()
    call_command("import_marketplace", str(file), "--json", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue())["created"]["orders"] == 0


def test_command_rejects_broken_json_and_missing_files(tmp_path):
    file = tmp_path / "broken.json"
    file.write_text('{"users": [{"username": "x", "password": "p", "role": "consumer"},', encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_marketplace", str(file), stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("import_marketplace", str(tmp_path / "missing.json"), stdout=StringIO(), stderr=StringIO())
    assert not User.objects.filter(username="x").exists()


def test_streamed_import_of_many_orders(tmp_path):
    """5,000 orders through the streaming reader (small chunks to exercise refills), then a no-op re-import."""
    from portal.importer import FileSource, Importer

    file = tmp_path / "big.json"
    file.write_text(json.dumps(big_doc(5000), ensure_ascii=False), encoding="utf-8")
    importer = Importer(FileSource(str(file), chunk_size=4096))
    importer.validate()
    counts = importer.write()
    assert counts["created"]["orders"] == 5000 and counts["created"]["items"] == 10000
    assert OrderItem.objects.count() == 10000
    assert Order.objects.get(number="B0000004").items.get(position=1).quantity == 2
    out = StringIO()
    call_command("import_marketplace", str(file), "--json", stdout=out, stderr=StringIO())
    again = json.loads(out.getvalue())
    assert again["created"]["orders"] == 0 and again["updated"]["orders"] == 0 and again["orders"] == 5000


def test_streamed_sections_in_any_order_with_tiny_chunks(tmp_path):
    """Orders before the users, shops and products they name; chunks small enough to split characters."""
    from portal.importer import FileSource, Importer

    base = doc()
    reordered = {"orders": base["orders"], "extra": {"ignored": [1, 2, {"x": "长文本" * 50}]},
                 "products": base["products"], "users": base["users"], "shops": base["shops"]}
    file = tmp_path / "reordered.json"
    file.write_text(json.dumps(reordered, ensure_ascii=False, indent=1), encoding="utf-8")
    importer = Importer(FileSource(str(file), chunk_size=7), operator=True)
    importer.validate()
    counts = importer.write()
    assert counts["created"]["orders"] == 3 and counts["created"]["users"] == 5
    assert Shop.objects.get(code="imp-acme").return_line == "文三路 1 号"
    assert Product.objects.get(sku="IMP-APPLE").name == "苹果"
