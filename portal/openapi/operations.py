"""Every operation of api.md as OpenAPI: request bodies, parameters, responses (errors with their codes),
examples and links. `hook.postprocess` puts these over what drf-spectacular derives from the views."""

from __future__ import annotations

from typing import Any

from cases.lifecycle import ACTIONS as LIFECYCLE
from cases.lifecycle import Field as LifecycleField

from .components import (
    AMOUNT_IN,
    DATETIME,
    EVIDENCE_CONTENT_TYPES,
    ID,
    RATING_COMMENT_MAX,
    STARS,
    nullable,
    obj,
    ref,
)
from .errors import SUBMISSION_CODES, errors

Operation = dict[str, Any]
V1 = "/api/v1"


def optional_nullable(schema: Any) -> Any:
    """A copy of a request schema whose optional properties also take `null`: the server reads a null as "not
    given" (as every client library that serialises unset fields as null expects)."""
    if isinstance(schema, list):
        return [optional_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: optional_nullable(v) for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        required = set(out.get("required", []))
        for name, prop in out["properties"].items():
            if name not in required and isinstance(prop, dict) and not prop.get("nullable"):
                out["properties"][name] = nullable(prop)
    return out


def json_body(schema: dict[str, Any], example: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required,
            "content": {"application/json": {"schema": optional_nullable(schema), "example": example}}}


def ok(status: int, schema: dict[str, Any], description: str, example: Any = None,
       links: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    out: dict[str, Any] = {"description": description, "content": {"application/json": content}}
    if links:
        out["links"] = links
    return {str(status): out}


def query(name: str, schema: dict[str, Any], description: str, example: Any = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema,
                             "description": description}
    if example is not None:
        param["example"] = example
    return param


def path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID, "description": description,
            "example": 1}


PAGE_PARAMS = [
    query("page", {"type": "integer", "minimum": 1}, "page number, from 1 (past the last page: 404)"),
    query("page_size", {"type": "integer", "minimum": 1}, "rows per page (default 20; above 200 serves 200)"),
]
CASE_ID = path_id("case_id", "the case's id")
PICKUP_ID = path_id("pickup_id", "the pickup's id")
TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}

EXAMPLE_EVENT = {"at": "2026-12-02T10:00:00+08:00", "actor": "alice", "role": "consumer", "action": "submit",
                 "from_state": None, "to_state": "pending_merchant",
                 "payload": {"kind": "return_refund", "reason": "quality_issue", "amount": "99.00"}}
EXAMPLE_CASE = {
    "id": 1, "number": "AS20261202000001", "kind": "return_refund", "reason": "quality_issue",
    "state": "pending_merchant", "closure_reason": None, "quantity": 1, "amount": "99.00", "order_item": 1,
    "order_number": "T1001", "sku": "TEE-1", "product_name": "T-shirt", "shop": "acme", "consumer": "alice",
    "freight_payer": "merchant", "description": "领口开线", "condition_intact": False,
    "created_at": "2026-12-02T10:00:00+08:00", "updated_at": "2026-12-02T10:00:00+08:00",
    "deadline": {"name": "merchant_response", "due_at": "2026-12-07T10:00:00+08:00", "party": "merchant"},
    "overdue": False, "escalated": False, "available_actions": ["revise", "withdraw"], "refund": None,
    "pickup": None, "evidence": [], "events": [EXAMPLE_EVENT],
}
EXAMPLE_ROW = {**{k: v for k, v in EXAMPLE_CASE.items() if k != "events"}, "last_event": EXAMPLE_EVENT,
               "events_count": 1}
EXAMPLE_PICKUP = {
    "id": 1, "case": 1, "state": "requested", "courier": "simulated", "courier_name": "模拟快递",
    "slot": {"id": 7, "start": "2026-12-03T09:00:00+08:00", "end": "2026-12-03T11:00:00+08:00"},
    "waybill": None, "fee": "12.00", "payer": "merchant", "consumer_fee": "0.00", "weight_grams": 300,
    "address": {"region": "310104", "line": "漕溪北路 1 号", "contact": "张三", "phone": "13800138000"},
    "failure_reason": None, "dispatch_attempts": 0, "created_at": "2026-12-02T10:00:00+08:00",
    "updated_at": "2026-12-02T10:00:00+08:00", "events": [],
}

CASE_LINKS = {
    "GetCase": {"operationId": "cases_retrieve", "parameters": {"case_id": "$response.body#/id"}},
    "CaseMessages": {"operationId": "cases_messages_list", "parameters": {"case_id": "$response.body#/id"}},
    "CaseEvidence": {"operationId": "cases_evidence_list", "parameters": {"case_id": "$response.body#/id"}},
    "PickupOptions": {"operationId": "cases_pickup_options", "parameters": {"case_id": "$response.body#/id"}},
}


# --- auth, import, orders --------------------------------------------------------------------------------

