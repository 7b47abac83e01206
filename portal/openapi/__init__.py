"""The API's OpenAPI schema as the contract states it: drf-spectacular finds the routes, `postprocess` (a
drf-spectacular postprocessing hook) puts the exact operations of `operations.py` over them."""

from __future__ import annotations

import copy
from typing import Any

from cases.lifecycle import ACTIONS

from .components import COMPONENTS
from .errors import errors
from .operations import ACTION_PATH, OPERATIONS, action_operation

DESCRIPTION = """Refunds, returns, exchanges, repairs and door-to-door pickup (售后).

Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Bearer <token>`; a signed-in
session works too (with CSRF). Every error is JSON: `{"code": "<machine code>", "detail": "<text for
people>", "field": "<the request field at fault, when there is one>"}` — also a 404, 405 or 500 anywhere
under `/api/`. Each operation lists the codes each status may carry. Money is a decimal string with 2 places
(`"99.00"`); times are ISO 8601 with an offset.
"""


def _refs(node: Any) -> set[str]:
    """Names of the component schemas a part of the document refers to directly."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            target = current.get("$ref")
            if isinstance(target, str) and target.startswith("#/components/schemas/"):
                found.add(target.rsplit("/", 1)[-1])
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Replace each known operation with its contract version; give any other one the error shape."""
    paths: dict[str, dict[str, Any]] = result.get("paths", {})
    for path, item in list(paths.items()):
        for method, operation in list(item.items()):
            spec = OPERATIONS.get((path, method))
            if spec is not None:
                merged = {**operation, **copy.deepcopy(spec)}
                merged.setdefault("security", operation.get("security", []))
                item[method] = merged
            elif isinstance(operation, dict) and "responses" in operation:
                # an operation not yet written in operations.py: the error shape, its codes not yet listed
                for status, response in errors({400: ("required",), 409: ()}, throttled=True, body=True).items():
                    schema = response["content"]["application/json"]["schema"]
                    schema["properties"]["code"].pop("enum")
                    operation["responses"].setdefault(status, response)
    generic = paths.pop(ACTION_PATH, None)
    if generic is not None:
        security = generic.get("post", {}).get("security", [])
        for action in ACTIONS:
            operation = action_operation(action)
            operation["security"] = security
            paths[ACTION_PATH.replace("{action}", action)] = {"post": operation}
    result["paths"] = dict(sorted(paths.items()))
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(copy.deepcopy(COMPONENTS))
    used = _refs(result["paths"])
    while True:  # and what those refer to, to the end
        more = _refs([schemas[n] for n in used if n in schemas]) - used
        if not more:
            break
        used |= more
    for name in list(schemas):  # the views' own inline shapes that the contract's superseded
        if name not in used:
            del schemas[name]
    result.setdefault("info", {})["description"] = DESCRIPTION
    result["tags"] = [{"name": t} for t in ("auth", "marketplace", "orders", "cases", "case actions", "pickups",
                                             "couriers", "quality", "assistant")]
    return result
