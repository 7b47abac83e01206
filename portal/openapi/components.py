"""The contract's shapes (api.md, lifecycle.md) as OpenAPI 3 schema objects: enums, money, errors, a case.

Written as plain schema dicts rather than derived from serializers, because the views build their JSON by
hand and the contract, not the code, is what these must say. `tests/portal/test_openapi.py` and the
Schemathesis run check every response of the live server against them.
"""

from __future__ import annotations

from typing import Any

from cases.choices import (
    Action,
    ActorRole,
    ClosureReason,
    DeadlineName,
    FreightPayer,
    Kind,
    Reason,
    RefundStatus,
    State,
)
from cases.events import NON_MOVE_KINDS
from cases.lifecycle import DEADLINES
from cases.quality.models import RATING_TAGS
from pickups import policy as pickup_policy
from pickups.models import EventSource, Payer, PickupState
from portal.models import Role

Schema = dict[str, Any]

# Who a clock binds (the lifecycle table's parties: "both" is the consumer and the merchant).
DEADLINE_PARTIES = sorted({d.party for d in DEADLINES.values()})
# Action names a person may send to /actions/{action}/ (lifecycle.md); `expire` is the system's alone.
API_ACTIONS: tuple[str, ...] = tuple(a for a in Action.values if a != Action.SUBMIT)
# Audit events that record something besides the lifecycle's actions (payouts, ratings): cases/events.py.
SYSTEM_EVENT_ACTIONS = NON_MOVE_KINDS
EVIDENCE_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
# What the server accepts as an amount in a request: up to 10 digits and 2 decimals ("" = not given).
AMOUNT_IN_PATTERN = r"^(\d{1,10}(\.\d{1,2})?)?$"
MONEY_OUT_PATTERN = r"^-?\d+\.\d{2}$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def enum(values: list[str] | tuple[str, ...], description: str) -> Schema:
    return {"type": "string", "enum": list(values), "description": description}


def nullable(schema: Schema) -> Schema:
    """OpenAPI 3.0 nullability; a `$ref` needs an allOf wrapper to carry it."""
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def obj(properties: dict[str, Schema], required: list[str] | None = None, description: str = "") -> Schema:
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if description:
        out["description"] = description
    return out


DATETIME: Schema = {"type": "string", "format": "date-time"}
MONEY: Schema = {"type": "string", "pattern": MONEY_OUT_PATTERN, "description": "CNY, 2 decimal places",
                 "example": "99.00"}
AMOUNT_IN: Schema = {
    "anyOf": [{"type": "string", "pattern": AMOUNT_IN_PATTERN, "maxLength": 13}, {"type": "number", "minimum": 0}],
    "description": "CNY as a decimal string with at most 2 decimal places (\"\" = not given); a JSON number is "
                   "taken too", "example": "99.00"}
ID: Schema = {"type": "integer", "minimum": 1}

ENUMS: dict[str, Schema] = {
    "Kind": enum(Kind.values, "Case kind (lifecycle.md)."),
    "Reason": enum(Reason.values, "Case reason code (lifecycle.md)."),
    "State": enum(State.values, "Case state (lifecycle.md)."),
    "ClosureReason": enum(ClosureReason.values, "Why a closed case closed."),
    "ActorRole": enum(ActorRole.values, "The role an event's actor acted in."),
    "EventAction": enum((*Action.values, *SYSTEM_EVENT_ACTIONS), "The action an audit event records."),
    "CaseAction": enum(API_ACTIONS, "An action name for /actions/{action}/."),
    "FreightPayer": enum(FreightPayer.values, "Who pays the return freight."),
    "DeadlineName": enum(DeadlineName.values, "A case clock (lifecycle.md's deadline table)."),
    "RefundStatus": enum(RefundStatus.values, "Payout status of a case's refund."),
    "PickupState": enum(PickupState.values, "Pickup state (lifecycle.md)."),
    "PickupPayer": enum(Payer.values, "Who pays the pickup fee."),
    "PickupEventSource": enum(EventSource.values, "Where a pickup event came from."),
    "PickupRefusal": enum(pickup_policy.REASON_ORDER, "Why a pickup cannot be booked."),
    "VisitRefusal": enum(pickup_policy.VISIT_REASON_ORDER, "Why a technician visit cannot be booked (docs/visits.md)."),
    "Decision": enum(("refund", "reject"), "A ruling's decision."),
    "UserRole": enum(Role.values, "A marketplace user's role."),
    "EvidenceContentType": enum(EVIDENCE_CONTENT_TYPES, "The type sniffed from an evidence file's bytes."),
    "RatingTag": enum(list(RATING_TAGS), "A rating tag (api.md's fixed list: " + ", ".join(
        f"`{code}` {label}" for code, label in RATING_TAGS.items()) + ")."),
}