TOKEN: Operation = {
    "operationId": "auth_token", "tags": ["auth"], "security": [],
    "summary": "Get an API token",
    "description": "A token stays valid at least 24 h; a new token never revokes older ones. "
                   "Send it as `Authorization: Bearer <token>`.",
    "requestBody": json_body(obj({"username": {"type": "string", "minLength": 1},
                                  "password": {"type": "string", "minLength": 1}}, ["username", "password"]),
                             {"username": "alice", "password": "demo1234"}),
    "responses": {
        **ok(200, obj({"token": {"type": "string"}, "username": {"type": "string"}, "role": ref("UserRole")},
                      ["token"]), "A new token.", {"token": "k3y…", "username": "alice", "role": "consumer"}),
        **errors({400: ("required",), 401: ("invalid_credentials",), 429: ("rate_limited", "too_many_attempts")},
                 auth=False, body=True),
    },
}

_MONEY_LOOSE = {"anyOf": [{"type": "string", "pattern": r"^\s*\d{1,10}(\.\d{1,2})?\s*$"},
                          {"type": "number", "minimum": 0}],
                "description": "CNY, at most 2 decimal places; a string such as \"99.00\" is preferred"}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2147483647}
_STAMP = {"type": "string", "format": "date-time", "pattern": r"T.*([+-]\d{2}:?\d{2}|Z)\s*$",
          "description": "ISO 8601 with a UTC offset"}
_NAME64 = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"\S"}
_IMPORT_ADDRESS = obj({"region": {"anyOf": [{"type": "string", "pattern": r"^\s*\d{6}\s*$"},
                                            {"type": "integer", "minimum": 100000, "maximum": 999999}],
                                  "description": "6-digit administrative division code"},
                       "line": {"type": "string", "maxLength": 255}, "contact": {"type": "string", "maxLength": 100},
                       "phone": {"type": "string", "maxLength": 32}}, ["region"])
IMPORT_DOCUMENT = obj({
    "users": {"type": "array", "items": obj({
        "username": {"type": "string", "minLength": 1, "maxLength": 150, "pattern": r"^\s*[\w.@+-]+\s*$"},
        "password": {"type": "string", "minLength": 1},
        "role": ref("UserRole"),
        "email": {"type": "string", "maxLength": 254, "pattern": r"^\s*([^@\s]+@[^@\s]+)?\s*$",
                  "description": "an email address (\"\" = none)"},
        "good_standing": {"type": "boolean", "default": True},
        "supervisor": {"type": "boolean", "default": False},
        "shops": {"type": "array", "items": _NAME64},
    }, ["username", "password", "role"])},
    "shops": {"type": "array", "items": obj({
        "code": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^\s*[A-Za-z0-9_-]+\s*$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
        "return_address": _IMPORT_ADDRESS,
    }, ["code", "name"])},
    "products": {"type": "array", "items": obj({
        "sku": _NAME64, "shop": _NAME64,
        "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
        "category": {"type": "string", "maxLength": 64, "description": "custom_made, fresh, virtual and "
                     "periodical exclude 7-day no-reason returns"},
        "no_reason_returns": {"type": "boolean", "default": True},
        "warranty_days": _COUNT, "weight_grams": _COUNT,
        "size_cm": {"type": "array", "items": _COUNT, "minItems": 3, "maxItems": 3},
        "image": {"type": "string", "maxLength": 500, "description": "URL of the product's picture"},
        "on_site_service": {"type": "boolean", "default": False},
    }, ["sku", "shop", "name"])},
    "orders": {"type": "array", "items": obj({
        "number": _NAME64, "consumer": {"type": "string", "minLength": 1, "maxLength": 150, "pattern": r"\S"},
        "shop": _NAME64, "paid_at": _STAMP, "shipped_at": _STAMP, "signed_at": _STAMP,
        "shipping_fee": _MONEY_LOOSE, "points_used": _COUNT, "return_shipping_insurance": {"type": "boolean"},
        "coupon": obj({"code": _NAME64, "value": _MONEY_LOOSE, "valid_until": _STAMP}, ["code", "value"]),
        "address": _IMPORT_ADDRESS,
        "carrier": {"type": "string", "maxLength": 32, "description": "courier code of the outbound parcel"},
        "waybill": {"type": "string", "maxLength": 64, "description": "waybill of the outbound parcel"},
        "items": {"type": "array", "minItems": 1, "items": obj({
            "sku": _NAME64, "quantity": {"type": "integer", "minimum": 1, "maximum": 2147483647},
            "unit_price": _MONEY_LOOSE, "paid": _MONEY_LOOSE}, ["sku", "quantity", "unit_price", "paid"])},
    }, ["number", "consumer", "shop", "paid_at", "address", "items"])},
}, description="The marketplace document of api.md; every list optional, unknown fields ignored.")
IMPORT_EXAMPLE = {
    "users": [{"username": "alice", "password": "s3cret-pass", "role": "consumer", "email": "a@example.com"}],
    "shops": [{"code": "acme", "name": "ACME 旗舰店",
               "return_address": {"region": "330106", "line": "文三路 1 号", "contact": "王五", "phone": "0571-1"}}],
    "products": [{"sku": "TEE-1", "shop": "acme", "name": "T恤", "category": "apparel", "warranty_days": 0,
                  "weight_grams": 300, "size_cm": [30, 20, 5]}],
    "orders": [{"number": "T1001", "consumer": "alice", "shop": "acme", "paid_at": "2026-11-01T10:00:00+08:00",
                "address": {"region": "310104", "line": "漕溪北路 1 号", "contact": "张三", "phone": "13800138000"},
                "items": [{"sku": "TEE-1", "quantity": 2, "unit_price": "99.00", "paid": "188.00"}]}],
}
IMPORT: Operation = {
    "operationId": "marketplace_import", "tags": ["marketplace"],
    "summary": "Import marketplace data (supervisors only)",
    "description": "Idempotent: users by `username`, shops by `code`, products by `sku`, orders by `number`. "
                   "A bad value rejects the whole document (400 naming the path in `field`); a staff user in "
                   "the document, or a change to a staff account, is a 403 and nothing is written.",
    "requestBody": json_body(IMPORT_DOCUMENT, IMPORT_EXAMPLE, required=False),
    "responses": {
        **ok(200, obj({
            **{k: _COUNT for k in ("users", "shops", "products", "orders")},
            **{k: {"type": "object", "additionalProperties": _COUNT} for k in ("created", "updated", "unchanged")},
        }, ["users", "shops", "products", "orders"], "records in the document, and what became of them"),
             "What the import wrote (an empty body is an empty document).",
             {"users": 1, "shops": 1, "products": 1, "orders": 1,
              "created": {"users": 1, "shops": 1, "products": 1, "orders": 1, "items": 1},
              "updated": {"users": 0, "shops": 0, "products": 0, "orders": 0, "items": 0},
              "unchanged": {"users": 0, "shops": 0, "products": 0, "orders": 0}}),
        **errors({400: ("required",)}, body=True),
    },
}

