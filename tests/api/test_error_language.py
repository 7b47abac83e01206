"""Every error code the API can give has its sentence in Chinese and in English, and every error's `detail`
reaches the requester in their language (issue 17; portal/api_messages.py, docs/api-schema.md "Error texts").

The codes come from the contract's tables (tests/invariants/contract.py: lifecycle.md and api.md), the
OpenAPI description (its common codes, the submission codes and every `code` enum of the served schema), the
status table of portal/errors.py and every code the source raises. Parametrized over codes, not requests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation
from rest_framework.exceptions import MethodNotAllowed, NotAuthenticated, ParseError, UnsupportedMediaType

from portal.api_messages import CODE_DETAILS, in_language
from portal.api_support import exception_handler
from portal.errors import STATUS_BY_CODE, DomainError
from portal.openapi.errors import COMMON, SUBMISSION_CODES
from tests.invariants.contract import CODE_STATUS

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u3400-\u9fff]")
# api.md's rating and login refusals, named in its prose rather than a table
API_MD = {"not_rateable", "already_rated", "rating_window_closed", "too_many_attempts", "invalid_credentials",
          "not_your_order", "no_slot", "invalid_transition", "server_error"}
_RAISED = re.compile(r"(?:DomainError|CaseError|PickupError)\(\s*\"([a-z_]+)\"")


def raised_codes() -> set[str]:
    found: set[str] = set()
    for package in ("portal", "cases", "pickups"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found.update(_RAISED.findall(path.read_text(encoding="utf-8")))
    return found


CODES = sorted(set(CODE_STATUS) | {c for codes in COMMON.values() for c in codes} | set(SUBMISSION_CODES)
               | set(STATUS_BY_CODE) | API_MD | raised_codes() | set(CODE_DETAILS))


def _in(language: str, code: str) -> str:
    with translation.override(language):
        return str(CODE_DETAILS[code])


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_chinese_and_an_english_sentence(code):
    assert code in CODE_DETAILS, f"{code} has no sentence in portal/api_messages.py"
    chinese, english = _in("zh-hans", code), _in("en", code)
    assert HAN.search(chinese), chinese
    assert english and not HAN.search(english) and english != chinese, f"{code}: no English in locale/api"


@pytest.mark.parametrize("code", CODES)
def test_a_detail_in_the_wrong_language_is_replaced_by_the_codes_sentence(code):
    status = STATUS_BY_CODE.get(code, 400)
    for language, wrong, right in (("en", "中文的说明", _in("en", code)),
                                   ("zh-hans", "An English sentence.", _in("zh-hans", code))):
        with translation.override(language):
            response = exception_handler(DomainError(code, wrong, status=status), {})
            assert response is not None and response.data == {"code": code, "detail": right}
            bare = exception_handler(DomainError(code), {})  # raised without a sentence
            assert bare is not None and bare.data["detail"] == right


def test_a_precise_sentence_in_the_right_language_is_kept():
    with translation.override("en"):
        assert in_language("amount_exceeds_paid", "At most ¥59.00 can be refunded.") == "At most ¥59.00 can be refunded."
    with translation.override("zh-hans"):
        assert in_language("amount_exceeds_paid", "最多可退 ¥59.00") == "最多可退 ¥59.00"


@pytest.mark.parametrize("exc, code", [
    (NotAuthenticated(), "not_authenticated"), (ParseError("JSON parse error - Expecting value"), "parse_error"),
    (MethodNotAllowed("PATCH"), "method_not_allowed"), (UnsupportedMediaType("text/plain"), "unsupported_media_type"),
])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_drf_refusals_speak_the_language(exc, code, language):
    with translation.override(language):
        response = exception_handler(exc, {})
    assert response is not None and response.data["code"] == code
    assert bool(HAN.search(response.data["detail"])) is (language == "zh-hans"), response.data


@pytest.mark.django_db
def test_the_schemas_codes_all_have_sentences(client):
    schema = client.get("/api/schema/?format=json").json()
    codes: set[str] = set()
    stack: list[object] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            enum = node.get("properties", {}).get("code", {}).get("enum") if node.get("type") == "object" else None
            codes.update(enum or [])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert len(codes) > 40
    assert codes <= set(CODE_DETAILS), codes - set(CODE_DETAILS)  # so each is in CODES, checked above


@pytest.mark.django_db
@pytest.mark.parametrize("language, header", [("zh-hans", "zh-CN,zh;q=0.9"), ("en", "en-US,en;q=0.9")])
def test_requests_get_their_language_from_accept_language(api, consumer, language, header):
    chinese = language == "zh-hans"
    answers = [
        api().get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE=header),  # 401
        api(consumer).get("/api/v1/cases/999999/", HTTP_ACCEPT_LANGUAGE=header),  # 404
        api(consumer).post("/api/v1/cases/", "{not json", content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE=header),  # 400 parse_error
        api(consumer).post("/api/v1/cases/", [1], format="json", HTTP_ACCEPT_LANGUAGE=header),  # 400 invalid
        api().post("/api/v1/auth/token/", {"username": "nobody", "password": "x"}, format="json",
                   HTTP_ACCEPT_LANGUAGE=header),  # 401 invalid_credentials
        api(consumer).get("/api/v1/nowhere/", HTTP_ACCEPT_LANGUAGE=header),  # Django's 404 under /api/
    ]
    for response in answers:
        body = response.json()
        assert response.status_code >= 400 and body["code"], body
        assert bool(HAN.search(body["detail"])) is chinese, (response.status_code, body)
