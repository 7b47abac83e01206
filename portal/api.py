"""Portal API: tokens, the marketplace import, the consumer's orders."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import policy
from cases.models import AfterSalesCase

from . import parsers
from .api_support import Pagination
from .errors import DomainError
from .http import user_of
from .importer import ImportError_, ImportForbidden, import_document
from .models import ApiToken, Order, OrderItem, Role


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer("TokenIn", fields={"username": serializers.CharField(),
                                                     "password": serializers.CharField()}),
        responses={200: inline_serializer("TokenOut", fields={"token": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        data = request.data if hasattr(request.data, "get") else {}
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not username:
            raise DomainError("required", _("缺少 %(field)s") % {"field": "username"}, field="username")
        if not isinstance(password, str) or not password:
            raise DomainError("required", _("缺少 %(field)s") % {"field": "password"}, field="password")
        if len(username) > 150 or "\x00" in username:  # no such user can exist; nothing to count or lock
            raise DomainError("invalid_credentials", _("用户名或密码错误"), status=401)
        user = authenticate(request, username=username, password=password)
        if user is None:
            if getattr(request, "login_locked", False):  # refused by portal.login_guard before any password check
                raise DomainError("too_many_attempts", _("该用户从此地址登录失败次数过多，请 15 分钟后再试"), status=429)
            raise DomainError("invalid_credentials", _("用户名或密码错误"), status=401)
        AxesProxyHandler.user_logged_in(self.__class__, request, user)  # clears this pair's failures
        return Response({"token": ApiToken.issue(user), "username": user.username, "role": user.role})


class MarketplaceImportView(APIView):
    parser_classes = [parsers.JSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        if not user_of(request).is_supervisor:
            raise DomainError("permission_denied", _("只有平台主管可以导入商城数据"), status=403)
        try:
            counts = import_document(request.data, operator=False)
        except ImportForbidden as exc:
            raise DomainError("permission_denied", exc.detail, field=exc.path or None, status=403) from exc
        except ImportError_ as exc:
            raise DomainError("invalid", exc.detail, field=exc.path) from exc
        return Response(counts)


def item_dict(item: OrderItem, now: Any) -> dict[str, Any]:
    cases = list(item.cases.all())
    ledger = policy.item_ledger(item, cases)
    return {
        "id": item.pk, "sku": item.product.sku, "name": item.product.name, "category": item.product.category,
        "quantity": item.quantity, "unit_price": str(item.unit_price), "paid": str(item.paid),
        "claimable": str(policy.claimable(item, item.quantity, ledger)),
        "after_sales": [o.as_dict() for o in policy.after_sales_options(item, now=now, ledger=ledger)],
        "cases": [{"id": c.pk, "number": c.number, "state": c.state, "kind": c.kind} for c in cases],
    }


def order_dict(order: Order, now: Any) -> dict[str, Any]:
    return {
        "number": order.number, "shop": order.shop.code, "shop_name": order.shop.name,
        "paid_at": order.paid_at.isoformat(),
        "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
        "signed_at": order.signed_at.isoformat() if order.signed_at else None,
        "shipping_fee": str(order.shipping_fee), "points_used": order.points_used,
        "return_shipping_insurance": order.return_shipping_insurance,
        "items": [item_dict(i, now) for i in order.items.all()],
    }


def orders_for(user: Any):
    return (
        Order.objects.filter(consumer=user)
        .select_related("shop")
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.select_related("product", "order").order_by("position")),
            Prefetch("items__cases", queryset=AfterSalesCase.objects.select_related("refund").order_by("created_at")),
        )
        .order_by("-paid_at", "-id")
    )


class OrderListView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        from django.utils import timezone

        if user_of(request).role != Role.CONSUMER:
            raise DomainError("permission_denied", _("只有买家有订单"), status=403)
        paginator = Pagination()
        page = paginator.paginate_queryset(orders_for(user_of(request)), request, view=self)
        now = timezone.now()
        return paginator.get_paginated_response([order_dict(o, now) for o in page or []])
