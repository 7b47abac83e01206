"""The case API of api.md: list, create, detail, actions, evidence, messages."""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from django.db import connection
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pickups.selectors import current_pickups, pickup_dict
from portal import parsers, sqlcache
from portal.api_support import (
    CaseActionThrottle,
    CaseCreateThrottle,
    MessageThrottle,
    Pagination,
    UploadThrottle,
    query_choices,
    query_int,
    query_value,
)
from portal.errors import DomainError
from portal.http import user_of
from portal.models import OrderItem

from . import conditions, services
from .choices import Kind, Reason, State
from .evidence import evidence_add
from .lifecycle import ACTIONS, Field
from .models import AfterSalesCase, CaseEvidence, CaseMessage, Holiday
from .permissions import available_actions, role_of
from .policy import CENT, PARTY_FOR_DEADLINE
from .quality.ratings import rating_json
from .selectors import (
    CASE_ROW_FIELDS,
    case_detail_for,
    case_event_summaries,
    case_history,
    case_list_source,
    case_row_for,
    joins_as_written,
)

SHOP_CODE = re.compile(r"[-a-zA-Z0-9_]{1,64}")
ORDERINGS = ("deadline", "-deadline", "deadline_due_at", "created_at", "-created_at")


def evidence_dict(evidence: CaseEvidence) -> dict[str, Any]:
    return {"id": evidence.pk, "role": evidence.role, "content_type": evidence.content_type,
            "size": evidence.size, "name": evidence.original_name, "note": evidence.note,
            "created_at": evidence.created_at.isoformat(), "url": f"/api/v1/evidence/{evidence.pk}/file/"}


def event_row_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {"at": row["at"].isoformat(), "actor": row["actor_username"], "role": row["role"],
            "action": row["action"], "from_state": row["from_state"], "to_state": row["to_state"],
            "payload": row["payload"]}


def evidence_row_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "role": row["role"], "content_type": row["content_type"], "size": row["size"],
            "name": row["original_name"], "note": row["note"], "created_at": row["created_at"].isoformat(),
            "url": f"/api/v1/evidence/{row['id']}/file/"}


# what "what can I do now" reads of a row (cases.permissions, cases.conditions)
_ACTION_ROW_KEYS = ("state", "consumer_id", "shop_id", "kind", "reason", "ruled_state", "ruled_at", "ruled_by_id",
                    "appealed_at", "appeal_role", "appeal_answered_at", "deadline_name", "deadline_due_at",
                    "order_shipped_at", "order_signed_at", "order_carrier", "order_waybill",
                    "product_on_site_service")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def appeal_dict(row: dict[str, Any], holidays: list | None = None) -> dict[str, Any] | None:
    """The appeal window and the second decision (docs/appeals.md); null for a case never ruled."""
    if row["ruled_at"] is None:
        return None
    due = conditions.appeal_due(SimpleNamespace(ruled_at=row["ruled_at"]),
                                _all_holidays() if holidays is None else holidays)
    return {
        "ruled_at": _iso(row["ruled_at"]), "ruled_state": row["ruled_state"] or row["appeal_from_state"] or None,
        "window_due_at": _iso(due), "appealed_at": _iso(row["appealed_at"]),
        "appellant": row["appeal_role"] or None, "answered_at": _iso(row["appeal_answered_at"]),
        "ready_for_decision": row["appeal_ready"], "outcome": row["appeal_outcome"] or None,
        "decided_at": _iso(row["appeal_decided_at"]),
    }


def _all_holidays() -> list:
    return list(Holiday.objects.all())