ORDERS: Operation = {
    "operationId": "orders_list", "tags": ["orders"], "summary": "The consumer's own orders",
    "parameters": PAGE_PARAMS,
    "responses": {
        **ok(200, ref("OrderPage"), "A page of orders, newest first, with each item's after-sales options.",
             {"count": 0, "next": None, "previous": None, "results": []}),
        **errors({400: ()}),
    },
}


# --- cases -----------------------------------------------------------------------------------------------

LIST_PARAMS = [
    {**query("state", {"type": "array", "items": ref("State"), "minItems": 1},
             "only cases in these states (comma-separated)", ["pending_merchant"]), "style": "form", "explode": False},
    {**query("kind", {"type": "array", "items": ref("Kind"), "minItems": 1},
             "only cases of these kinds (comma-separated)", ["return_refund"]), "style": "form", "explode": False},
    query("shop", {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9_-]+$"},
          "only cases of the shop with this code", "acme"),
    query("ordering", {"type": "string", "enum": ["deadline", "-deadline", "deadline_due_at", "created_at",
                                                    "-created_at"]},
          "sort order (default: newest first; `deadline_due_at` = `deadline`)", "deadline"),
    *PAGE_PARAMS,
]
CASES_LIST: Operation = {
    "operationId": "cases_list", "tags": ["cases"], "summary": "Cases the user may see",
    "parameters": LIST_PARAMS,
    "responses": {
        **ok(200, ref("CasePage"), "A page of cases; `count` is exact.",
             {"count": 1, "next": None, "previous": None, "results": [EXAMPLE_ROW]},
             {"FirstCase": {"operationId": "cases_retrieve",
                            "parameters": {"case_id": "$response.body#/results/0/id"}}}),
        **errors({400: ()}),
    },
}
_CREATE_FIELDS = {
    "order_item": {**ID, "description": "the order item's id (from GET /api/v1/orders/)"},
    "kind": ref("Kind"), "reason": ref("Reason"),
    "quantity": {"type": "integer", "minimum": 1, "maximum": 2147483647,
                 "description": "default: every unit not yet claimed"},
    "amount": {**AMOUNT_IN, "description": "refund claimed (default: the claimable amount); 0 or absent for "
               "exchange and repair"},
    "description": {"type": "string", "maxLength": 2000},
    "condition_intact": {"type": "boolean", "default": False,
                         "description": "the consumer declares the goods intact and resaleable (no_reason)"},
}
CASE_CREATE_JSON = obj(_CREATE_FIELDS, ["order_item", "kind", "reason"])
CASE_CREATE_MULTIPART = obj({**_CREATE_FIELDS, "evidence": {
    "type": "array", "maxItems": 9, "items": {"type": "string", "format": "binary"},
    "description": "photos: JPEG, PNG or WebP (a PDF may accompany them), at most 9 files of 10 MB each"}},
    ["order_item", "kind", "reason"])
CREATE_EXAMPLE = {"order_item": 1, "kind": "return_refund", "reason": "quality_issue", "quantity": 1,
                  "amount": "99.00", "description": "领口开线", "condition_intact": False}
CASES_CREATE: Operation = {
    "operationId": "cases_create", "tags": ["cases"], "summary": "Open a case (consumers)",
    "description": "Eligibility is checked in lifecycle.md's order; the first failure answers with its code.",
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": optional_nullable(CASE_CREATE_JSON), "example": CREATE_EXAMPLE},
        "multipart/form-data": {"schema": CASE_CREATE_MULTIPART, "example": CREATE_EXAMPLE,
                                "encoding": {"evidence": {"contentType": ", ".join(EVIDENCE_CONTENT_TYPES)}}},
    }},
    "responses": {
        **ok(201, ref("Case"), "The new case.", EXAMPLE_CASE, CASE_LINKS),
        **errors({400: ("required", *SUBMISSION_CODES, "too_many_files", "empty_file"),
                  404: ("not_your_order",), 409: (), 413: ("file_too_large",), 415: ("unsupported_file_type",)},
                 throttled=True, body=True),
    },
}
CASES_RETRIEVE: Operation = {
    "operationId": "cases_retrieve", "tags": ["cases"], "summary": "One case, with its timeline",
    "parameters": [CASE_ID],
    "responses": {**ok(200, ref("Case"), "The case.", EXAMPLE_CASE, CASE_LINKS), **errors({})},
}

