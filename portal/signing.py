"""HMAC-SHA256 signatures over "{timestamp}." + body, used both ways between the portal and a courier, and for
the portal's signed notices to shop systems (cases/shop_notices.py)."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {"X-Timestamp": str(timestamp), "X-Signature": sign(secret, timestamp, body),
            "Content-Type": "application/json"}


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, *, tolerance: int,
           now: float | None = None) -> str | None:
    """None when the request is authentic and fresh, else the refusal code (`invalid_signature`,
    `stale_timestamp`). The timestamp is inside the signed text, so a replay cannot refresh it."""
    if not timestamp or not signature:
        return "invalid_signature"
    ts = timestamp.strip()
    if not ts.isdigit() or len(ts) > 12:
        return "invalid_signature"
    expected = sign(secret, ts, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return "invalid_signature"
    current = now if now is not None else time.time()
    if abs(current - int(ts)) > tolerance:
        return "stale_timestamp"
    return None
