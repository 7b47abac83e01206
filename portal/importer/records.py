"""Pass 1: every value checked and every record normalised, with the path of the first fault."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext

from ..models import Region, Role
from .common import CENT, MAX_MONEY, SLUG_RE, USERNAME_RE, ImportError_


def _req(rec: dict, key: str, path: str) -> Any:
    value = rec.get(key)
    if value is None:
        raise ImportError_(f"{path}.{key}", "is required")
    return value


def _text(value: Any, path: str, *, max_length: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ImportError_(path, "must be a string")
    value = value.strip()
    if required and not value:
        raise ImportError_(path, "must not be empty")
    if len(value) > max_length:
        raise ImportError_(path, f"must be at most {max_length} characters")
    return value


def _bool(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ImportError_(path, "must be true or false")
    return value


def _int(value: Any, path: str, *, minimum: int = 0, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise ImportError_(path, "must be an integer")
    if not isinstance(value, int):
        if not Decimal(str(value)).is_finite() or value != int(value):
            raise ImportError_(path, "must be an integer")
        value = int(value)
    if value < minimum:
        raise ImportError_(path, f"must be at least {minimum}")
    if value > 2_147_483_647:
        raise ImportError_(path, "is too large")
    return value


def _money(value: Any, path: str, *, default: Decimal | None = None) -> Decimal:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
        raise ImportError_(path, "must be a decimal amount such as \"99.00\"")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ImportError_(path, "must be a decimal amount such as \"99.00\"") from exc
    if not amount.is_finite():
        raise ImportError_(path, "must be a finite amount")
    if amount < 0:
        raise ImportError_(path, "must not be negative")
    if amount != amount.quantize(CENT) or amount >= MAX_MONEY:
        raise ImportError_(path, "must have at most 2 decimal places and fewer than 11 digits")
    return amount.quantize(CENT)


def _datetime(value: Any, path: str, *, required: bool = True) -> datetime | None:
    if value is None:
        if required:
            raise ImportError_(path, "is required")
        return None
    if not isinstance(value, str) or "T" not in value:
        raise ImportError_(path, "must be an ISO 8601 date and time with an offset")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ImportError_(path, "must be an ISO 8601 date and time with an offset") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ImportError_(path, "must carry a UTC offset (e.g. +08:00)")
    return parsed


class _Regions:
    """Region codes must be 6 digits under a known province (when regions are installed)."""

    def __init__(self) -> None:
        self.provinces = set(Region.objects.filter(level=Region.Level.PROVINCE).values_list("code", flat=True))
        # code → (name, successor code, successor label) for the codes the official list has abolished
        self.retired: dict[str, tuple[str, str | None, str]] = {
            r.code: (r.name, r.successor_id, r.successor.label() if r.successor is not None else "")
            for r in Region.objects.filter(retired=True).select_related("successor__parent__parent")
        }
        self.warnings: dict[str, dict[str, str | None]] = {}  # path → warning (a document is checked twice)

    def check(self, value: Any, path: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not re.fullmatch(r"\d{6}", value.strip()):
            raise ImportError_(path, "must be a 6-digit administrative division code")
        value = value.strip()
        if self.provinces and value[:2] + "0000" not in self.provinces:
            raise ImportError_(path, "is not a known administrative division")
        if value in self.retired:
            self.warnings[path] = retired_region_warning(path, value, *self.retired[value])
        return value


def retired_region_warning(path: str, code: str, name: str, successor: str | None,
                           successor_label: str) -> dict[str, str | None]:
    """An accepted address whose code was abolished: the import goes on, the operator is told what replaced it."""
    if successor:
        detail = gettext("地区编码 %(code)s（%(name)s）已撤销，现由 %(successor)s（%(label)s）承接") % {
            "code": code, "name": name, "successor": successor, "label": successor_label}
    else:
        detail = gettext("地区编码 %(code)s（%(name)s）已撤销") % {"code": code, "name": name}
    return {"code": "region_retired", "field": path, "region": code, "successor": successor, "detail": detail}


def _address(value: Any, path: str, regions: _Regions) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ImportError_(path, "must be an object")
    return {
        "region": regions.check(_req(value, "region", path), f"{path}.region"),
        "line": _text(value.get("line"), f"{path}.line", max_length=255, required=False),
        "contact": _text(value.get("contact"), f"{path}.contact", max_length=100, required=False),
        "phone": _text(value.get("phone"), f"{path}.phone", max_length=32, required=False),
    }


def _object(rec: Any, path: str) -> dict:
    if not isinstance(rec, dict):
        raise ImportError_(path, "must be an object")
    return rec


# --- normalised records ---------------------------------------------------------------------------

def clean_shop(rec: Any, path: str, regions: _Regions) -> dict[str, Any]:
    rec = _object(rec, path)
    code = _text(_req(rec, "code", path), f"{path}.code", max_length=64)
    if not SLUG_RE.match(code):
        raise ImportError_(f"{path}.code", "may hold only letters, digits, '-' and '_'")
    out: dict[str, Any] = {"code": code, "name": _text(_req(rec, "name", path), f"{path}.name", max_length=200)}
    if rec.get("return_address") is not None:
        addr = _address(rec["return_address"], f"{path}.return_address", regions)
        out.update(return_region=addr["region"], return_line=addr["line"], return_contact=addr["contact"],
                   return_phone=addr["phone"])
    return out


def clean_user(rec: Any, path: str) -> dict[str, Any]:
    rec = _object(rec, path)
    username = _text(_req(rec, "username", path), f"{path}.username", max_length=150)
    if not USERNAME_RE.match(username):
        raise ImportError_(f"{path}.username", "may hold only letters, digits and @/./+/-/_")
    password = _req(rec, "password", path)
    if not isinstance(password, str) or not password:
        raise ImportError_(f"{path}.password", "must be a non-empty string")
    role = _req(rec, "role", path)
    if role not in Role.values:
        raise ImportError_(f"{path}.role", f"must be one of {', '.join(Role.values)}")
    out: dict[str, Any] = {
        "username": username, "password": password, "role": role,
        "good_standing": _bool(rec.get("good_standing"), f"{path}.good_standing", True),
        "supervisor": _bool(rec.get("supervisor"), f"{path}.supervisor", False),
    }
    if rec.get("email") is not None:
        email = _text(rec["email"], f"{path}.email", max_length=254, required=False)
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise ImportError_(f"{path}.email", "is not a valid email address") from exc
        out["email"] = email
    if rec.get("shops") is not None:
        shops = rec["shops"]
        if not isinstance(shops, list):
            raise ImportError_(f"{path}.shops", "must be a list of shop codes")
        out["shops"] = [_text(code, f"{path}.shops[{i}]", max_length=64) for i, code in enumerate(shops)]
    return out


def clean_product(rec: Any, path: str) -> dict[str, Any]:
    rec = _object(rec, path)
    out: dict[str, Any] = {
        "sku": _text(_req(rec, "sku", path), f"{path}.sku", max_length=64),
        "shop": _text(_req(rec, "shop", path), f"{path}.shop", max_length=64),
        "name": _text(_req(rec, "name", path), f"{path}.name", max_length=255),
        "category": _text(rec.get("category") or "general", f"{path}.category", max_length=64),
        "no_reason_returns": _bool(rec.get("no_reason_returns"), f"{path}.no_reason_returns", True),
        "warranty_days": _int(rec.get("warranty_days"), f"{path}.warranty_days", default=0),
        "weight_grams": _int(rec.get("weight_grams"), f"{path}.weight_grams", default=0),
        "length_cm": 0, "width_cm": 0, "height_cm": 0,
    }
    size = rec.get("size_cm")
    if size is not None:
        if not isinstance(size, list) or len(size) != 3:
            raise ImportError_(f"{path}.size_cm", "must be [length, width, height] in cm")
        out["length_cm"], out["width_cm"], out["height_cm"] = (
            _int(v, f"{path}.size_cm[{i}]") for i, v in enumerate(size)
        )
    return out


def clean_order(rec: Any, path: str, regions: _Regions) -> dict[str, Any]:
    rec = _object(rec, path)
    out: dict[str, Any] = {
        "number": _text(_req(rec, "number", path), f"{path}.number", max_length=64),
        "consumer": _text(_req(rec, "consumer", path), f"{path}.consumer", max_length=150),
        "shop": _text(_req(rec, "shop", path), f"{path}.shop", max_length=64),
        "paid_at": _datetime(rec.get("paid_at"), f"{path}.paid_at"),
        "shipped_at": _datetime(rec.get("shipped_at"), f"{path}.shipped_at", required=False),
        "signed_at": _datetime(rec.get("signed_at"), f"{path}.signed_at", required=False),
        "shipping_fee": _money(rec.get("shipping_fee"), f"{path}.shipping_fee", default=Decimal("0.00")),
        "points_used": _int(rec.get("points_used"), f"{path}.points_used", default=0),
        "return_shipping_insurance": _bool(rec.get("return_shipping_insurance"),
                                           f"{path}.return_shipping_insurance", False),
        "coupon_code": "", "coupon_value": None, "coupon_valid_until": None,
    }
    if out["signed_at"] is not None and out["shipped_at"] is None:
        raise ImportError_(f"{path}.signed_at", "an order cannot be signed for before it is shipped")
    coupon = rec.get("coupon")
    if coupon is not None:
        cpath = f"{path}.coupon"
        coupon = _object(coupon, cpath)
        out["coupon_code"] = _text(_req(coupon, "code", cpath), f"{cpath}.code", max_length=64)
        out["coupon_value"] = _money(_req(coupon, "value", cpath), f"{cpath}.value")
        out["coupon_valid_until"] = _datetime(coupon.get("valid_until"), f"{cpath}.valid_until", required=False)
    addr = _address(_req(rec, "address", path), f"{path}.address", regions)
    out.update(address_region=addr["region"], address_line=addr["line"], address_contact=addr["contact"],
               address_phone=addr["phone"])
    items = _req(rec, "items", path)
    if not isinstance(items, list) or not items:
        raise ImportError_(f"{path}.items", "must be a non-empty list")
    out["items"] = []
    for i, item in enumerate(items):
        ipath = f"{path}.items[{i}]"
        item = _object(item, ipath)
        out["items"].append({
            "sku": _text(_req(item, "sku", ipath), f"{ipath}.sku", max_length=64),
            "quantity": _int(_req(item, "quantity", ipath), f"{ipath}.quantity", minimum=1),
            "unit_price": _money(_req(item, "unit_price", ipath), f"{ipath}.unit_price"),
            "paid": _money(_req(item, "paid", ipath), f"{ipath}.paid"),
        })
    return out