# --- ratings, scorecards, the assistant (api.md "Ratings, scorecards and the assistant") -------------------
STARS: Schema = {"type": "integer", "minimum": 1, "maximum": 5}
RATING_COMMENT_MAX = 500
RATING = obj({
    "stars": {**STARS, "description": "the merchant's handling, 1 to 5"},
    "tags": {"type": "array", "items": ref("RatingTag"), "uniqueItems": True},
    "comment": {"type": "string", "nullable": True, "maxLength": RATING_COMMENT_MAX,
                "description": "\"\" when none was written; null when staff hid it"},
    "comment_hidden": {"type": "boolean", "description": "staff hid an abusive comment (the stars still count)"},
    "pickup_stars": {**STARS, "nullable": True, "description": "the pickup's service, on a case that used one"},
    "at": DATETIME,
}, ["stars", "tags", "comment", "comment_hidden", "pickup_stars", "at"], "The consumer's rating of a case (售后服务评价).")
# Rates: decimal strings in [0, 1] with 4 places; hours: decimal strings with 1 place; null = empty denominator.
RATE: Schema = {"type": "string", "nullable": True, "pattern": r"^(0\.\d{4}|1\.0000)$",
                "description": "a rate in [0, 1], 4 decimal places; null when its denominator is empty",
                "example": "0.0125"}
HOURS: Schema = {"type": "string", "nullable": True, "pattern": r"^\d+\.\d$",
                 "description": "hours, 1 decimal place; null when there is nothing to average", "example": "5.5"}
SCORECARD_FIGURES = obj({
    "dispute_rate": RATE, "intervention_rate": RATE, "quality_refund_rate": RATE,
    "refund_hours": obj({"mean": HOURS, "p90": {**HOURS, "description": "nearest rank; " + HOURS["description"]}},
                        ["mean", "p90"], "submission → refund paid, over refunds paid in the window"),
    "first_response_hours": HOURS, "self_resolved_rate": RATE,
}, ["dispute_rate", "intervention_rate", "quality_refund_rate", "refund_hours", "first_response_hours",
    "self_resolved_rate"], "The rate and hour figures of a scorecard.")
_COUNT: Schema = {"type": "integer", "minimum": 0}
SCORECARD = obj({
    "shop": {"type": "string", "description": "the shop's code"},
    "from": DATETIME, "to": DATETIME,
    **SCORECARD_FIGURES["properties"],
    "rating": obj({"mean": {"type": "string", "nullable": True, "pattern": r"^[1-5]\.\d{2}$",
                            "description": "mean stars, 2 decimal places; null with no rating"},
                   "count": _COUNT}, ["mean", "count"], "ratings given in the window"),
    "category": {"type": "string", "nullable": True, "description": "the category most of the shop's products have"},
    "category_average": ref("ScorecardFigures"),
    "held_to_thresholds": {"type": "boolean", "description": "enough order items paid to be held to thresholds"},
    "counts": obj({k: _COUNT for k in ("order_items_paid", "ruled_refund", "escalated_or_intervened", "opened",
                                       "quality_refunds", "refunds_paid", "responded", "terminal", "self_resolved")},
                  ["order_items_paid", "ruled_refund", "escalated_or_intervened", "opened", "quality_refunds",
                   "refunds_paid", "responded", "terminal", "self_resolved"],
                  "the numerators and denominators behind the figures"),
}, ["shop", "from", "to", *SCORECARD_FIGURES["required"], "rating", "category_average"],
    "A shop's scorecard over the rolling 30 days ending now (Asia/Shanghai), beside its category's average.")
