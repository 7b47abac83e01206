"""API authentication: Bearer tokens (many per user) and session auth with CSRF."""

from __future__ import annotations

from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, QuerySet
from django.utils import timezone
from rest_framework import authentication, exceptions

from . import sqlcache
from .models import ApiToken, Shop, User

# The per-request memo of the shops a user works for (read by cases.permissions.shop_ids_of). The Bearer
# authentication fills it from the token's own query on PostgreSQL: one statement fewer per API request.
SHOP_IDS_MEMO = "_shop_ids_cache"


def _token_query(key_hash: str, now: datetime) -> QuerySet[ApiToken]:
    """The unexpired token with this hash, with its user (as `.first()` reads it)."""
    tokens = ApiToken.objects.select_related("user").filter(key_hash=key_hash, expires_at__gt=now)
    if connection.vendor == "postgresql":
        # read with the token and its user, in the same statement (never cached: a demoted or deactivated
        # user's token stops working at the next request, api.md)
        tokens = tokens.annotate(user_shop_ids=ArraySubquery(
            Shop.members.through.objects.filter(user_id=OuterRef("user_id")).values("shop_id")))
    return (tokens if tokens.ordered else tokens.order_by("pk"))[:1]


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
        # the token, its user and (PostgreSQL) the user's shops in one statement, read at every request (the
        # SQL text is compiled once per process: portal.sqlcache)
        found = sqlcache.objects("api_token", _token_query, key_hash=ApiToken.hash_key(parts[1]),
                                 now=timezone.now())
        token = found[0] if found else None
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
