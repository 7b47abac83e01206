"""Error answers as OpenAPI responses: the contract's `{"code","detail","field"}` shape with the codes a status
can carry on an operation (api.md's status table, lifecycle.md's eligibility and refusal codes)."""

from __future__ import annotations

from typing import Any

Response = dict[str, Any]

STATUS_TEXT = {
    400: "Validation failed: `code` says why, `field` names the request field at fault.",
    401: "Not signed in, a bad or expired token, or (webhook) a bad or stale signature.",
    403: "Signed in, but this role may never do this.",
    404: "No such thing, or one the user may not see.",
    405: "The path does not take this method (the `Allow` header lists those it takes).",
    406: "None of the `Accept`ed media types can be served.",
    409: "The state of things forbids it now (`invalid_transition`, a lost race, a full slot).",
    413: "An uploaded file is larger than 10 MB.",
    415: "The body's media type, or an uploaded file's type, is not accepted.",
    429: "Rate limited: retry after the number of seconds in `Retry-After`.",
    503: "The database is unavailable for a moment: retry after `Retry-After` seconds.",
}
# Codes any operation may answer with at these statuses (DRF's own parsing and negotiation included).
COMMON: dict[int, tuple[str, ...]] = {
    400: ("invalid", "parse_error"),
    401: ("not_authenticated", "authentication_failed"),
    403: ("permission_denied",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    406: ("not_acceptable",),
    409: ("invalid_transition", "conflict"),
    413: ("file_too_large",),
    415: ("unsupported_media_type",),
    429: ("rate_limited",),
    503: ("service_unavailable",),
}
# lifecycle.md's eligibility table, in its order (`not_your_order` is the 404).
SUBMISSION_CODES: tuple[str, ...] = (
    "case_already_open", "not_delivered", "reason_not_applicable", "quantity_exceeds_purchased",
    "amount_exceeds_paid", "amount_not_allowed", "window_expired", "category_excluded", "condition_required",
    "warranty_expired", "evidence_required", "report_window_expired",
)


def error_response(status: int, codes: tuple[str, ...] | list[str], example_code: str | None = None,
                   example_field: str | None = None) -> Response:
    codes = list(dict.fromkeys(codes))
    example: dict[str, Any] = {"code": example_code or codes[0], "detail": "…"}
    if example_field:
        example["field"] = example_field
    return {
        "description": STATUS_TEXT.get(status, "Error.") + " Codes: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": {"application/json": {
            "schema": {
                "type": "object",
                "required": ["code", "detail"],
                "properties": {
                    "code": {"type": "string", "enum": codes},
                    "detail": {"type": "string", "description": "a sentence for people, in their language"},
                    "field": {"type": "string", "description": "the request field at fault"},
                },
            },
            "example": example,
        }},
    }


def errors(spec: dict[int, tuple[str, ...] | list[str]], *, auth: bool = True, throttled: bool = False,
           body: bool = False) -> dict[str, Response]:
    """Error responses: each status with the common codes plus the operation's own.

    `auth`: 401 (and 403 for a session without CSRF); `throttled`: 429; `body`: 400 for a malformed body and
    415 for a media type the operation does not parse. Every operation may also answer 404 (unknown ids),
    405, 406 and 503 (the database away for a moment).
    """
    wanted: dict[int, list[str]] = {404: list(COMMON[404]), 405: list(COMMON[405]), 406: list(COMMON[406]),
                                    503: list(COMMON[503])}
    if auth:
        wanted[401] = list(COMMON[401])
        wanted[403] = list(COMMON[403])
    if throttled:
        wanted[429] = list(COMMON[429])
    if body:
        wanted[400] = list(COMMON[400])
        wanted[415] = list(COMMON[415])
    for status, codes in spec.items():
        base = list(COMMON.get(status, ())) if status in (400, 409) else []
        wanted[status] = list(dict.fromkeys([*wanted.get(status, []), *base, *codes]))
    return {str(status): error_response(status, tuple(codes)) for status, codes in sorted(wanted.items())}
