"""The request a signed-in page sees, for the type checker.

Behind `login_required` (or a role check that answers first) `request.user` is a `portal.models.User`, and
django-htmx's middleware adds `request.htmx`; django-stubs types a plain `HttpRequest`'s user as possibly
anonymous and knows nothing of htmx. Views annotate `request: AuthedRequest`; nothing changes at run time.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request

from .models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def user_of(request: HttpRequest | Request) -> User:
    """The signed-in user of a request that passed its sign-in check (an API view's permission class, the
    admin's staff check): typed as a `User`, the same object at run time."""
    return cast(User, request.user)