ASSISTANT_ANSWER = obj({
    "answer": {"type": "string", "minLength": 1, "description": "in the requester's language"},
    "sources": {"type": "array", "items": obj({"id": {"type": "string"}, "title": {"type": "string"}},
                                               ["id", "title"])},
    "suggestion": nullable(obj({"kind": ref("Kind"), "reason": ref("Reason")}, ["kind", "reason"],
                               "the case to open, when the question reads as a complaint")),
    "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                   "description": "of the suggestion; 0 with no suggestion"},
    "handoff": {"type": "boolean", "description": "a person should take over (转人工)"},
    "suggestion_label": {"type": "string", "description": "the suggestion in words, for people"},
    "apply_url": {"type": "string", "description": "the case form prefilled with the suggestion (with an item)"},
}, ["answer", "sources", "suggestion", "confidence", "handoff"], "The assistant's answer.")
REPLY_SUGGESTIONS = obj({"suggestions": {"type": "array", "maxItems": 3, "items": obj(
    {"text": {"type": "string", "minLength": 1}, "source": {"type": "string", "description": "the template or "
                                                            "knowledge-base entry it came from"}},
    ["text", "source"])}}, ["suggestions"], "Replies a merchant may send on the case, best first.")

DEADLINE = obj({"name": ref("DeadlineName"), "due_at": DATETIME,
                "party": {"type": "string", "nullable": True, "enum": [*DEADLINE_PARTIES, None],
                          "description": "who must act before the clock runs out"}},
               ["name", "due_at"])
EVENT = obj({
    "at": DATETIME,
    "actor": {"type": "string", "nullable": True, "description": "username; null for the system"},
    "role": ref("ActorRole"), "action": ref("EventAction"),
    "from_state": nullable(ref("State")), "to_state": ref("State"),
    "payload": {"type": "object", "additionalProperties": True},
}, ["at", "actor", "role", "action", "from_state", "to_state", "payload"], "One audit event.")
REFUND = obj({"amount": MONEY, "status": ref("RefundStatus"), "fast": {"type": "boolean"},
              "paid_at": nullable(DATETIME)}, ["amount", "status", "fast"])
EVIDENCE = obj({
    "id": ID, "role": ref("ActorRole"), "content_type": ref("EvidenceContentType"),
    "size": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "note": {"type": "string"},
    "created_at": DATETIME, "url": {"type": "string", "description": "GET it for the file's bytes"},
}, ["id", "role", "content_type", "size", "name", "note", "created_at", "url"])
ADDRESS = obj({"region": {"type": "string"}, "line": {"type": "string"}, "contact": {"type": "string"},
               "phone": {"type": "string", "description": "masked for anyone but the consumer who booked"}},
              ["region", "line", "contact", "phone"])
PICKUP_EVENT = obj({"at": DATETIME, "action": {"type": "string"}, "from_state": nullable(ref("PickupState")),
                    "to_state": ref("PickupState"), "source": ref("PickupEventSource"),
                    "payload": {"type": "object", "additionalProperties": True}},
                   ["at", "action", "from_state", "to_state", "source", "payload"])
