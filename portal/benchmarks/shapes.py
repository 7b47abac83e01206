"""What the generated marketplace looks like: tables and columns, how cases move through lifecycle.md's
arrows, reasons, regions, and the plan (how many of each thing at a given scale)."""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600.0
DAY = 86400.0

# Loaded tables, children before parents for TRUNCATE; cascading also clears what other apps hang on them.
DATA_TABLES = [
    "cases_notification", "cases_casemessage", "cases_caseevidence", "cases_refund", "cases_deadline",
    "cases_caseevent", "cases_aftersalescase", "portal_orderitem", "portal_order", "portal_product",
    "portal_apitoken", "portal_wallet", "portal_shop_members", "portal_shop", "portal_user_groups", "portal_user",
]
BULK_TABLES = ["portal_order", "portal_orderitem", "cases_aftersalescase", "cases_caseevent", "cases_deadline",
               "cases_refund"]

COLUMNS = {
    "portal_user": "id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, "
                   "is_active, date_joined, role, good_standing, phone",
    "portal_shop": "id, code, name, return_region, return_line, return_contact, return_phone",
    "portal_shop_members": "id, shop_id, user_id",
    "portal_product": "id, sku, name, category, no_reason_returns, warranty_days, weight_grams, length_cm, "
                      "width_cm, height_cm, shop_id",
    "portal_apitoken": "id, key_hash, created_at, expires_at, last_used_at, user_id",
    "portal_order": "id, number, paid_at, shipped_at, signed_at, shipping_fee, points_used, "
                    "return_shipping_insurance, coupon_code, coupon_value, coupon_valid_until, address_region, "
                    "address_line, address_contact, address_phone, consumer_id, shop_id",
    "portal_orderitem": "id, position, quantity, unit_price, paid, order_id, product_id, shop_id, paid_at",
    "cases_aftersalescase": "id, number, kind, reason, quantity, amount, description, condition_intact, "
                            "freight_payer, state, closure_reason, refund_amount, refund_on_receipt, ruled, "
                            "return_carrier, return_tracking, replacement_carrier, replacement_tracking, "
                            "deadline_name, deadline_due_at, overdue, auto_approved, escalated, first_response_at, "
                            "created_at, updated_at, closed_at, assignee_id, consumer_id, order_item_id, shop_id",
    "cases_caseevent": "id, at, actor_username, role, action, from_state, to_state, payload, actor_id, case_id, "
                       "shop_id",
    "cases_deadline": "id, name, state, started_at, duration_seconds, due_at, remind_at, reminded_at, fired_at, "
                      "cancelled_at, case_id, shop_id",
    "cases_refund": "id, amount, status, fast, idempotency_key, attempts, provider_reference, last_error, "
                    "created_at, paid_at, points_restored, coupon_restored, case_id, shop_id",
    "cases_casemessage": "id, role, body, internal, created_at, author_id, case_id, shop_id",
    "cases_caseevidence": "id, role, file, original_name, content_type, size, note, created_at, case_id, "
                          "uploaded_by_id, shop_id",
}

N = "\\N"
T_, F_ = "t", "f"

CLOCK = {  # state -> deadline name
    "pending_merchant": "merchant_response", "rejected": "consumer_revise", "awaiting_return": "consumer_ship",
    "return_in_transit": "merchant_receive", "awaiting_replacement": "merchant_ship_replacement",
    "in_repair": "merchant_repair", "replacement_in_transit": "consumer_confirm", "in_arbitration": "evidence",
    "awaiting_ruling": "ruling_sla",
}
TERMINAL = {"refunded", "completed", "closed"}
# The system action each clock takes on expiry (lifecycle.md "Deadlines").
EXPIRY_ACTION = {
    "merchant_response": "approve", "consumer_revise": "expire", "consumer_ship": "expire",
    "merchant_receive": "confirm_receipt", "merchant_ship_replacement": "escalate", "merchant_repair": "escalate",
    "consumer_confirm": "confirm_completion", "evidence": "close_evidence",
}

