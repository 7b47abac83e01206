"""Courier webhook secrets: random per installation, never a constant in the code (lifecycle.md, pickups).

The `simulated` courier's secret is made at `migrate` (`secrets.token_hex(32)`). A secret that is empty or a
known default (the constant earlier versions shipped, or a placeholder word) lets anyone sign courier
events, so the webhook refuses it like a bad signature and production refuses to start while one exists:
a deploy system check (`check --deploy`, pickups.E001) and, when `COURIER_SECRETS_REQUIRED` is on (the
production settings' default), an ImproperlyConfigured raised when the WSGI application loads.

Known defaults are kept as SHA-256 digests, so not even they are secrets written in the code.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from .models import Courier

log = logging.getLogger(__name__)

# The constant the simulated courier's secret used to be (pickups/conf.py before issue #15).
SHIPPED_DEFAULT_DIGEST = "6c7eec0bd70bdfa9393e2e05e40163d7d9a983f94784598faecd933b73ad5199"
KNOWN_DEFAULT_DIGESTS = frozenset({
    SHIPPED_DEFAULT_DIGEST,
    # placeholder words: secret, changeme, change-me, simulated, test, password, default, courier, webhook-secret
    "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
    "057ba03d6c44104863dc7361fe4578965d1887360f90a0895882e58a6248fc86",
    "e2186dbdb1bb4193608605e84f33208765b5693b55edd4f730a719a100eeea6f",
    "daeb30e06dcf80565ac935eca8ec3e87a2cd7194440c14842b470d3cb7fed353",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f",
    "2dae946ece4887f35fb73062be6e8ba4eb9e61f4b3b358d5a42936277ef4a2bb",
    "9e5a3f7c57e0da4e7648f3d664786db6aaf419dcd6697e588dacd5b5575f1863",
})


def new_secret() -> str:
    """A fresh random secret (256 bits, hex)."""
    return secrets.token_hex(32)


def is_weak(secret: str | None) -> bool:
    """Empty, blank, or a known default: a secret anyone could sign with."""
    if not secret or not secret.strip():
        return True
    return hashlib.sha256(secret.encode()).hexdigest() in KNOWN_DEFAULT_DIGESTS


def weak_courier_codes() -> list[str]:
    """Codes of the couriers whose secret is weak (raises DatabaseError when the table cannot be read)."""
    return sorted(code for code, secret in Courier.objects.values_list("code", "secret") if is_weak(secret))


def _problem(codes: list[str]) -> str:
    return (f"courier webhook secret empty or a known default for: {', '.join(codes)}; anyone could sign "
            "their status events")


HINT = ("Set a new random secret for each (admin → couriers → 新签名密钥), or run `manage.py migrate`, "
        "which gives the simulated courier a random one.")


@register(Tags.security, deploy=True)
def check_courier_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy`: an error while any courier's secret is empty or a known default."""
    try:
        codes = weak_courier_codes()
    except DatabaseError:  # not migrated yet, or unreachable: nothing stored to judge
        return []
    return [Error(_problem(codes), hint=HINT, id="pickups.E001")] if codes else []


def refuse_weak_secrets_at_startup() -> None:
    """Called when the WSGI application loads: production refuses to serve while a weak secret is stored.

    A database that cannot be read yet (not migrated, not up) is logged and let pass: the webhook refuses
    weak secrets on every request anyway, and `migrate` replaces the simulated courier's."""
    if not getattr(settings, "COURIER_SECRETS_REQUIRED", False):
        return
    try:
        codes = weak_courier_codes()
    except DatabaseError:
        log.warning("courier secrets not checked at startup: the database cannot be read yet", exc_info=True)
        return
    if codes:
        raise ImproperlyConfigured(f"{_problem(codes)}. {HINT}")