PICKUP = obj({
    "id": ID, "case": ID, "state": ref("PickupState"), "courier": {"type": "string"},
    "courier_name": {"type": "string"},
    "slot": ref("BookedSlot"),
    "waybill": {"type": "string", "nullable": True}, "fee": MONEY, "payer": ref("PickupPayer"),
    "consumer_fee": MONEY, "weight_grams": {"type": "integer", "minimum": 0}, "address": ref("Address"),
    "failure_reason": {"type": "string", "nullable": True},
    "dispatch_attempts": {"type": "integer", "minimum": 0}, "created_at": DATETIME, "updated_at": DATETIME,
    "events": {"type": "array", "items": ref("PickupEvent")},
}, ["id", "case", "state", "courier", "slot", "waybill", "fee", "payer", "address", "events"],
    "A door-to-door pickup (上门取件).")

_CASE_FIELDS: dict[str, Schema] = {
    "id": ID,
    "number": {"type": "string", "example": "AS20261202000001"},
    "kind": ref("Kind"), "reason": ref("Reason"), "state": ref("State"),
    "closure_reason": nullable(ref("ClosureReason")),
    "quantity": {"type": "integer", "minimum": 1},
    "amount": MONEY,
    "order_item": ID, "order_number": {"type": "string"},
    "sku": {"type": "string"}, "product_name": {"type": "string"},
    "shop": {"type": "string", "description": "the shop's code"},
    "consumer": {"type": "string", "description": "the consumer's username"},
    "freight_payer": nullable(ref("FreightPayer")),
    "description": {"type": "string"}, "condition_intact": {"type": "boolean"},
    "created_at": DATETIME, "updated_at": DATETIME,
    "deadline": nullable(ref("Deadline")),
    "overdue": {"type": "boolean"}, "escalated": {"type": "boolean"},
    "available_actions": {"type": "array", "items": ref("CaseAction"),
                          "description": "the actions the requesting user may take now"},
    "refund": nullable(ref("Refund")),
    "refund_amount": {**MONEY, "description": "the amount decided to refund, once decided"},
    "pickup": nullable(ref("Pickup")),
    "evidence": {"type": "array", "items": ref("Evidence")},
    "rating": nullable(ref("Rating")),
}
_CASE_REQUIRED = ["id", "number", "kind", "reason", "state", "closure_reason", "quantity", "amount", "order_item",
                  "order_number", "shop", "consumer", "freight_payer", "created_at", "deadline",
                  "available_actions", "refund", "pickup", "rating"]
CASE = obj({**_CASE_FIELDS, "events": {"type": "array", "items": ref("Event"), "description": "oldest first"}},
           [*_CASE_REQUIRED, "events"], "An after-sales case (售后单) with its whole timeline.")
CASE_ROW = obj({**_CASE_FIELDS, "last_event": nullable(ref("Event")),
                "events_count": {"type": "integer", "minimum": 0}},
               [*_CASE_REQUIRED, "last_event", "events_count"],
               "A case as the list shows it: every field of a case but `events`, plus its newest event.")


def page_of(item: Schema, description: str) -> Schema:
    return obj({"count": {"type": "integer", "minimum": 0},
                "next": {"type": "string", "nullable": True}, "previous": {"type": "string", "nullable": True},
                "results": {"type": "array", "items": item}},
               ["count", "next", "previous", "results"], description)