# The action bodies come from the lifecycle table's fields (cases/lifecycle.py); here only what a reader needs
# besides: a summary, the 400 codes beyond `invalid`/`required`/`parse_error`, an example and field notes.
ACTION_DOCS: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "approve": ("Approve the request (merchant)", (), {}),
    "reject": ("Reject the request (merchant)", (), {"reason": "商品已影响二次销售"}),
    "revise": ("Revise the request (consumer)", ("reason_not_applicable", "category_excluded", "evidence_required",
                                                 "amount_exceeds_paid", "amount_not_allowed", *SUBMISSION_CODES),
               {"amount": "50.00", "description": "只退一件"}),
    "withdraw": ("Withdraw the request (consumer)", (), {}),
    "escalate": ("Ask the platform to step in (consumer)", (), {"statement": "商家拒绝但商品确有质量问题"}),
    "ship_return": ("Ship the goods back (consumer)", (), {"carrier": "SF", "tracking_number": "SF1234567890"}),
    "confirm_receipt": ("Confirm the return arrived (merchant)", ("amount_below_paid",), {}),
    "refuse_receipt": ("Refuse the returned parcel (merchant)", (), {"reason": "退回商品与原商品不符"}),
    "ship_replacement": ("Ship the replacement (merchant)", (), {"carrier": "SF", "tracking_number": "SF1234567891"}),
    "ship_repaired": ("Ship the repaired goods (merchant)", (), {"carrier": "SF", "tracking_number": "SF1234567892"}),
    "approve_refund": ("Refund instead of replacing or repairing (merchant)", ("amount_below_paid",), {}),
    "confirm_completion": ("Confirm the replacement or repair arrived (consumer)", (), {}),
    "intervene": ("Step in (staff)", (), {"note": "平台主动介入"}),
    "close_evidence": ("End the evidence period (staff)", (), {}),
    "rule": ("Rule on the case (staff with the ruling permission)", ("amount_exceeds_paid", "amount_below_paid"),
             {"decision": "refund", "rationale": "商品存在质量问题，支持退款", "amount": "99.00"}),
    "expire": ("Close an expired case (the system's alone: always refused here)", (), {}),
    "appeal": ("Appeal a ruling, once, within 3 days of it (consumer or merchant; docs/appeals.md)",
               ("not_appealable", "already_appealed", "appeal_window_closed"), {"statement": "裁决未考虑质检报告"}),
    "answer_appeal": ("Answer the other party's appeal (docs/appeals.md)", ("already_answered", "answer_window_closed"),
                      {"statement": "维持原裁决的理由"}),
    "decide_appeal": ("Decide an appeal: uphold or overturn (a supervisor who did not rule; docs/appeals.md)",
                      ("amount_exceeds_paid", "amount_below_paid"),
                      {"outcome": "overturn", "rationale": "复核后支持退款", "decision": "refund", "amount": "99.00"}),
    "intercept": ("Ask the courier to stop the parcel (consumer or merchant; docs/interception.md)",
                  ("not_interceptable",), {}),
    "intercept_failed": ("The courier could not stop the parcel (the system's alone: refused here)", (), {}),
    "book_visit": ("Book a technician's on-site repair visit instead of sending the item (consumer; "
                   "docs/visits.md)", ("visit_not_offered", "region_not_covered", "remote_region"), {"slot": 1}),
    "cancel_visit": ("Call the technician's visit off: back to sending the item (consumer; docs/visits.md)", (), {}),
    "visit_repaired": ("The technician repaired the item on site (the system's alone, by the provider's "
                       "webhook: refused here)", (), {}),
    "visit_needs_workshop": ("The item must go to the workshop (the system's alone: refused here)", (), {}),
    "visit_not_repairable": ("The item cannot be repaired (the system's alone: refused here)", (), {}),
}
# 409 codes an action answers besides `invalid_transition` and `conflict`
ACTION_CONFLICTS: dict[str, tuple[str, ...]] = {"book_visit": ("no_slot",)}
FIELD_NOTES = {
    ("reject", "reason"): "why, in free text", ("refuse_receipt", "reason"): "why, in free text",
    ("reject", "reason_code"): "a reason from the shop's list, if one was chosen",
    ("refuse_receipt", "reason_code"): "a reason from the shop's list, if one was chosen",
    ("rule", "rationale"): "the written reasons", ("rule", "amount"): "required with `refund`: at most claimable",
    ("rule", "require_return"): "with `refund`: the goods come back first",
    ("book_visit", "slot"): "a slot id from `GET /api/v1/cases/{case_id}/visit/options/`",
}


