"""Each order item carries a copy of its order's shop and payment time (portal.models.OrderItem; the scorecard
counts a shop's items paid in a window by it). Every writer keeps the copy equal to the order: creation (save,
bulk_create, factories), the import (create, re-import moving an order's payment time and shop, items added),
an order's save, queryset update and bulk_update, and an item saved from a stale instance."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from portal.importer import import_document
from portal.models import Order, OrderItem
from tests import factories as f
from tests.portal.docs import doc

pytestmark = pytest.mark.django_db


def mismatches() -> list[tuple[int, int, int]]:
    """Items whose shop or payment time is not their order's (one query, in SQL)."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT i.id, i.shop_id, o.shop_id FROM portal_orderitem i
                          JOIN portal_order o ON o.id = i.order_id
                          WHERE i.shop_id IS DISTINCT FROM o.shop_id OR i.paid_at IS DISTINCT FROM o.paid_at""")
        return cursor.fetchall()


def test_items_made_by_save_factories_and_bulk_create_carry_their_orders_shop_and_payment_time():
    other = f.ShopFactory(code="copy-other")
    made = f.OrderItemFactory()
    assert (made.shop_id, made.paid_at) == (made.order.shop_id, made.order.paid_at)
    order = f.OrderFactory(shop=other, paid_at=timezone.now() - timedelta(days=40))
    product = f.ProductFactory(shop=other)
    # by the order instance, by its id only (one query for the orders), and built by the factory
    built = OrderItem.objects.bulk_create([
        OrderItem(order=order, position=1, product=product, quantity=1, unit_price=Decimal(1), paid=Decimal(1)),
        OrderItem(order_id=order.pk, position=2, product=product, quantity=1, unit_price=Decimal(1),
                  paid=Decimal(1)),
        f.OrderItemFactory.build(order=order, product=product, position=3)])
    assert {(i.shop_id, i.paid_at) for i in built} == {(other.pk, order.paid_at)}
    single = OrderItem(order_id=order.pk, position=4, product=product, quantity=1, unit_price=Decimal(1),
                       paid=Decimal(1), shop_id=made.order.shop_id, paid_at=timezone.now())  # wrong on purpose
    single.save()
    assert (single.shop_id, single.paid_at) == (other.pk, order.paid_at)
    assert mismatches() == []
    assert OrderItem.objects.filter(shop=other).count() == 4


def test_an_orders_save_update_and_bulk_update_move_its_items_and_a_stale_item_save_does_not_undo_it():
    first, second = f.ShopFactory(code="copy-a"), f.ShopFactory(code="copy-b")
    order = f.OrderFactory(shop=first)
    items = [f.OrderItemFactory(order=order, position=p) for p in (1, 2)]
    stale = OrderItem.objects.get(pk=items[0].pk)

    order.paid_at -= timedelta(days=3)
    order.shop = second
    order.save()
    assert set(OrderItem.objects.values_list("shop_id", "paid_at")) == {(second.pk, order.paid_at)}

    stale.quantity = 2
    stale.save()  # loaded before the move: its copy is old, and must not be written back
    assert mismatches() == []
    assert OrderItem.objects.get(pk=stale.pk).quantity == 2

    Order.objects.filter(pk=order.pk).update(paid_at=order.paid_at - timedelta(days=1))
    assert mismatches() == []
    loaded = Order.objects.get(pk=order.pk)
    loaded.shop_id = first.pk
    Order.objects.bulk_update([loaded], ["shop"])
    assert mismatches() == [] and set(OrderItem.objects.values_list("shop_id", flat=True)) == {first.pk}
    loaded.signed_at = timezone.now()
    loaded.save(update_fields=["signed_at"])
    assert mismatches() == []


def test_the_import_keeps_the_copy_when_a_reimport_moves_an_order_and_adds_an_item():
    import_document(doc(), operator=True)
    assert OrderItem.objects.count() == 5 and mismatches() == []
    moved = doc(**{"orders.0.paid_at": "2026-11-20T10:00:00+08:00", "orders.2.shop": "imp-fruit",
                   "orders.2.items.0.sku": "IMP-APPLE"})
    moved["orders"][1]["items"].append({"sku": "IMP-APPLE", "quantity": 1, "unit_price": "20.00", "paid": "20.00"})
    counts = import_document(moved, operator=True)
    assert counts["updated"]["orders"] == 3 and counts["created"]["items"] == 1
    assert mismatches() == []
    one = Order.objects.get(number="IMP-1")
    assert one.paid_at.isoformat() == "2026-11-20T02:00:00+00:00"
    assert set(one.items.values_list("paid_at", flat=True)) == {one.paid_at}
    assert Order.objects.get(number="IMP-3").items.get().shop.code == "imp-fruit"
