"""Marketplace documents for the import tests."""

from __future__ import annotations

import copy
from typing import Any

BASE_DOC: dict[str, Any] = {
    "users": [
        {"username": "imp_alice", "password": "secret123", "role": "consumer", "email": "a@example.com",
         "good_standing": True, "nickname": "ignored"},
        {"username": "imp_bob", "password": "secret123", "role": "merchant", "shops": ["imp-acme", "imp-fruit"]},
        {"username": "imp_carol", "password": "secret123", "role": "staff"},
        {"username": "imp_dave", "password": "secret123", "role": "staff", "supervisor": True},
        {"username": "imp_erin", "password": "secret123", "role": "consumer", "good_standing": False},
    ],
    "shops": [
        {"code": "imp-acme", "name": "ACME 旗舰店",
         "return_address": {"region": "330106", "line": "文三路 1 号", "contact": "售后部", "phone": "0571-1"}},
        {"code": "imp-fruit", "name": "鲜果园"},
    ],
    "products": [
        {"sku": "IMP-TEE", "shop": "imp-acme", "name": "T 恤", "category": "apparel", "no_reason_returns": True,
         "warranty_days": 0, "weight_grams": 300, "size_cm": [30, 20, 5]},
        {"sku": "IMP-PHONE", "shop": "imp-acme", "name": "手机", "category": "electronics", "warranty_days": 365,
         "weight_grams": 450, "size_cm": [20, 12, 8]},
        {"sku": "IMP-APPLE", "shop": "imp-fruit", "name": "苹果", "category": "fresh", "weight_grams": 5000},
    ],
    "orders": [
        {"number": "IMP-1", "consumer": "imp_alice", "shop": "imp-acme",
         "paid_at": "2026-11-01T10:00:00+08:00", "shipped_at": "2026-11-02T09:00:00+08:00",
         "signed_at": "2026-11-03T15:00:00+08:00", "shipping_fee": "0.00", "points_used": 200,
         "return_shipping_insurance": True,
         "coupon": {"code": "C-9", "value": "10.00", "valid_until": "2026-12-31T23:59:59+08:00"},
         "address": {"region": "310104", "line": "漕溪北路 1 号", "contact": "Alice", "phone": "138"},
         "items": [{"sku": "IMP-TEE", "quantity": 2, "unit_price": "99.00", "paid": "188.00"},
                   {"sku": "IMP-TEE", "quantity": 1, "unit_price": 99, "paid": 99.5},
                   {"sku": "IMP-PHONE", "quantity": 1, "unit_price": "2999.00", "paid": "2899.00"}]},
        {"number": "IMP-2", "consumer": "imp_alice", "shop": "imp-fruit", "paid_at": "2026-11-05T08:00:00Z",
         "address": {"region": "650102"},
         "items": [{"sku": "IMP-APPLE", "quantity": 3, "unit_price": "20.00", "paid": "60.00"}]},
        {"number": "IMP-3", "consumer": "imp_erin", "shop": "imp-acme", "paid_at": "2026-11-06T08:00:00+08:00",
         "shipped_at": "2026-11-07T08:00:00+08:00",
         "address": {"region": "330106"},
         "items": [{"sku": "IMP-PHONE", "quantity": 1, "unit_price": "2999.00", "paid": "2999.00"}]},
    ],
}


def doc(**changes: Any) -> dict[str, Any]:
    """A deep copy of the base document, with dotted-path changes: doc(**{"users.1.role": "boss"})."""
    result = copy.deepcopy(BASE_DOC)
    for dotted, value in changes.items():
        parts = dotted.split(".")
        target: Any = result
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        elif value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return result


_DELETE = object()
DELETE = _DELETE


def big_doc(orders: int) -> dict[str, Any]:
    """A document with many orders over a few users, shops and products (for the streaming import)."""
    users = [{"username": f"bulk{u}", "password": "secret123", "role": "consumer"} for u in range(50)]
    users.append({"username": "bulkm", "password": "secret123", "role": "merchant", "shops": ["bulk-shop"]})
    products = [{"sku": f"BULK-{p}", "shop": "bulk-shop", "name": f"商品 {p}", "category": "apparel",
                 "weight_grams": 100 + p, "size_cm": [10, 10, p % 20]} for p in range(40)]
    return {
        "shops": [{"code": "bulk-shop", "name": "批量店", "return_address": {"region": "330106"}}],
        "users": users,
        "products": products,
        "orders": [
            {"number": f"B{n:07d}", "consumer": f"bulk{n % 50}", "shop": "bulk-shop",
             "paid_at": "2026-10-01T10:00:00+08:00", "shipped_at": "2026-10-02T10:00:00+08:00",
             "signed_at": "2026-10-03T10:00:00+08:00", "points_used": n % 7, "address": {"region": "310104"},
             "items": [{"sku": f"BULK-{n % 40}", "quantity": 1 + n % 3, "unit_price": "19.90",
                        "paid": f"{19.9 * (1 + n % 3):.2f}"},
                       {"sku": f"BULK-{(n + 1) % 40}", "quantity": 1, "unit_price": "5.00", "paid": "5.00"}]}
            for n in range(orders)
        ],
    }
