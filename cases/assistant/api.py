"""The assistant's API (api.md, "Ratings, scorecards and the assistant")."""

from __future__ import annotations

import time
from typing import Any, cast

from django.conf import settings
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.permissions import shop_ids_of
from cases.selectors import case_detail_for
from portal import parsers
from portal.api_support import UserScopedThrottle
from portal.errors import DomainError
from portal.models import Role, User

from . import engine, services
from .replies import reply_suggestions

QUESTION_MAX = 500


class AskThrottle(UserScopedThrottle):
    """Per user; `DEFAULT_THROTTLE_RATES["assistant"]` overrides the default of 120 a minute."""

    scope = "assistant"
    default_rate = "120/min"

    def get_rate(self) -> str:
        framework = cast(dict[str, Any], getattr(settings, "REST_FRAMEWORK", {}))
        return framework.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope) or self.default_rate


def signed_in(request: Request) -> User:
    """The requester (every view here requires an authenticated user: DRF answers 401 before)."""
    return cast(User, request.user)


def answer_language(request: Request) -> str:
    """The user's own setting when the user model has one, else the session/cookie or Accept-Language."""
    own = getattr(request.user, "language", "") or ""
    codes = {code for code, _name in settings.LANGUAGES}
    if own in codes:
        return own
    return translation.get_language_from_request(request._request) or settings.LANGUAGE_CODE


def _data(request: Request) -> Any:
    if not hasattr(request.data, "get"):
        raise DomainError("invalid", translation.gettext("请求体须为 JSON 对象"))
    return request.data


def _is_json(request: Request) -> bool:
    return (request.content_type or "").split(";")[0].strip().lower() == "application/json"


def _item_id(data: Any, *, json: bool = False) -> int | None:
    """`order_item`: a JSON integer in a JSON body (`"5"` or `true` is invalid), digits in a form; null or a
    form's blank = none."""
    value = data.get("order_item")
    if value is None or (value == "" and not json):
        return None
    if isinstance(value, bool) or (json and not isinstance(value, int)):
        raise DomainError("invalid", translation.gettext("%(field)s 须为整数") % {"field": "order_item"}, field="order_item")
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise DomainError("invalid", translation.gettext("%(field)s 须为整数") % {"field": "order_item"}, field="order_item") from exc
    if number <= 0 or number > 2**63 - 1:
        raise DomainError("not_your_order", translation.gettext("找不到该订单商品"), field="order_item", status=404)
    return number


def _text(data: Any, field: str, *, required: bool = True, limit: int = QUESTION_MAX) -> str:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError("required", translation.gettext("缺少 %(field)s") % {"field": field}, field=field)
        return ""
    if not isinstance(value, str):
        raise DomainError("invalid", translation.gettext("%(field)s 须为文本") % {"field": field}, field=field)
    if len(value) > limit:
        raise DomainError("invalid", translation.gettext("%(field)s 不能超过 %(limit)s 个字符") % {"field": field, "limit": limit}, field=field)
    return value.replace("\x00", "").strip()


AskIn = inline_serializer("AssistantAsk", fields={
    "question": serializers.CharField(max_length=QUESTION_MAX),
    "order_item": serializers.IntegerField(required=False, allow_null=True),
})
AskOut = inline_serializer("AssistantAnswer", fields={
    "answer": serializers.CharField(),
    "sources": serializers.ListField(child=inline_serializer("AssistantSource", fields={
        "id": serializers.CharField(), "title": serializers.CharField()})),
    "suggestion": inline_serializer("AssistantSuggestion", fields={
        "kind": serializers.CharField(), "reason": serializers.CharField()}, allow_null=True),
    "confidence": serializers.FloatField(min_value=0, max_value=1),
    "handoff": serializers.BooleanField(),
    "apply_url": serializers.CharField(required=False),
})


class AskView(APIView):
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]
    throttle_classes = [AskThrottle]

    @extend_schema(operation_id="assistant_ask", request=AskIn, responses={200: AskOut})
    def post(self, request: Request) -> Response:
        data = _data(request)
        item = services.own_item(signed_in(request), _item_id(data, json=_is_json(request)))  # 404 first
        question = _text(data, "question")
        language = answer_language(request)
        started = time.perf_counter()
        answer = engine.ask(question, language=language, item=item)
        elapsed = (time.perf_counter() - started) * 1000
        services.exchange_log(user=signed_in(request), question=question, language=language, item=item,
                              answer=answer, elapsed_ms=elapsed)
        return Response(answer.as_dict())


