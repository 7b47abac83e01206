"""HTTP for service quality (api.md "Ratings, scorecards and the assistant")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import parsers
from portal.api_support import CaseActionThrottle
from portal.errors import DomainError
from portal.models import Shop, User

from ..permissions import shop_ids_of
from ..scorecard import shop_scorecard
from .ratings import rating_dict, rating_hide_comment, rating_submit


def _user(request: Request) -> User:
    """The authenticated user (DRF answers 401 before a view runs for anyone else)."""
    user = request.user
    if not isinstance(user, User):
        raise DomainError("not_authenticated", _("请先登录，或提供有效的令牌"), status=401)
    return user


def _data(request: Request) -> Any:
    if not hasattr(request.data, "get"):
        raise DomainError("invalid", _("请求体须为 JSON 对象"))
    return request.data


def _is_json(request: Request) -> bool:
    return (request.content_type or "").split(";")[0].strip().lower() == "application/json"


def _form_int(value: Any) -> Any:
    """A form's digits as the integer they spell (a form has no other way to send one); anything else as is."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        return int(value.strip())
    return value


def rating_input(request: Request) -> dict[str, Any]:
    """The rating's fields as sent. A JSON body is taken as is: `rating_submit` takes only JSON integers for
    `stars` and `pickup_stars`, a list of strings for `tags` and a string for `comment` (null = not given), so
    `"5"` or `true` is `invalid`. A form has only text: its digits are read as integers, `tags` repeated."""
    data = _data(request)
    if _is_json(request):
        return {name: data.get(name) for name in ("stars", "tags", "comment", "pickup_stars")}
    tags = data.getlist("tags") if hasattr(data, "getlist") else data.get("tags")
    if isinstance(tags, list):
        tags = [t for t in tags if t != ""]
    pickup = data.get("pickup_stars")
    return {"stars": _form_int(data.get("stars")), "tags": tags, "comment": data.get("comment"),
            "pickup_stars": None if pickup == "" else _form_int(pickup)}


RatingIn = inline_serializer("RatingIn", fields={
    "stars": serializers.IntegerField(min_value=1, max_value=5),
    "tags": serializers.ListField(child=serializers.CharField(), required=False),
    "comment": serializers.CharField(required=False, max_length=500),
    "pickup_stars": serializers.IntegerField(min_value=1, max_value=5, required=False),
})
RatingOut = inline_serializer("Rating", fields={
    "stars": serializers.IntegerField(), "tags": serializers.ListField(child=serializers.CharField()),
    "comment": serializers.CharField(allow_null=True), "comment_hidden": serializers.BooleanField(),
    "pickup_stars": serializers.IntegerField(allow_null=True), "at": serializers.DateTimeField(),
})


class CaseRatingView(APIView):
    """api.md: the case's consumer, once, within 15 days of the case becoming terminal → 201 the rating."""

    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]
    throttle_classes = [CaseActionThrottle]

    @extend_schema(operation_id="cases_rating_create", request=RatingIn, responses={201: RatingOut})
    def post(self, request: Request, case_id: int) -> Response:
        fields = rating_input(request)
        rating = rating_submit(case_id=case_id, consumer=_user(request), **fields)
        return Response(rating_dict(rating), status=201)


class CaseRatingHideView(APIView):
    """Staff hide an abusive comment (audited on the case's timeline); the stars still count."""

    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    @extend_schema(operation_id="cases_rating_hide_comment",
                   request=inline_serializer("RatingHideIn", fields={"reason": serializers.CharField()}),
                   responses={200: RatingOut})
    def post(self, request: Request, case_id: int) -> Response:
        rating = rating_hide_comment(case_id=case_id, staff=_user(request), reason=_data(request).get("reason"))
        return Response(rating_dict(rating))


class ShopScorecardView(APIView):
    """The shop's members and staff; anyone else (another shop's merchant included) → 404."""

    @extend_schema(operation_id="shops_scorecard", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, code: str) -> Response:
        shop = Shop.objects.filter(code=code).first()
        user = _user(request)
        allowed = shop is not None and (
            getattr(user, "is_platform_staff", False)
            or (getattr(user, "role", None) == "merchant" and shop.pk in shop_ids_of(user)))
        if not allowed or shop is None:
            raise DomainError("not_found", _("找不到该资源"), status=404)
        return Response(shop_scorecard(shop).as_json())