AFTER_SALES = obj({
    "kind": ref("Kind"), "open": {"type": "array", "items": ref("Reason")},
    "refused": {"type": "array", "items": obj({"reason": ref("Reason"), "code": {"type": "string"},
                                               "detail": {"type": "string"}}, ["reason", "code", "detail"])},
}, ["kind", "open", "refused"], "What the consumer may open now on an item, for one kind.")
ORDER_ITEM = obj({
    "id": ID, "sku": {"type": "string"}, "name": {"type": "string"}, "category": {"type": "string"},
    "quantity": {"type": "integer", "minimum": 1}, "unit_price": MONEY, "paid": MONEY, "claimable": MONEY,
    "after_sales": {"type": "array", "items": ref("AfterSales")},
    "cases": {"type": "array", "items": obj({"id": ID, "number": {"type": "string"}, "state": ref("State"),
                                             "kind": ref("Kind")}, ["id", "number", "state", "kind"])},
}, ["id", "sku", "name", "quantity", "paid", "after_sales"])
ORDER = obj({
    "number": {"type": "string"}, "shop": {"type": "string"}, "shop_name": {"type": "string"},
    "paid_at": DATETIME, "shipped_at": nullable(DATETIME), "signed_at": nullable(DATETIME),
    "shipping_fee": MONEY, "points_used": {"type": "integer", "minimum": 0},
    "return_shipping_insurance": {"type": "boolean"},
    "items": {"type": "array", "items": ref("OrderItem")},
}, ["number", "shop", "paid_at", "shipped_at", "signed_at", "items"])
MESSAGE = obj({"id": ID, "author": {"type": "string", "nullable": True}, "role": ref("ActorRole"),
               "body": {"type": "string"}, "internal": {"type": "boolean"}, "created_at": DATETIME},
              ["id", "author", "role", "body", "internal", "created_at"])
SLOT = obj({"id": ID, "start": DATETIME, "end": DATETIME, "remaining": {"type": "integer", "minimum": 0}},
           ["id", "start", "end", "remaining"])
PICKUP_OPTIONS = obj({
    "eligible": {"type": "boolean"}, "reasons": {"type": "array", "items": ref("PickupRefusal")},
    "fee": nullable(MONEY), "payer": nullable(ref("PickupPayer")), "consumer_fee": nullable(MONEY),
    "courier": {"type": "string", "nullable": True}, "region": {"type": "string", "nullable": True},
    "weight_grams": {"type": "integer", "minimum": 0},
    "slots": {"type": "array", "items": ref("PickupSlot")},
}, ["eligible", "reasons", "fee", "payer", "slots"], "Whether a pickup can be booked, its quote and open slots.")
VISIT_OPTIONS = obj({
    "eligible": {"type": "boolean"}, "reasons": {"type": "array", "items": ref("VisitRefusal")},
    "fee": nullable(MONEY), "payer": nullable(ref("PickupPayer")), "consumer_fee": nullable(MONEY),
    "provider": {"type": "string", "nullable": True}, "region": {"type": "string", "nullable": True},
    "slots": {"type": "array", "items": ref("PickupSlot")},
}, ["eligible", "reasons", "fee", "payer", "slots"],
    "Whether a technician visit can be booked, its fee and open visit slots (docs/visits.md).")
ERROR = obj({"code": {"type": "string"}, "detail": {"type": "string"},
             "field": {"type": "string", "description": "the request field at fault, when there is one"}},
            ["code", "detail"], "Every error answer of the API.")

COMPONENTS: dict[str, Schema] = {
    **ENUMS,
    "Deadline": DEADLINE, "Event": EVENT, "Refund": REFUND, "Evidence": EVIDENCE, "Address": ADDRESS,
    "PickupEvent": PICKUP_EVENT, "Pickup": PICKUP,
    "BookedSlot": obj({"id": ID, "start": DATETIME, "end": DATETIME}, ["id", "start", "end"],
                      "The slot a pickup is booked in (Asia/Shanghai times)."), "Case": CASE, "CaseRow": CASE_ROW,
    "CasePage": page_of(ref("CaseRow"), "A page of cases."),
    "AfterSales": AFTER_SALES, "OrderItem": ORDER_ITEM, "Order": ORDER,
    "OrderPage": page_of(ref("Order"), "A page of the consumer's orders."),
    "Message": MESSAGE, "PickupSlot": SLOT, "PickupOptions": PICKUP_OPTIONS, "Error": ERROR,
    "Rating": RATING, "ScorecardFigures": SCORECARD_FIGURES, "Scorecard": SCORECARD,
    "AssistantAnswer": ASSISTANT_ANSWER, "ReplySuggestions": REPLY_SUGGESTIONS,
    "VisitOptions": VISIT_OPTIONS,
}
