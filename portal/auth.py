"""API authentication: Bearer tokens (many per user) and session auth with CSRF."""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, Shop, User

# The per-request memo of the shops a user works for (read by cases.permissions.shop_ids_of). The Bearer
# authentication fills it from the token's own query on PostgreSQL: one statement fewer per API request.
SHOP_IDS_MEMO = "_shop_ids_cache"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() not in (self.keyword, "token"):
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        tokens = ApiToken.objects.select_related("user").filter(
            key_hash=ApiToken.hash_key(parts[1]), expires_at__gt=timezone.now())
        if connection.vendor == "postgresql":
            # read with the token and its user, in the same statement (never cached: a demoted or deactivated
            # user's token stops working at the next request, api.md)
            tokens = tokens.annotate(user_shop_ids=ArraySubquery(
                Shop.members.through.objects.filter(user_id=OuterRef("user_id")).values("shop_id")))
        token = tokens.first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if hasattr(token, "user_shop_ids"):
            setattr(token.user, SHOP_IDS_MEMO, set(token.user_shop_ids))
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """Session auth (CSRF enforced); answers 401 rather than 403 when nobody is logged in."""

    def authenticate_header(self, request) -> str:
        return 'Session realm="api"'