def field_schema(action: str, spec: LifecycleField) -> dict[str, Any]:
    """An action field as OpenAPI, by the kind the lifecycle table gives it."""
    out: dict[str, Any]
    if spec.kind == "amount":
        out = dict(AMOUNT_IN)
    elif spec.kind == "bool":
        out = {"type": "boolean", "default": False}
    elif spec.kind == "points":
        out = {"type": "integer", "minimum": 0, "maximum": 10_000_000}
    elif spec.kind == "id":
        out = {"type": "integer", "minimum": 1}
    elif spec.kind == "reason":
        out = ref("Reason")
    elif spec.kind == "choice":
        out = ref("Decision") if spec.choices == ("refund", "reject") else {"type": "string",
                                                                            "enum": list(spec.choices)}
    else:
        out = {"type": "string", **({"maxLength": spec.max_length} if spec.max_length else {})}
        if spec.required:
            out.update(minLength=1, pattern=r"\S")
    note = FIELD_NOTES.get((action, spec.name))
    return {**out, "description": note} if note and "$ref" not in out else out


def action_operation(action: str) -> Operation:
    summary, codes, example = ACTION_DOCS.get(action, (f"Run `{action}`", (), {}))
    fields = LIFECYCLE[action].fields
    props = {f.name: field_schema(action, f) for f in fields}
    required = [f.name for f in fields if f.required]
    body_schema = obj(props, required) if props else {"type": "object", "description": "no fields"}
    codes = (*codes, "required") if required else codes
    return {
        "operationId": f"cases_action_{action}", "tags": ["case actions"], "summary": summary,
        "description": f"Runs `{action}` (lifecycle.md) → 200 with the case. Not allowed in the case's state: "
                       "409 `invalid_transition`; a role that may never take it: 403 (404 if it cannot see the "
                       "case). The path `/api/v1/cases/{case_id}/actions/{action}/` with any other action name "
                       "is a 404.",
        "parameters": [CASE_ID],
        "requestBody": json_body(body_schema, example, required=bool(required)),
        "responses": {**ok(200, ref("Case"), "The case after the action.", EXAMPLE_CASE, CASE_LINKS),
                      **errors({400: codes, 409: ACTION_CONFLICTS.get(action, ())}, throttled=True, body=True)},
    }


EVIDENCE_UPLOAD: Operation = {
    "operationId": "cases_evidence_create", "tags": ["cases"], "summary": "Add evidence (consumer, merchant)",
    "parameters": [CASE_ID],
    "requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": obj({"files": {"type": "array", "minItems": 1, "maxItems": 9,
                                 "items": {"type": "string", "format": "binary"},
                                 "description": "JPEG, PNG, WebP or PDF (checked by content), 10 MB each"},
                       "note": {"type": "string", "description": "kept to its first 500 characters"}},
                      ["files"]),
        "encoding": {"files": {"contentType": ", ".join(EVIDENCE_CONTENT_TYPES)}},
        "example": {"files": ["(the bytes of a JPEG, PNG, WebP or PDF file)"], "note": "外包装破损照片"},
    }}},
    "responses": {
        **ok(201, obj({"evidence": {"type": "array", "items": ref("Evidence")}}, ["evidence"]), "What was stored.",
             {"evidence": [{"id": 1, "role": "consumer", "content_type": "image/jpeg", "size": 4899,
                            "name": "photo.jpg", "note": "", "created_at": "2026-12-02T10:00:00+08:00",
                            "url": "/api/v1/evidence/1/file/"}]}),
        **errors({400: ("required", "too_many_files", "empty_file"), 409: (), 413: ("file_too_large",),
                  415: ("unsupported_file_type",)}, throttled=True, body=True),
    },
}
EVIDENCE_LIST: Operation = {
    "operationId": "cases_evidence_list", "tags": ["cases"], "summary": "A case's evidence",
    "parameters": [CASE_ID],
    "responses": {**ok(200, obj({"evidence": {"type": "array", "items": ref("Evidence")}}, ["evidence"]),
                       "The case's evidence, oldest first.", {"evidence": []}), **errors({})},
}
EVIDENCE_FILE: Operation = {
    "operationId": "evidence_file", "tags": ["cases"], "summary": "An evidence file's bytes",
    "parameters": [path_id("evidence_id", "the evidence's id")],
    "responses": {
        "200": {"description": "The file, served with the type sniffed from its bytes at upload.",
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in EVIDENCE_CONTENT_TYPES}},
        **errors({}),
    },
}
MESSAGES_LIST: Operation = {
    "operationId": "cases_messages_list", "tags": ["cases"], "summary": "The case's conversation",
    "description": "Parties never see staff's internal notes.",
    "parameters": [CASE_ID],
    "responses": {**ok(200, obj({"results": {"type": "array", "items": ref("Message")}}, ["results"]),
                       "Messages, oldest first.", {"results": [
                           {"id": 1, "author": "alice", "role": "consumer", "body": "请尽快处理", "internal": False,
                            "created_at": "2026-12-02T10:00:00+08:00"}]}), **errors({})},
}
MESSAGES_POST: Operation = {
    "operationId": "cases_messages_create", "tags": ["cases"], "summary": "Write to the case's conversation",
    "description": "Staff may post `internal` notes at any time; staff write to the parties only once the "
                   "platform has stepped in (else 409 `invalid_transition`).",
    "parameters": [CASE_ID],
    "requestBody": json_body(obj({"body": {**TEXT, "maxLength": 5000},
                                  "internal": {"type": "boolean", "default": False}}, ["body"]),
                             {"body": "请尽快处理"}),
    "responses": {
        **ok(201, ref("Message"), "The message.", {"id": 1, "author": "alice", "role": "consumer",
                                                  "body": "请尽快处理", "internal": False,
                                                  "created_at": "2026-12-02T10:00:00+08:00"}),
        **errors({400: ("required",), 409: ()}, throttled=True, body=True),
    },
}


