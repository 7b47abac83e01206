"""The pickup endpoints of api.md: options, book, cancel, reschedule, and the courier webhook."""

from __future__ import annotations

import re
from typing import Any, cast

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import AfterSalesCase
from portal.api_support import CaseActionThrottle, query_value
from portal.errors import DomainError
from portal.http import user_of

from . import services
from .selectors import options_dict, pickup_dict, pickup_for_consumer
from .webhooks import courier_event_receive


def _data(request: Request) -> dict[str, Any]:
    data = request.data
    if not hasattr(data, "get"):
        raise DomainError("invalid", _("请求体须为 JSON 对象"))
    return cast(dict[str, Any], data)  # a JSON object, or a form's QueryDict


def _slot(data: dict[str, Any]) -> Any:
    """`slot` as documented: an integer id (a string of digits is taken from forms only)."""
    value = data.get("slot")
    if isinstance(value, bool) or (value is not None and not isinstance(value, int | str)):
        raise DomainError("invalid", _("取件时段无效"), field="slot")
    return value


def _consumer_case(request: Request, case_id: int) -> AfterSalesCase:
    case = (AfterSalesCase.objects.select_related("order_item__order", "order_item__product", "shop", "consumer")
            .filter(pk=case_id).first())
    return services._require_consumer(user_of(request), case)


PickupOut = inline_serializer("Pickup", fields={
    "id": serializers.IntegerField(), "state": serializers.CharField(), "courier": serializers.CharField(),
    "slot": serializers.JSONField(), "waybill": serializers.CharField(allow_null=True),
    "fee": serializers.DecimalField(max_digits=10, decimal_places=2), "payer": serializers.CharField(),
    "address": serializers.JSONField(), "events": serializers.ListField(),
})
OptionsOut = inline_serializer("PickupOptions", fields={
    "eligible": serializers.BooleanField(), "reasons": serializers.ListField(child=serializers.CharField()),
    "fee": serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True),
    "payer": serializers.CharField(), "slots": serializers.ListField(child=serializers.JSONField()),
})
AddressIn = inline_serializer("PickupAddress", fields={
    "region": serializers.CharField(required=False), "line": serializers.CharField(required=False),
    "contact": serializers.CharField(required=False), "phone": serializers.CharField(required=False),
})
BookIn = inline_serializer("PickupBook", fields={"slot": serializers.IntegerField(), "address": AddressIn})
SlotIn = inline_serializer("PickupReschedule", fields={"slot": serializers.IntegerField()})


class PickupOptionsView(APIView):
    @extend_schema(responses={200: OptionsOut}, parameters=[
        OpenApiParameter("region", OpenApiTypes.STR, description="another pickup address's region code")])
    def get(self, request: Request, case_id: int) -> Response:
        case = _consumer_case(request, case_id)
        region = query_value(request, "region")
        if region is not None and not re.fullmatch(r"\d{2}(\d{2}){0,2}", region):
            raise DomainError("invalid", _("地区编码须为 2、4 或 6 位数字"), field="region")
        return Response(options_dict(services.pickup_assess(case=case, region_code=region)))


VisitOptionsOut = inline_serializer("VisitOptions", fields={
    "eligible": serializers.BooleanField(), "reasons": serializers.ListField(child=serializers.CharField()),
    "fee": serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True),
    "payer": serializers.CharField(), "slots": serializers.ListField(child=serializers.JSONField()),
})


class VisitOptionsView(APIView):
    """docs/visits.md: whether a technician visit can be booked for the consumer's repair case."""

    @extend_schema(responses={200: VisitOptionsOut})
    def get(self, request: Request, case_id: int) -> Response:
        from .visits import visit_assess, visit_options_dict

        case = _consumer_case(request, case_id)
        return Response(visit_options_dict(visit_assess(case=case)))


class PickupBookView(APIView):
    throttle_classes = [CaseActionThrottle]

    @extend_schema(request=BookIn, responses={201: PickupOut})
    def post(self, request: Request, case_id: int) -> Response:
        data = _data(request)
        pickup = services.pickup_book(case_id=case_id, actor=user_of(request), slot_id=_slot(data),
                                      address=data.get("address"))
        return Response(_fresh(pickup.pk), status=status.HTTP_201_CREATED)


def _fresh(pickup_id: int) -> dict[str, Any]:
    pickup = pickup_for_consumer(pickup_id)
    assert pickup is not None
    return pickup_dict(pickup, unmasked=True)


class PickupCancelView(APIView):
    throttle_classes = [CaseActionThrottle]

    @extend_schema(request=None, responses={200: PickupOut})
    def post(self, request: Request, pickup_id: int) -> Response:
        pickup = services.pickup_cancel(pickup_id=pickup_id, actor=user_of(request))
        return Response(_fresh(pickup.pk))


class PickupRescheduleView(APIView):
    throttle_classes = [CaseActionThrottle]

    @extend_schema(request=SlotIn, responses={200: PickupOut})
    def post(self, request: Request, pickup_id: int) -> Response:
        data = _data(request)
        pickup = services.pickup_reschedule(pickup_id=pickup_id, actor=user_of(request), slot_id=_slot(data))
        return Response(_fresh(pickup.pk))


WebhookOut = inline_serializer("CourierWebhookResult", fields={
    "event_id": serializers.CharField(), "applied": serializers.BooleanField(),
    "duplicate": serializers.BooleanField(), "note": serializers.CharField(),
    "state": serializers.CharField(allow_null=True),
})


class CourierWebhookView(APIView):
    """Signed courier status events; authenticated by HMAC alone (no session, no CSRF, no token)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer("CourierEvent", fields={
            "event_id": serializers.CharField(), "waybill": serializers.CharField(),
            "status": serializers.CharField(), "at": serializers.DateTimeField()}),
        responses={200: WebhookOut},
        parameters=[OpenApiParameter("X-Timestamp", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True),
                    OpenApiParameter("X-Signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
    )
    def post(self, request: Request, courier: str) -> Response:
        result = courier_event_receive(courier_code=courier, timestamp=request.headers.get("X-Timestamp"),
                                       signature=request.headers.get("X-Signature"), body=request.body)
        return Response(result.as_dict())
