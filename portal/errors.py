"""Domain errors carry a machine code; the API and views turn them into status codes in one place."""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE: dict[str, int] = {
    "not_your_order": 404,
    "not_found": 404,
    "invalid_transition": 409,
    "conflict": 409,
    "no_slot": 409,
    "forbidden": 403,
    "permission_denied": 403,
    "file_too_large": 413,
    "unsupported_file_type": 415,
    "rate_limited": 429,
    "not_authenticated": 401,
    "invalid_signature": 401,
    "stale_timestamp": 401,
}


class DomainError(Exception):
    """An expected refusal: a code for machines, a sentence for people, maybe the field at fault."""

    def __init__(self, code: str, detail: str | None = None, *, field: str | None = None, status: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        self.code = code
        self.detail = str(detail) if detail is not None else code
        self.field = field
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.extra = extra or {}
        super().__init__(f"{code}: {self.detail}")

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body