# --- pickups ---------------------------------------------------------------------------------------------

PICKUP_OPTIONS: Operation = {
    "operationId": "cases_pickup_options", "tags": ["pickups"], "summary": "Can a pickup be booked? (consumer)",
    "description": "200 also when not eligible: `reasons` names every refusal.",
    "parameters": [CASE_ID, query("region", {"type": "string", "pattern": r"^\d{2}(\d{2}){0,2}$"},
                                  "another pickup address's region code", "310104")],
    "responses": {
        **ok(200, ref("PickupOptions"), "Eligibility, quote and open slots.",
             {"eligible": True, "reasons": [], "fee": "12.00", "payer": "merchant", "consumer_fee": "0.00",
              "courier": "simulated", "region": "310104", "weight_grams": 300,
              "slots": [{"id": 7, "start": "2026-12-03T09:00:00+08:00", "end": "2026-12-03T11:00:00+08:00",
                         "remaining": 10}]},
             {"Book": {"operationId": "cases_pickup_book", "parameters": {"case_id": "$request.path.case_id"},
                       "requestBody": {"slot": "$response.body#/slots/0/id"}}}),
        **errors({400: ()}),
    },
}
VISIT_OPTIONS: Operation = {
    "operationId": "cases_visit_options", "tags": ["pickups"],
    "summary": "Can a technician visit be booked? (consumer; docs/visits.md)",
    "description": "200 also when not eligible: `reasons` names every refusal. Book with the case action "
                   "`book_visit` and a slot id from here.",
    "parameters": [CASE_ID],
    "responses": {
        **ok(200, ref("VisitOptions"), "Eligibility, fee and open visit slots.",
             {"eligible": True, "reasons": [], "fee": "30.00", "payer": "merchant", "consumer_fee": "0.00",
              "provider": "simulated", "region": "310104",
              "slots": [{"id": 8, "start": "2026-12-03T09:00:00+08:00", "end": "2026-12-03T11:00:00+08:00",
                         "remaining": 5}]}),
        **errors({400: ()}),
    },
}
_PICKUP_LINKS = {
    "Cancel": {"operationId": "pickups_cancel", "parameters": {"pickup_id": "$response.body#/id"}},
    "Reschedule": {"operationId": "pickups_reschedule", "parameters": {"pickup_id": "$response.body#/id"}},
}
_PICKUP_REFUSALS = ("region_not_covered", "remote_region", "overweight", "oversize")
_SLOT = {**ID, "description": "a slot id from the options"}
PICKUP_BOOK: Operation = {
    "operationId": "cases_pickup_book", "tags": ["pickups"], "summary": "Book a pickup (consumer)",
    "parameters": [CASE_ID],
    "requestBody": json_body(obj({"slot": _SLOT, "address": obj({
        "region": {"type": "string", "pattern": r"^\d{2}(\d{2}){0,2}$"},
        "line": {"type": "string", "maxLength": 255}, "contact": {"type": "string", "maxLength": 100},
        "phone": {"type": "string", "maxLength": 32}}, description="fields to use instead of the order's address")},
        ["slot"]), {"slot": 7}),
    "responses": {
        **ok(201, ref("Pickup"), "The booked pickup.", EXAMPLE_PICKUP, _PICKUP_LINKS),
        **errors({400: ("required", *_PICKUP_REFUSALS), 409: ("no_slot", "wrong_state", "pickup_active")},
                 throttled=True, body=True),
    },
}
PICKUP_CANCEL: Operation = {
    "operationId": "pickups_cancel", "tags": ["pickups"], "summary": "Cancel a pickup before the courier comes",
    "parameters": [PICKUP_ID],
    "responses": {**ok(200, ref("Pickup"), "The cancelled pickup.", {**EXAMPLE_PICKUP, "state": "cancelled"}),
                  **errors({409: ()}, throttled=True)},
}
PICKUP_RESCHEDULE: Operation = {
    "operationId": "pickups_reschedule", "tags": ["pickups"], "summary": "Rebook a failed pickup in another slot",
    "parameters": [PICKUP_ID],
    "requestBody": json_body(obj({"slot": _SLOT}, ["slot"]), {"slot": 8}),
    "responses": {
        **ok(200, ref("Pickup"), "The rebooked pickup.", EXAMPLE_PICKUP, _PICKUP_LINKS),
        **errors({400: ("required", *_PICKUP_REFUSALS), 409: ("no_slot", "wrong_state", "pickup_active")},
                 throttled=True, body=True),
    },
}
WEBHOOK: Operation = {
    "operationId": "couriers_webhook", "tags": ["couriers"], "security": [],
    "summary": "A courier's signed status event",
    "description": "`X-Signature` is the hex HMAC-SHA256, with the courier's secret, of `\"{X-Timestamp}.\"` + the "
                   "raw body. A repeated `event_id` is a no-op (200, `duplicate`).",
    "parameters": [
        {"name": "courier", "in": "path", "required": True, "example": "simulated",
         "schema": {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}, "description": "the courier's code"},
        {"name": "X-Timestamp", "in": "header", "required": True, "schema": {"type": "string", "pattern": r"^\d+$"},
         "description": "Unix seconds", "example": "1764640800"},
        {"name": "X-Signature", "in": "header", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "example": "0" * 64},
    ],
    "requestBody": json_body(obj({
        "event_id": {"type": "string", "minLength": 1, "maxLength": 128}, "waybill": {"type": "string"},
        "status": {"type": "string", "description": "dispatched, picked_up, in_transit, delivered, "
                   "inspection_failed, failed …"},
        "at": DATETIME, "reference": {"type": "string", "description": "the booking's idempotency key"},
    }, ["event_id", "waybill", "status", "at"]),
        {"event_id": "evt-1", "waybill": "SIM000001", "status": "picked_up", "at": "2026-12-03T09:30:00+08:00"}),
    "responses": {
        **ok(200, obj({"event_id": {"type": "string"}, "applied": {"type": "boolean"},
                       "duplicate": {"type": "boolean"}, "note": {"type": "string"},
                       "pickup": {"type": "integer", "nullable": True},
                       "state": {"type": "string", "nullable": True}},
                      ["event_id", "applied", "duplicate", "note", "pickup", "state"]),
             "Received (applied or not: `note` says why).",
             {"event_id": "evt-1", "applied": True, "duplicate": False, "note": "picked_up", "pickup": 1,
              "state": "picked_up"}),
        **errors({400: ("invalid_json", "required"), 401: ("invalid_signature", "stale_timestamp")},
                 auth=False, body=True),
    },
}