def thread_dict(thread: Any, *, messages: bool = False) -> dict[str, Any]:
    data = {"id": thread.pk, "to": thread.to, "shop": thread.shop.code if thread.shop_id else None,
            "order_item": thread.order_item_id, "consumer": thread.consumer.username,
            "created_at": thread.created_at.isoformat(), "updated_at": thread.updated_at.isoformat(),
            "answered_at": thread.answered_at.isoformat() if thread.answered_at else None,
            "transcript": thread.transcript}
    if messages:
        data["messages"] = [{"id": m.pk, "role": m.role, "author": m.author.username if m.author else None,
                             "body": m.body, "created_at": m.created_at.isoformat()} for m in thread.messages.all()]
    return data


class HandoffView(APIView):
    """转人工: `{"order_item"?, "message"?}` → 201 the thread (to the shop on an item, else the platform)."""

    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]
    throttle_classes = [AskThrottle]

    @extend_schema(operation_id="assistant_handoff", request=inline_serializer("AssistantHandoff", fields={
        "order_item": serializers.IntegerField(required=False, allow_null=True),
        "message": serializers.CharField(required=False, allow_blank=True)}), responses={201: inline_serializer(
            "AssistantThread", fields={"id": serializers.IntegerField(), "to": serializers.CharField(),
                                       "shop": serializers.CharField(allow_null=True)})})
    def post(self, request: Request) -> Response:
        user = signed_in(request)
        if user.role != Role.CONSUMER or user.is_platform_staff:  # a shopper's 转人工; others had a 500
            raise DomainError("permission_denied", translation.gettext("只有买家可以转人工"), status=403)
        data = _data(request)
        item = services.own_item(user, _item_id(data, json=_is_json(request)))
        message = _text(data, "message", required=False, limit=services.BODY_MAX)
        thread = services.handoff_open(user=signed_in(request), item=item, message=message)
        return Response(thread_dict(services.threads_for(signed_in(request)).get(pk=thread.pk), messages=True),
                        status=201)


class ThreadListView(APIView):
    @extend_schema(operation_id="assistant_threads", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        rows = services.threads_for(signed_in(request))[:100]
        return Response({"results": [thread_dict(t) for t in rows]})


class ThreadMessagesView(APIView):
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    def _thread(self, request: Request, thread_id: int) -> Any:
        thread = services.threads_for(signed_in(request)).filter(pk=thread_id).first()
        if thread is None:
            raise DomainError("not_found", translation.gettext("找不到该资源"), status=404)
        return thread

    @extend_schema(operation_id="assistant_thread_messages", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, thread_id: int) -> Response:
        return Response(thread_dict(self._thread(request, thread_id), messages=True))

    @extend_schema(operation_id="assistant_thread_reply", request=inline_serializer(
        "AssistantReply", fields={"body": serializers.CharField()}), responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, thread_id: int) -> Response:
        self._thread(request, thread_id)
        body = _text(_data(request), "body", limit=services.BODY_MAX)
        message = services.thread_reply(user=signed_in(request), thread_id=thread_id, body=body)
        return Response({"id": message.pk, "role": message.role, "body": message.body,
                         "created_at": message.created_at.isoformat()}, status=201)


class ReplySuggestionsView(APIView):
    @extend_schema(operation_id="case_reply_suggestions", responses={200: inline_serializer(
        "ReplySuggestions", fields={"suggestions": serializers.ListField(child=inline_serializer(
            "ReplySuggestion", fields={"text": serializers.CharField(), "source": serializers.CharField()}))})})
    def get(self, request: Request, case_id: int) -> Response:
        user = signed_in(request)
        case = case_detail_for(user, case_id)
        if case is None:
            raise DomainError("not_found", translation.gettext("找不到该资源"), status=404)
        if user.role != Role.MERCHANT or case.shop_id not in shop_ids_of(user):
            raise DomainError("permission_denied", translation.gettext("只有店铺成员可以获取回复建议"), status=403)
        lang = engine.lang_of(answer_language(request))
        return Response({"suggestions": [s.as_dict() for s in reply_suggestions(case, lang=lang)]})