C, M, S, Y = "consumer", "merchant", "staff", "system"
# (weight per 1,000 cases, kind, steps: (action, role, to_state)). Open states make up 28.5 % of all cases.
TEMPLATES: list[tuple[int, str, list[tuple[str, str, str]]]] = [
    # refund_only: 400
    (40, "refund_only", [("submit", C, "pending_merchant")]),
    (15, "refund_only", [("submit", C, "pending_merchant"), ("reject", M, "rejected")]),
    (200, "refund_only", [("submit", C, "pending_merchant"), ("approve", M, "refunded")]),
    (60, "refund_only", [("submit", C, "pending_merchant"), ("approve", Y, "refunded")]),
    (40, "refund_only", [("submit", C, "pending_merchant"), ("withdraw", C, "closed")]),
    (20, "refund_only", [("submit", C, "pending_merchant"), ("reject", M, "rejected"), ("expire", Y, "closed")]),
    (10, "refund_only", [("submit", C, "pending_merchant"), ("reject", M, "rejected"),
                         ("escalate", C, "in_arbitration")]),
    (5, "refund_only", [("submit", C, "pending_merchant"), ("reject", M, "rejected"),
                        ("escalate", C, "in_arbitration"), ("close_evidence", Y, "awaiting_ruling")]),
    (10, "refund_only", [("submit", C, "pending_merchant"), ("reject", M, "rejected"),
                         ("escalate", C, "in_arbitration"), ("close_evidence", Y, "awaiting_ruling"),
                         ("rule", S, "refunded")]),
    # return_refund: 350
    (25, "return_refund", [("submit", C, "pending_merchant")]),
    (30, "return_refund", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return")]),
    (30, "return_refund", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                           ("ship_return", C, "return_in_transit")]),
    (200, "return_refund", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                            ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "refunded")]),
    (25, "return_refund", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                           ("expire", Y, "closed")]),
    (10, "return_refund", [("submit", C, "pending_merchant"), ("reject", M, "rejected")]),
    (10, "return_refund", [("submit", C, "pending_merchant"), ("reject", M, "rejected"),
                           ("escalate", C, "in_arbitration"), ("close_evidence", Y, "awaiting_ruling"),
                           ("rule", S, "closed")]),
    (5, "return_refund", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                          ("ship_return", C, "return_in_transit"), ("intervene", S, "in_arbitration")]),
    (15, "return_refund", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                           ("withdraw", C, "closed")]),
    # exchange: 150
    (10, "exchange", [("submit", C, "pending_merchant")]),
    (10, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return")]),
    (10, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                      ("ship_return", C, "return_in_transit")]),
    (15, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                      ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "awaiting_replacement")]),
    (15, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                      ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "awaiting_replacement"),
                      ("ship_replacement", M, "replacement_in_transit")]),
    (80, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                      ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "awaiting_replacement"),
                      ("ship_replacement", M, "replacement_in_transit"), ("confirm_completion", C, "completed")]),
    (5, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                     ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "awaiting_replacement"),
                     ("escalate", Y, "in_arbitration")]),
    (5, "exchange", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                     ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "awaiting_replacement"),
                     ("approve_refund", M, "refunded")]),
    # repair: 100
    (5, "repair", [("submit", C, "pending_merchant")]),
    (5, "repair", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return")]),
    (5, "repair", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                   ("ship_return", C, "return_in_transit")]),
    (15, "repair", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                    ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "in_repair")]),
    (10, "repair", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                    ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "in_repair"),
                    ("ship_repaired", M, "replacement_in_transit")]),
    (55, "repair", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                    ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "in_repair"),
                    ("ship_repaired", M, "replacement_in_transit"), ("confirm_completion", Y, "completed")]),
    (5, "repair", [("submit", C, "pending_merchant"), ("approve", M, "awaiting_return"),
                   ("ship_return", C, "return_in_transit"), ("confirm_receipt", M, "in_repair"),
                   ("escalate", Y, "in_arbitration"), ("close_evidence", Y, "awaiting_ruling")]),
]
REASONS = {
    "refund_only": ["quality_issue", "not_as_described", "other", "missing_parts"],
    "return_refund": ["no_reason", "quality_issue", "wrong_item", "other", "no_reason"],
    "exchange": ["no_reason", "quality_issue", "wrong_item"],
    "repair": ["quality_issue", "other"],
}
REGIONS = ["110105", "310115", "440305", "330106", "510107", "420106", "320102", "650102", "500103", "370202"]
CARRIERS = ["SF", "YTO", "ZTO", "JD", "EMS"]
REJECT_REASONS = ["商品已影响二次销售", "超出无理由退货期限", "未提供有效凭证"]


@dataclass
class Plan:
    """How many of each thing to make; `from_scale` keeps the proportions of the full marketplace."""

    scale: float
    shops: int
    consumers: int
    cases: int
    big_shop_cases: int
    fresh_orders: int
    products_per_shop: int = 10
    seed: int = 20240611

    @classmethod
    def from_scale(cls, scale: float) -> Plan:
        cases = max(300, round(1_000_000 * scale))
        return cls(
            scale=scale, shops=max(5, round(1000 * scale)), consumers=max(100, round(100_000 * scale)),
            cases=cases, big_shop_cases=min(max(100, round(20_000 * scale)), cases // 3),
            fresh_orders=max(2000, round(20_000 * scale)),
        )

    # Fixed ids (the load generators and benchmarks rely on them).
    @property
    def agent_id(self) -> int:
        return 1

    @property
    def supervisor_id(self) -> int:
        return 2

    def merchant_id(self, shop_index: int) -> int:
        return 3 + shop_index

    def consumer_id(self, consumer_index: int) -> int:
        return 3 + self.shops + consumer_index

    @property
    def b4_case_id(self) -> int:
        return self.cases

    @property
    def big_shop_code(self) -> str:
        return shop_code(0)


def shop_code(index: int) -> str:
    return f"bench-{index:04d}"