# --- ratings, scorecards, the assistant (api.md "Ratings, scorecards and the assistant") ----------------

EXAMPLE_RATING = {"stars": 4, "tags": ["fast_response", "polite"], "comment": "处理很快", "comment_hidden": False,
                  "pickup_stars": None, "at": "2026-12-02T10:00:00+08:00"}
RATING_CREATE: Operation = {
    "operationId": "cases_rating_create", "tags": ["quality"], "summary": "Rate a finished case (its consumer)",
    "description": "Once, within 15 days of the case becoming terminal (售后服务评价). The fields are checked "
                   "after the case: a case not terminal is `not_rateable`, a second rating `already_rated`, a late "
                   "one `rating_window_closed`; then a bad `stars`, an unknown tag, a comment over 500 characters, "
                   "`pickup_stars` on a case without a pickup, or a value of the wrong JSON type (`\"5\"`, `true`) "
                   "is `invalid` with `field`, and nothing is written. A merchant or staff member: 403.",
    "parameters": [CASE_ID],
    "requestBody": json_body(obj({
        "stars": {**STARS, "description": "the merchant's handling, 1 to 5 (a JSON integer)"},
        "tags": {"type": "array", "items": ref("RatingTag"),
                 "description": "from the fixed list (a repeated tag counts once)"},
        "comment": {"type": "string", "maxLength": RATING_COMMENT_MAX, "description": "at most 500 characters"},
        "pickup_stars": {**STARS, "description": "the pickup's service: only on a case whose parcel a courier "
                         "took"},
    }, ["stars"]), {"stars": 4, "tags": ["fast_response", "polite"], "comment": "处理很快"}),
    "responses": {
        **ok(201, ref("Rating"), "The rating, as the case shows it from now on.", EXAMPLE_RATING),
        **errors({400: ("not_rateable", "already_rated", "rating_window_closed")}, throttled=True, body=True),
    },
}
RATING_HIDE: Operation = {
    "operationId": "cases_rating_hide_comment", "tags": ["quality"],
    "summary": "Hide an abusive rating comment (staff)",
    "description": "The stars still count; the case's timeline records who hid it and why (audited). Hiding a "
                   "hidden comment again changes nothing. A case with no rating: 404.",
    "parameters": [CASE_ID],
    "requestBody": json_body(obj({"reason": {**TEXT, "maxLength": 500, "description": "why, for the audit"}},
                                 ["reason"]), {"reason": "辱骂商家"}),
    "responses": {
        **ok(200, ref("Rating"), "The rating, its comment hidden.",
             {**EXAMPLE_RATING, "stars": 1, "tags": [], "comment": None, "comment_hidden": True}),
        **errors({400: ("required",)}, body=True),
    },
}
EXAMPLE_FIGURES = {"dispute_rate": "0.0125", "intervention_rate": "0.0800", "quality_refund_rate": "0.0310",
                   "refund_hours": {"mean": "26.4", "p90": "71.0"}, "first_response_hours": "5.5",
                   "self_resolved_rate": "0.9200"}