def case_row_dict(row: dict[str, Any], user: Any, *, events: list[dict] | None, evidence: list[dict],
                  pickup: Any, last_event: dict | None = None, events_count: int = 0,
                  holidays: list | None = None) -> dict[str, Any]:
    """The case as api.md shows it, from a row of `selectors.case_rows` (no model instances are built).

    With `events` (a detail) it carries the whole timeline; without (a list row) `last_event` and
    `events_count` instead (api.md).
    """
    deadline = None
    if row["deadline_name"] and row["deadline_due_at"]:
        deadline = {"name": row["deadline_name"], "due_at": row["deadline_due_at"].isoformat(),
                    "party": PARTY_FOR_DEADLINE.get(row["deadline_name"])}
    refund = None
    if row["refund_id"] is not None:
        refund = {"amount": str(row["refund_paid_amount"]), "status": row["refund_status"],
                  "fast": row["refund_fast"],
                  "paid_at": row["refund_paid_at"].isoformat() if row["refund_paid_at"] else None}
    data = {
        "id": row["id"],
        "number": row["number"],
        "kind": row["kind"],
        "reason": row["reason"],
        "state": row["state"],
        "closure_reason": row["closure_reason"],
        "quantity": row["quantity"],
        "amount": str(row["amount"]),
        "order_item": row["order_item_id"],
        "order_number": row["order_number"],
        "sku": row["sku"],
        "product_name": row["product_name"],
        "shop": row["shop_code"],
        "consumer": row["consumer_username"],
        "freight_payer": row["freight_payer"],
        "description": row["description"],
        "condition_intact": row["condition_intact"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "deadline": deadline,
        "overdue": row["overdue"],
        "escalated": row["escalated"],
        "available_actions": available_actions(user, SimpleNamespace(**{k: row[k] for k in _ACTION_ROW_KEYS})),
        "appeal": appeal_dict(row, holidays),
        "refund": refund,
        "pickup": None if pickup is None else pickup_dict(
            pickup, unmasked=getattr(user, "pk", None) == row["consumer_id"]),
        "rating": None if row.get("rating_stars") is None else rating_json(
            stars=row["rating_stars"], tags=row["rating_tags"], comment=row["rating_comment"],
            at=row["rating_at"], pickup_stars=row["rating_pickup_stars"], hidden=row["rating_hidden"]),
    }
    if row["refund_amount"] is not None:
        data["refund_amount"] = str(row["refund_amount"])
    if events is not None:
        data["events"] = [event_row_dict(r) for r in events]
    else:
        data["last_event"] = event_row_dict(last_event) if last_event else None
        data["events_count"] = events_count
    data["evidence"] = [evidence_row_dict(r) for r in evidence]
    return data


def case_json(user: Any, case_id: int) -> dict[str, Any]:
    """One case as api.md shows it (the list's rows, for one id); not visible to the user: 404."""
    with joins_as_written():
        rows = case_row_for(user, case_id)
    if not rows:
        raise DomainError("not_found", _("找不到该资源"), status=404)
    return cases_json(rows, user, detail=True)[0]


def case_created_json(user: Any, case: AfterSalesCase) -> dict[str, Any]:
    """The 201 of a submission: the case as `case_json` shows it, built from the rows the service just wrote
    (its order item with order, product and shop, the consumer, the events and evidence in its prefetch cache)
    instead of read back; the same bytes as a GET of the detail right after (tests/cases/test_created_json.py).
    A case without those caches (the system approved it at once) is read back."""
    cache = getattr(case, "_prefetched_objects_cache", {})
    if "events" not in cache or "evidence" not in cache:
        return case_json(user, case.pk)
    item = case.order_item
    order, product = item.order, item.product
    row: dict[str, Any] = {name: getattr(case, name) for name in CASE_ROW_FIELDS}
    row.update(
        amount=_as_stored(case, "amount"), refund_amount=_as_stored(case, "refund_amount"),
        created_at=_utc(case.created_at), updated_at=_utc(case.updated_at),
        deadline_due_at=_utc(case.deadline_due_at),
        order_number=order.number, sku=product.sku, product_name=product.name, shop_code=order.shop.code,
        consumer_username=case.consumer.username, refund_id=None, refund_paid_amount=None, refund_status=None,
        refund_fast=None, refund_paid_at=None, order_shipped_at=order.shipped_at,
        order_signed_at=order.signed_at, order_carrier=order.carrier, order_waybill=order.waybill,
        product_on_site_service=product.on_site_service, rating_stars=None, rating_tags=None,
        rating_comment=None, rating_pickup_stars=None, rating_hidden=None, rating_at=None,
    )
    jsonb = connection.vendor == "postgresql"
    events = [{"at": _utc(e.at), "actor_username": e.actor_username, "role": e.role, "action": e.action,
               "from_state": e.from_state, "to_state": e.to_state,
               "payload": _as_jsonb(e.payload) if jsonb else e.payload} for e in cache["events"]]
    evidence = [{"id": e.pk, "role": e.role, "content_type": e.content_type, "size": e.size,
                 "original_name": e.original_name, "note": e.note, "created_at": _utc(e.created_at)}
                for e in cache["evidence"]]
    # a case just opened has no pickup, refund, rating nor ruling (so no holidays for an appeal window)
    return case_row_dict(row, user, events=events, evidence=evidence, pickup=None, holidays=[])


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if value is not None else None


def _as_stored(case: AfterSalesCase, name: str) -> Any:
    """A case's amount as the database gives it back (its columns have 2 places)."""
    value = getattr(case, name)
    return None if value is None else Decimal(value).quantize(CENT)


def _as_jsonb(value: Any) -> Any:
    """A JSON value as PostgreSQL's jsonb gives it back: an object's keys shorter first, then bytewise."""
    if isinstance(value, dict):
        return {k: _as_jsonb(value[k]) for k in sorted(value, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(value, list):
        return [_as_jsonb(v) for v in value]
    return value


def cases_json(rows: list[dict[str, Any]], user: Any, *, detail: bool) -> list[dict[str, Any]]:
    """Rows of `selectors.case_rows` as api.md's cases: histories and pickups read once for all of them.

    A detail carries every event; a list row the newest event and the count (api.md).
    """
    ids = [row["id"] for row in rows]
    pickups = current_pickups(ids) if ids else {}
    holidays = _all_holidays() if any(row["ruled_at"] for row in rows) else []
    if detail:
        events, evidence = case_history(ids)
        return [case_row_dict(row, user, events=events.get(row["id"], []), evidence=evidence.get(row["id"], []),
                              pickup=pickups.get(row["id"]), holidays=holidays) for row in rows]
    last, counts, evidence = case_event_summaries(ids)
    return [case_row_dict(row, user, events=None, evidence=evidence.get(row["id"], []),
                          pickup=pickups.get(row["id"]), last_event=last.get(row["id"]),
                          events_count=counts.get(row["id"], 0), holidays=holidays) for row in rows]


def _case_or_404(user: Any, case_id: int) -> AfterSalesCase:
    case = case_detail_for(user, case_id)
    if case is None:
        raise DomainError("not_found", _("找不到该资源"), status=404)
    return case


AMOUNT_TEXT = re.compile(r"(\d{1,10}(\.\d{1,2})?)?")
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def _is_json(request: Request) -> bool:
    return (request.content_type or "").split(";")[0].strip().lower() == "application/json"


def _bool(value: Any, field: str, *, json: bool) -> bool:
    """A boolean field: JSON true/false, or in a form one of the usual words; anything else is a 400."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if not json and isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise DomainError("invalid", _("%(field)s 须为 true 或 false") % {"field": field}, field=field)


def _int_or_error(value: Any, field: str, *, json: bool = False) -> int | None:
    """An integer field: a JSON integer, or in a form its digits; anything else is a 400."""
    if value is None or (value == "" and not json):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not json and isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    raise DomainError("invalid", _("%(field)s 须为整数") % {"field": field}, field=field)


def _amount(value: Any, field: str = "amount") -> Any:
    """An amount as documented: a decimal string with at most 2 places ("" = not given), or a JSON number."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and AMOUNT_TEXT.fullmatch(value):
        return value
    raise DomainError("invalid", _("%(field)s 须为最多两位小数的金额，如 \"99.00\"") % {"field": field}, field=field)


def _text(value: Any, field: str, max_length: int | None = None) -> str | None:
    if value is not None and not isinstance(value, str):
        raise DomainError("invalid", _("%(field)s 须为文本") % {"field": field}, field=field)
    if max_length is not None and value is not None and len(value) > max_length:
        raise DomainError("invalid", _("内容过长"), field=field)
    return value


def _data(request: Request) -> dict[str, Any]:
    data = request.data
    if not hasattr(data, "get"):
        raise DomainError("invalid", _("请求体须为 JSON 对象"))
    return cast(dict[str, Any], data)  # a JSON object, or a form's QueryDict


CaseOut = inline_serializer("Case", fields={
    "id": serializers.IntegerField(), "number": serializers.CharField(), "kind": serializers.CharField(),
    "reason": serializers.CharField(), "state": serializers.CharField(),
    "closure_reason": serializers.CharField(allow_null=True), "quantity": serializers.IntegerField(),
    "amount": serializers.DecimalField(max_digits=12, decimal_places=2), "order_item": serializers.IntegerField(),
    "order_number": serializers.CharField(), "shop": serializers.CharField(), "consumer": serializers.CharField(),
    "freight_payer": serializers.CharField(allow_null=True), "created_at": serializers.DateTimeField(),
    "deadline": serializers.JSONField(allow_null=True), "available_actions": serializers.ListField(),
    "events": serializers.ListField(), "refund": serializers.JSONField(allow_null=True),
    "pickup": serializers.JSONField(allow_null=True),
    "appeal": serializers.JSONField(allow_null=True, help_text="docs/appeals.md: the window and the decision"),
    "rating": serializers.JSONField(allow_null=True),
})
CaseIn = inline_serializer("CaseCreate", fields={
    "order_item": serializers.IntegerField(), "kind": serializers.CharField(), "reason": serializers.CharField(),
    "quantity": serializers.IntegerField(required=False), "amount": serializers.CharField(required=False),
    "description": serializers.CharField(required=False), "condition_intact": serializers.BooleanField(required=False),
    "evidence": serializers.ListField(child=serializers.FileField(), required=False),
})


class CaseListView(APIView):
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    def get_throttles(self):
        return [CaseCreateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="cases_list",
        parameters=[OpenApiParameter("state", str), OpenApiParameter("kind", str), OpenApiParameter("shop", str),
                    OpenApiParameter("ordering", str, enum=["deadline", "-deadline", "created_at", "-created_at"]),
                    OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: inline_serializer("CasePage", fields={
            "count": serializers.IntegerField(), "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True), "results": serializers.ListField(child=CaseOut)})},
    )
    def get(self, request: Request) -> Response:
        shop = query_value(request, "shop")
        if shop is not None and not SHOP_CODE.fullmatch(shop):
            raise DomainError("invalid", _("shop 须为店铺编码"), field="shop")
        ordering = query_value(request, "ordering")
        if ordering is not None and ordering not in ORDERINGS:
            raise DomainError("invalid", _("ordering 须为以下之一：%(values)s") % {"values": ", ".join(ORDERINGS)}, field="ordering")
        # Plain rows: one joined query for the page, then histories and pickups by case id (cases_json);
        # the queries compiled once per shape (portal.sqlcache)
        source = case_list_source(user_of(request), state=query_choices(request, "state", State.values),
                                  kind=query_choices(request, "kind", Kind.values), shop=shop, ordering=ordering)
        paginator = Pagination()
        # the page asked for is read with its count in one statement (CountedRows.expect)
        number, size = query_int(request, paginator.page_query_param) or 1, paginator.get_page_size(request)
        source.expect((number - 1) * size, size)
        with joins_as_written():
            page = list(paginator.paginate_queryset(source, request, view=self) or [])
        return paginator.get_paginated_response(cases_json(page, user_of(request), detail=False))

    @extend_schema(request={"application/json": CaseIn, "multipart/form-data": CaseIn}, responses={201: CaseOut})
    def post(self, request: Request) -> Response:
        if user_of(request).role != "consumer" or user_of(request).is_platform_staff:
            raise DomainError("permission_denied", _("只有买家可以申请售后"), status=403)
        data = _data(request)
        json = _is_json(request)
        if data.get("order_item") in (None, ""):
            raise DomainError("required", _("此项为必填项"), field="order_item")
        try:
            order_item = _int_or_error(data.get("order_item"), "order_item", json=json)
        except DomainError as exc:  # not an id of any item, so not one of this consumer's
            raise DomainError("not_your_order", _("找不到该订单商品"), field="order_item", status=404) from exc
        try:  # each field's type as documented; what the values mean is the service's to judge
            fields = {
                "kind": _text(data.get("kind"), "kind") or "", "reason": _text(data.get("reason"), "reason") or "",
                "quantity": _int_or_error(data.get("quantity"), "quantity", json=json),
                "amount": _amount(data.get("amount")),
                "description": _text(data.get("description"), "description") or "",
                "condition_intact": _bool(data.get("condition_intact"), "condition_intact", json=json),
            }
        except DomainError as exc:  # `not_your_order` still answers first (lifecycle.md)
            if not OrderItem.objects.filter(pk=order_item or 0, order__consumer=user_of(request)).exists():
                raise DomainError("not_your_order", _("找不到该订单商品"), field="order_item", status=404) from exc
            raise
        case = services.case_submit(
            consumer=user_of(request), order_item_id=order_item or 0, **fields,
            evidence_files=request.FILES.getlist("evidence") if hasattr(request, "FILES") else [],
        )
        return Response(case_created_json(user_of(request), case), status=201)


class CaseDetailView(APIView):
    @extend_schema(responses={200: CaseOut})
    def get(self, request: Request, case_id: int) -> Response:
        return Response(case_json(user_of(request), case_id))


def _checked_value(spec: Field, value: Any, *, json: bool) -> Any:
    """One action field's type, as the lifecycle table and the schema say it; what it means is the service's."""
    if value is None:
        return None
    if spec.kind == "amount":
        return _amount(value, spec.name)
    if spec.kind == "bool":
        return _bool(value, spec.name, json=json)
    if spec.kind in ("points", "id"):
        return _int_or_error(value, spec.name, json=json)
    text = _text(value, spec.name, spec.max_length or None)
    if spec.kind == "reason" and text is not None:
        if text == "" and not json:
            return None  # a form's blank select: unchanged
        if text not in Reason.values:
            raise DomainError("invalid", _("售后原因无效"), field=spec.name)
    return text


def checked_action_data(action: str, *, case_id: int, user: Any, data: Any, json: bool) -> Any:
    """The request's fields for `action`, each type checked as documented, whatever the action goes on to need
    (a `rule` with `reject` still refuses a malformed `amount`); a case the user may not see stays a 404."""
    spec = ACTIONS.get(action)
    if spec is not None and spec.fields:
        try:
            data = {**data, **{f.name: _checked_value(f, data.get(f.name), json=json) for f in spec.fields}}
        except DomainError:
            if case_detail_for(user, case_id) is None:
                raise DomainError("not_found", _("找不到该售后单"), status=404) from None
            raise
    return data


class CaseActionView(APIView):
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]
    throttle_classes = [CaseActionThrottle]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: CaseOut})
    def post(self, request: Request, case_id: int, action: str) -> Response:
        raw = _data(request)
        data: dict[str, Any] = checked_action_data(action, case_id=case_id, user=user_of(request),
                                                   data={key: raw.get(key) for key in raw}, json=_is_json(request))
        files = request.FILES.getlist("evidence") if request.FILES else []
        if files:
            data["evidence_files"] = files
        case = services.case_act(action=action, case_id=case_id, actor=user_of(request), data=data)
        return Response(case_json(user_of(request), case.pk))


class CaseEvidenceView(APIView):
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    throttle_classes = [UploadThrottle]

    @extend_schema(request={"multipart/form-data": inline_serializer("EvidenceUpload", fields={
        "files": serializers.ListField(child=serializers.FileField()), "note": serializers.CharField(required=False)})},
        responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, case_id: int) -> Response:
        files = request.FILES.getlist("files") or request.FILES.getlist("evidence")
        stored = evidence_add(case_id=case_id, user=user_of(request), files=files,
                              note=str(_data(request).get("note") or ""))
        return Response({"evidence": [evidence_dict(e) for e in stored]}, status=201)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, case_id: int) -> Response:
        case = _case_or_404(user_of(request), case_id)
        return Response({"evidence": [evidence_dict(e) for e in case.evidence.all()]})


def message_dict(message: CaseMessage) -> dict[str, Any]:
    return {"id": message.pk, "author": message.author.username if message.author else None,
            "role": message.role, "body": message.body, "internal": message.internal,
            "created_at": message.created_at.isoformat()}


def _messages_of(case_id: int, *, internal: bool) -> Any:
    qs = CaseMessage.objects.filter(case_id=case_id).select_related("author").order_by("created_at", "id")
    return qs if internal else qs.filter(internal=False)


def messages_visible(case: AfterSalesCase, user: Any) -> list[CaseMessage]:
    """The case's conversation as `user` may read it (internal notes for staff only); compiled once per
    process (portal.sqlcache)."""
    internal = role_of(user, case) == "staff"
    found = sqlcache.objects(("case_messages", internal), lambda case_id: _messages_of(case_id, internal=internal),
                             case_id=case.pk)
    back = CaseMessage._meta.get_field("case")
    for message in found:
        back.set_cached_value(message, case)  # as case.messages would: message.case is the case
    return found


class CaseMessagesView(APIView):
    def get_throttles(self):
        return [MessageThrottle()] if self.request.method == "POST" else []

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, case_id: int) -> Response:
        case = _case_or_404(user_of(request), case_id)
        return Response({"results": [message_dict(m) for m in messages_visible(case, user_of(request))]})

    @extend_schema(request=inline_serializer("MessageIn", fields={
        "body": serializers.CharField(), "internal": serializers.BooleanField(required=False)}),
        responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, case_id: int) -> Response:
        data = _data(request)
        message = services.message_post(case_id=case_id, author=user_of(request), body=data.get("body"),
                                        internal=_bool(data.get("internal"), "internal", json=_is_json(request)))
        return Response(message_dict(message), status=status.HTTP_201_CREATED)


class EvidenceFileView(APIView):
    """Serves an evidence file only to those who may see its case."""

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    def get(self, request: Request, evidence_id: int) -> FileResponse:
        evidence = CaseEvidence.objects.select_related("case").filter(pk=evidence_id).first()
        if evidence is None or role_of(user_of(request), evidence.case) is None:
            raise Http404
        return evidence_file_response(evidence)


def evidence_file_response(evidence: CaseEvidence) -> FileResponse:
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=evidence.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