SCORECARD: Operation = {
    "operationId": "shops_scorecard", "tags": ["quality"], "summary": "A shop's scorecard (its members, staff)",
    "description": "Over the rolling 30 days ending now (Asia/Shanghai), with the average of the shop's category "
                   "(the category most of its products have) beside each figure. Definitions: api.md and "
                   "docs/quality.md. Anyone else (another shop's merchant, a consumer): 404.",
    "parameters": [{"name": "code", "in": "path", "required": True, "example": "acme",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 64}, "description": "the shop's code"}],
    "responses": {
        **ok(200, ref("Scorecard"), "The scorecard.", {
            "shop": "acme", "from": "2026-11-02T12:00:00+08:00", "to": "2026-12-02T12:00:00+08:00",
            **EXAMPLE_FIGURES, "rating": {"mean": "4.50", "count": 12}, "category": "apparel",
            "category_average": {**EXAMPLE_FIGURES, "dispute_rate": "0.0098"}, "held_to_thresholds": True,
            "counts": {"order_items_paid": 800, "ruled_refund": 10, "escalated_or_intervened": 8, "opened": 100,
                       "quality_refunds": 25, "refunds_paid": 60, "responded": 95, "terminal": 100,
                       "self_resolved": 92}}),
        **errors({}),
    },
}
REPLY_SUGGESTIONS: Operation = {
    "operationId": "case_reply_suggestions", "tags": ["assistant"],
    "summary": "Replies the merchant may send on a case (the shop's members)",
    "description": "At most 3, best first, from the shop's templates and the knowledge base, in the requester's "
                   "language. Staff, or the case's consumer: 403; a case the user may not see: 404.",
    "parameters": [CASE_ID],
    "responses": {
        **ok(200, ref("ReplySuggestions"), "The suggestions (possibly none).",
             {"suggestions": [{"text": "您好，麻烦提供商品问题部位的照片，我们尽快为您处理。",
                               "source": "merchant-ask-photos"}]}),
        **errors({}),
    },
}
ASSISTANT_ASK: Operation = {
    "operationId": "assistant_ask", "tags": ["assistant"], "summary": "Ask the after-sales assistant",
    "description": "Any signed-in user. Answers in the requester's language (their setting, else "
                   "`Accept-Language`). With `order_item` the answer covers what may be opened on that item now; "
                   "another consumer's item (or no such item) is a 404 `not_your_order`, before anything else. "
                   "`order_item` is a JSON integer (digits in a form).",
    "requestBody": json_body(obj({
        "question": {**TEXT, "maxLength": 500},
        "order_item": {**ID, "description": "one of the requester's order items"},
    }, ["question"]), {"question": "收到的杯子裂了怎么办", "order_item": 1}),
    "responses": {
        **ok(200, ref("AssistantAnswer"), "The answer.", {
            "answer": "听起来是“质量问题”，建议申请“退货退款”。", "sources": [{"id": "reason-quality",
                                                                  "title": "质量问题怎么退"}],
            "suggestion": {"kind": "return_refund", "reason": "quality_issue"}, "confidence": 0.87,
            "handoff": False}),
        **errors({400: ("required",), 404: ("not_your_order",)}, throttled=True, body=True),
    },
}

# (path, method) → operation; the action path is expanded into one path per action by the hook.
OPERATIONS: dict[tuple[str, str], Operation] = {
    (f"{V1}/auth/token/", "post"): TOKEN,
    (f"{V1}/marketplace/import/", "post"): IMPORT,
    (f"{V1}/orders/", "get"): ORDERS,
    (f"{V1}/cases/", "get"): CASES_LIST,
    (f"{V1}/cases/", "post"): CASES_CREATE,
    (f"{V1}/cases/{{case_id}}/", "get"): CASES_RETRIEVE,
    (f"{V1}/cases/{{case_id}}/evidence/", "get"): EVIDENCE_LIST,
    (f"{V1}/cases/{{case_id}}/evidence/", "post"): EVIDENCE_UPLOAD,
    (f"{V1}/cases/{{case_id}}/messages/", "get"): MESSAGES_LIST,
    (f"{V1}/cases/{{case_id}}/messages/", "post"): MESSAGES_POST,
    (f"{V1}/evidence/{{evidence_id}}/file/", "get"): EVIDENCE_FILE,
    (f"{V1}/cases/{{case_id}}/pickup/options/", "get"): PICKUP_OPTIONS,
    (f"{V1}/cases/{{case_id}}/pickup/", "post"): PICKUP_BOOK,
    (f"{V1}/cases/{{case_id}}/visit/options/", "get"): VISIT_OPTIONS,
    (f"{V1}/pickups/{{pickup_id}}/cancel/", "post"): PICKUP_CANCEL,
    (f"{V1}/pickups/{{pickup_id}}/reschedule/", "post"): PICKUP_RESCHEDULE,
    (f"{V1}/couriers/{{courier}}/webhook/", "post"): WEBHOOK,
    (f"{V1}/cases/{{case_id}}/rating/", "post"): RATING_CREATE,
    (f"{V1}/cases/{{case_id}}/rating/hide-comment/", "post"): RATING_HIDE,
    (f"{V1}/shops/{{code}}/scorecard/", "get"): SCORECARD,
    (f"{V1}/cases/{{case_id}}/reply-suggestions/", "get"): REPLY_SUGGESTIONS,
    (f"{V1}/assistant/ask/", "post"): ASSISTANT_ASK,
}
ACTION_PATH = f"{V1}/cases/{{case_id}}/actions/{{action}}/"
