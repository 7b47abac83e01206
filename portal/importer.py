"""Marketplace import (api.md "Marketplace data"): validated whole, written all-or-nothing, idempotent.

The same code serves `POST /api/v1/marketplace/import/` (a parsed dict) and
`manage.py import_marketplace FILE.json` (a file streamed twice, so 100k orders never sit in memory):

* pass 1 validates every record, section by section in dependency order (shops, users, products,
  orders), resolving references against the document and the database; the first fault raises
  `ImportError_(path, detail)` with a path such as ``orders[3].items[0].sku``;
* pass 2 writes inside one transaction, in chunks with bulk operations, touching only rows whose
  values differ. A second import of the same document therefore writes nothing.

Datetimes must carry an offset (``2026-11-01T10:00:00+08:00`` or ``...Z``): a naive time is rejected
rather than guessed, because the marketplace's clock zone is not ours to assume.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .models import Order, OrderItem, Product, Region, Role, Shop, User

SECTIONS = ("shops", "users", "products", "orders")
CENT = Decimal("0.01")
MAX_MONEY = Decimal("1e10")
CHUNK = 1000
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
STAFF_GROUPS = ("agents", "supervisors")


class ImportError_(Exception):  # noqa: N801 - the API and the command already use this name
    """A document fault: `path` names the offending value, `detail` says what is wrong with it."""

    def __init__(self, path: str, detail: str) -> None:
        self.path, self.detail = path, detail
        super().__init__(f"{path}: {detail}" if path else detail)


# --- sources: a dict in memory, or a JSON file read as a stream ---------------------------------

class DictSource:
    """A document already parsed (the API)."""

    def __init__(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise ImportError_("", "the document must be a JSON object")
        for name in SECTIONS:
            value = doc.get(name)
            if value is not None and not isinstance(value, list):
                raise ImportError_(name, "must be a list")
        self.doc = doc

    def records(self, section: str) -> Iterator[tuple[int, Any]]:
        yield from enumerate(self.doc.get(section) or [])


class FileSource:
    """A JSON file parsed incrementally: only one top-level array element is decoded at a time.

    The first scan reads the whole file (checking its syntax) and notes the byte offset where each
    section's array starts; later scans seek straight to the one section they want.
    """

    def __init__(self, path: str, *, chunk_size: int = 1 << 16,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.path, self.chunk_size, self.progress = path, chunk_size, progress
        self.size = os.path.getsize(path)
        self.offsets: dict[str, int] | None = None

    def records(self, section: str) -> Iterator[tuple[int, Any]]:
        if self.offsets is None:
            yield from self._scan(wanted=section)
        elif section in self.offsets:
            reader = _StreamReader(self.path, self.chunk_size, self.progress, self.size,
                                   start=self.offsets[section])
            try:
                reader.expect("[")
                yield from _array(reader, section)
            finally:
                reader.close()

    def _scan(self, *, wanted: str) -> Iterator[tuple[int, Any]]:
        reader = _StreamReader(self.path, self.chunk_size, self.progress, self.size)
        offsets: dict[str, int] = {}
        try:
            reader.expect("{")
            if reader.peek() == "}":
                reader.advance(1)
            else:
                while True:
                    key = reader.value()
                    if not isinstance(key, str):
                        raise ImportError_("", "invalid JSON: object keys must be strings")
                    reader.expect(":")
                    if key in SECTIONS and reader.peek() == "[":
                        offsets[key] = reader.byte_offset()
                        reader.advance(1)
                        items = _array(reader, key)
                        if key == wanted:
                            yield from items
                        else:
                            for _ in items:
                                pass
                    else:
                        value = reader.value()
                        if key in SECTIONS and value is not None:
                            raise ImportError_(key, "must be a list")
                    sep = reader.peek()
                    reader.advance(1)
                    if sep == "}":
                        break
                    if sep != ",":
                        raise ImportError_("", "invalid JSON: expected ',' or '}'")
            if reader.peek() != "":
                raise ImportError_("", "invalid JSON: extra data after the document")
        finally:
            reader.close()
        self.offsets = offsets


def _array(reader: _StreamReader, key: str) -> Iterator[tuple[int, Any]]:
    """The elements of an array whose '[' was just read."""
    if reader.peek() == "]":
        reader.advance(1)
        return
    index = 0
    while True:
        yield index, reader.value()
        index += 1
        sep = reader.peek()
        reader.advance(1)
        if sep == "]":
            return
        if sep != ",":
            raise ImportError_(f"{key}[{index}]", "invalid JSON: expected ',' or ']'")


class _StreamReader:
    """Just enough of an incremental JSON reader: raw_decode on a sliding buffer of the file."""

    def __init__(self, path: str, chunk_size: int, progress: Callable[[int, int], None] | None,
                 size: int, *, start: int = 0) -> None:
        self.file: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        if start:
            self.file.seek(start)
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.chunk_size, self.progress, self.size = chunk_size, progress, size
        self.decoder = json.JSONDecoder(parse_float=Decimal)
        self.buf, self.pos, self.eof = "", 0, False
        self.base = start  # byte offset of buf[0] in the file

    def close(self) -> None:
        self.file.close()

    def byte_offset(self) -> int:
        return self.base + len(self.buf[:self.pos].encode("utf-8"))

    def _fill(self, at_least: int) -> bool:
        if self.eof:
            return False
        if self.pos:
            self.base += len(self.buf[:self.pos].encode("utf-8"))
            self.buf = self.buf[self.pos:]
            self.pos = 0
        data = self.file.read(max(self.chunk_size, at_least))
        if not data:
            self.text.decode(b"", final=True)
            self.eof = True
            return False
        self.buf += self.text.decode(data)
        if self.progress is not None:
            self.progress(min(self.file.tell(), self.size), self.size)
        return True

    def _skip_ws(self) -> None:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill(0):
                return

    def peek(self) -> str:
        self._skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def advance(self, n: int) -> None:
        self.pos += n

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ImportError_("", f"invalid JSON: expected '{char}'")
        self.pos += 1

    def value(self) -> Any:
        self._skip_ws()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill(len(self.buf)):
                    continue
                raise ImportError_("", f"invalid JSON: {exc.msg} (line {exc.lineno})") from exc
            if end >= len(self.buf) and not self.eof and self._fill(len(self.buf)):
                continue  # a number or literal cut at the buffer's end: read on and decode again
            self.pos = end
            return value


# --- value checks ------------------------------------------------------------------------------

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

    def check(self, value: Any, path: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not re.fullmatch(r"\d{6}", value.strip()):
            raise ImportError_(path, "must be a 6-digit administrative division code")
        value = value.strip()
        if self.provinces and value[:2] + "0000" not in self.provinces:
            raise ImportError_(path, "is not a known administrative division")
        return value


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


# --- the importer ----------------------------------------------------------------------------------

@dataclass
class Counts:
    seen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    created: dict[str, int] = field(default_factory=lambda: {**dict.fromkeys(SECTIONS, 0), "items": 0})
    updated: dict[str, int] = field(default_factory=lambda: {**dict.fromkeys(SECTIONS, 0), "items": 0})

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.seen[name] for name in ("users", "shops", "products", "orders")}
        out["created"] = dict(self.created)
        out["updated"] = dict(self.updated)
        out["unchanged"] = {name: self.seen[name] - self.created[name] - self.updated[name] for name in SECTIONS}
        return out


def _password_hashes(records: list[dict[str, Any]], existing: dict[str, User]) -> dict[str, str]:
    """New hashes for the users whose password is new or differs (username → hash).

    Checking and hashing cost the same slow key derivation (that is its purpose); hashlib releases the
    GIL while deriving, so a batch runs on every core. Unchanged passwords are checked, never rewritten.
    """

    def work(rec: dict[str, Any]) -> tuple[str, str | None]:
        user = existing.get(rec["username"])
        if user is not None and check_password(rec["password"], user.password):
            return rec["username"], None
        return rec["username"], make_password(rec["password"])

    workers = max(1, min(len(records), os.cpu_count() or 1))
    if workers == 1:
        results = [work(rec) for rec in records]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, records))
    return {name: hashed for name, hashed in results if hashed is not None}


def _chunks(records: Iterator[tuple[int, Any]], size: int = CHUNK) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for pair in records:
        batch.append(pair)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Importer:
    """Validates a source completely, then writes it in one transaction."""

    def __init__(self, source: DictSource | FileSource, *,
                 on_phase: Callable[[str], None] | None = None) -> None:
        self.source = source
        self.on_phase = on_phase or (lambda phase: None)
        self.regions = _Regions()
        # What the document itself declares, for references between its sections.
        self.doc_shops: set[str] = set()
        self.doc_users: dict[str, str] = {}  # username → role
        self.doc_skus: dict[str, str] = {}  # sku → shop code
        # Database answers for references the document does not declare (None = absent).
        self.db_shops: dict[str, bool] = {}
        self.db_users: dict[str, str | None] = {}
        self.db_skus: dict[str, str | None] = {}
        self.counts = Counts()

    # ---- pass 1 ----
    def validate(self) -> None:
        self.on_phase("check shops")
        for index, rec in self.source.records("shops"):
            path = f"shops[{index}]"
            code = clean_shop(rec, path, self.regions)["code"]
            if code in self.doc_shops:
                raise ImportError_(f"{path}.code", f"duplicate shop code {code!r}")
            self.doc_shops.add(code)
        self.on_phase("check users")
        for batch in _chunks(self.source.records("users")):
            cleaned = []
            for index, rec in batch:
                path = f"users[{index}]"
                user = clean_user(rec, path)
                if user["username"] in self.doc_users:
                    raise ImportError_(f"{path}.username", f"duplicate username {user['username']!r}")
                self.doc_users[user["username"]] = user["role"]
                cleaned.append((path, user))
            self._lookup_shops({c for _, u in cleaned for c in u.get("shops", [])})
            for path, user in cleaned:
                for i, code in enumerate(user.get("shops", [])):
                    if not self._shop_exists(code):
                        raise ImportError_(f"{path}.shops[{i}]", f"unknown shop {code!r}")
        self.on_phase("check products")
        for batch in _chunks(self.source.records("products")):
            cleaned = [(f"products[{index}]", clean_product(rec, f"products[{index}]")) for index, rec in batch]
            self._lookup_shops({p["shop"] for _, p in cleaned})
            for path, product in cleaned:
                if product["sku"] in self.doc_skus:
                    raise ImportError_(f"{path}.sku", f"duplicate sku {product['sku']!r}")
                if not self._shop_exists(product["shop"]):
                    raise ImportError_(f"{path}.shop", f"unknown shop {product['shop']!r}")
                self.doc_skus[product["sku"]] = product["shop"]
        numbers: set[str] = set()
        self.on_phase("check orders")
        for batch in _chunks(self.source.records("orders")):
            cleaned = [(f"orders[{index}]", clean_order(rec, f"orders[{index}]", self.regions))
                       for index, rec in batch]
            self._lookup_shops({o["shop"] for _, o in cleaned})
            self._lookup_users({o["consumer"] for _, o in cleaned})
            self._lookup_skus({i["sku"] for _, o in cleaned for i in o["items"]})
            for path, order in cleaned:
                if order["number"] in numbers:
                    raise ImportError_(f"{path}.number", f"duplicate order number {order['number']!r}")
                numbers.add(order["number"])
                role = self.doc_users.get(order["consumer"]) or self.db_users.get(order["consumer"])
                if role is None:
                    raise ImportError_(f"{path}.consumer", f"unknown user {order['consumer']!r}")
                if role != Role.CONSUMER:
                    raise ImportError_(f"{path}.consumer", f"user {order['consumer']!r} is not a consumer")
                if not self._shop_exists(order["shop"]):
                    raise ImportError_(f"{path}.shop", f"unknown shop {order['shop']!r}")
                for i, item in enumerate(order["items"]):
                    owner = self.doc_skus.get(item["sku"]) or self.db_skus.get(item["sku"])
                    if owner is None:
                        raise ImportError_(f"{path}.items[{i}].sku", f"unknown sku {item['sku']!r}")
                    if owner != order["shop"]:
                        raise ImportError_(f"{path}.items[{i}].sku",
                                           f"sku {item['sku']!r} belongs to another shop ({owner})")

    def _shop_exists(self, code: str) -> bool:
        return code in self.doc_shops or self.db_shops.get(code, False)

    def _lookup_shops(self, codes: set[str]) -> None:
        missing = [c for c in codes if c not in self.doc_shops and c not in self.db_shops]
        if missing:
            found = set(Shop.objects.filter(code__in=missing).values_list("code", flat=True))
            self.db_shops.update({c: c in found for c in missing})

    def _lookup_users(self, names: set[str]) -> None:
        missing = [n for n in names if n not in self.doc_users and n not in self.db_users]
        if missing:
            found = dict(User.objects.filter(username__in=missing).values_list("username", "role"))
            self.db_users.update({n: found.get(n) for n in missing})

    def _lookup_skus(self, skus: set[str]) -> None:
        missing = [s for s in skus if s not in self.doc_skus and s not in self.db_skus]
        if missing:
            found = dict(Product.objects.filter(sku__in=missing).values_list("sku", "shop__code"))
            self.db_skus.update({s: found.get(s) for s in missing})

    # ---- pass 2 ----
    def write(self) -> dict[str, Any]:
        with transaction.atomic():
            self.on_phase("write shops")
            self._write_shops()
            self.on_phase("write users")
            self._write_users()
            self.on_phase("write products")
            self._write_products()
            self.on_phase("write orders")
            self._write_orders()
        return self.counts.as_dict()

    def _upsert(self, model: type, key: str, rows: list[dict[str, Any]], section: str) -> dict[str, Any]:
        """Create missing rows and update changed ones; answers key → instance for the batch."""
        existing = {getattr(o, key): o for o in model.objects.filter(**{f"{key}__in": [r[key] for r in rows]})}
        create, update, fields = [], [], set()
        for row in rows:
            obj = existing.get(row[key])
            if obj is None:
                obj = model(**row)
                create.append(obj)
                existing[row[key]] = obj
                continue
            changed = [name for name, value in row.items() if getattr(obj, name) != value]
            for name in changed:
                setattr(obj, name, row[name])
            if changed:
                update.append(obj)
                fields.update(changed)
        if create:
            model.objects.bulk_create(create)
        if update:
            model.objects.bulk_update(update, sorted(fields))
        self.counts.created[section] += len(create)
        self.counts.updated[section] += len(update)
        return existing

    def _write_shops(self) -> None:
        for batch in _chunks(self.source.records("shops")):
            rows = [clean_shop(rec, f"shops[{i}]", self.regions) for i, rec in batch]
            self.counts.seen["shops"] += len(rows)
            self._upsert(Shop, "code", rows, "shops")

    def _write_users(self) -> None:
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in STAFF_GROUPS}
        for batch in _chunks(self.source.records("users")):
            records = [clean_user(rec, f"users[{i}]") for i, rec in batch]
            self.counts.seen["users"] += len(records)
            existing = {u.username: u for u in User.objects.filter(username__in=[r["username"] for r in records])
                        .prefetch_related("groups", "shops")}
            shop_ids = dict(Shop.objects.filter(code__in={c for r in records for c in r.get("shops", [])})
                            .values_list("code", "id"))
            new_hashes = _password_hashes(records, existing)
            for rec in records:
                user = existing.get(rec["username"])
                created = user is None
                if created:
                    user = User(username=rec["username"])
                wanted: dict[str, Any] = {
                    "role": rec["role"], "good_standing": rec["good_standing"],
                }
                if rec["role"] == Role.STAFF:
                    wanted["is_staff"] = True
                elif not user.is_superuser:
                    wanted["is_staff"] = False
                if "email" in rec:
                    wanted["email"] = rec["email"]
                changed = [k for k, v in wanted.items() if getattr(user, k) != v]
                for k in changed:
                    setattr(user, k, wanted[k])
                if rec["username"] in new_hashes:
                    user.password = new_hashes[rec["username"]]
                    changed.append("password")
                if created:
                    user.save()
                elif changed:
                    user.save(update_fields=changed)
                touched = self._sync_groups(user, rec, groups, created)
                touched |= self._sync_shops(user, rec, shop_ids, created)
                if created:
                    self.counts.created["users"] += 1
                elif changed or touched:
                    self.counts.updated["users"] += 1

    @staticmethod
    def _sync_groups(user: User, rec: dict[str, Any], groups: dict[str, Group], created: bool) -> bool:
        have = set() if created else {g.name for g in user.groups.all()}
        want = set(have) - set(STAFF_GROUPS)
        if rec["role"] == Role.STAFF:
            want.add("agents")
            if rec["supervisor"]:
                want.add("supervisors")
        add, remove = want - have, have - want
        if add:
            user.groups.add(*(groups[n] for n in add))
        if remove:
            user.groups.remove(*(groups[n] for n in remove))
        return bool(add or remove)

    @staticmethod
    def _sync_shops(user: User, rec: dict[str, Any], shop_ids: dict[str, int], created: bool) -> bool:
        if rec["role"] == Role.MERCHANT and "shops" not in rec:
            return False  # no list given: memberships stay as they are
        have = set() if created else {s.pk for s in user.shops.all()}
        want = {shop_ids[c] for c in rec.get("shops", [])} if rec["role"] == Role.MERCHANT else set()
        add, remove = want - have, have - want
        if add:
            user.shops.add(*add)
        if remove:
            user.shops.remove(*remove)
        return bool(add or remove)

    def _write_products(self) -> None:
        shop_ids: dict[str, int] = {}
        for batch in _chunks(self.source.records("products")):
            rows = [clean_product(rec, f"products[{i}]") for i, rec in batch]
            self.counts.seen["products"] += len(rows)
            self._resolve(shop_ids, Shop, "code", {r["shop"] for r in rows})
            for row in rows:
                row["shop_id"] = shop_ids[row.pop("shop")]
            self._upsert(Product, "sku", rows, "products")

    @staticmethod
    def _resolve(cache: dict[str, int], model: type, key: str, wanted: set[str]) -> None:
        missing = [k for k in wanted if k not in cache]
        if missing:
            cache.update(model.objects.filter(**{f"{key}__in": missing}).values_list(key, "id"))

    def _write_orders(self) -> None:
        shop_ids: dict[str, int] = {}
        user_ids: dict[str, int] = {}
        product_ids: dict[str, int] = {}
        for batch in _chunks(self.source.records("orders")):
            records = [clean_order(rec, f"orders[{i}]", self.regions) for i, rec in batch]
            self.counts.seen["orders"] += len(records)
            self._resolve(shop_ids, Shop, "code", {r["shop"] for r in records})
            self._resolve(user_ids, User, "username", {r["consumer"] for r in records})
            self._resolve(product_ids, Product, "sku", {i["sku"] for r in records for i in r["items"]})
            self._write_order_batch(batch, records, shop_ids, user_ids, product_ids)

    def _write_order_batch(self, batch: list[tuple[int, Any]], records: list[dict[str, Any]],
                           shop_ids: dict[str, int], user_ids: dict[str, int],
                           product_ids: dict[str, int]) -> None:
        existing = {o.number: o for o in Order.objects.filter(number__in=[r["number"] for r in records])}
        items_by_order: dict[int, dict[int, OrderItem]] = {}
        for item in OrderItem.objects.filter(order_id__in=[o.pk for o in existing.values()]):
            items_by_order.setdefault(item.order_id, {})[item.position] = item
        new_orders: list[tuple[Order, list[dict[str, Any]]]] = []
        changed_orders: list[Order] = []
        order_fields: set[str] = set()
        item_create: list[OrderItem] = []
        item_update: list[OrderItem] = []
        item_fields: set[str] = set()
        item_delete: list[OrderItem] = []
        for rec in records:
            row = dict(rec)
            items = row.pop("items")
            row["consumer_id"] = user_ids[row.pop("consumer")]
            row["shop_id"] = shop_ids[row.pop("shop")]
            order = existing.get(row["number"])
            if order is None:
                new_orders.append((Order(**row), items))
                continue
            changed = [k for k, v in row.items() if getattr(order, k) != v]
            for k in changed:
                setattr(order, k, row[k])
            order_fields.update(changed)
            have = items_by_order.get(order.pk, {})
            items_changed = False
            for position, item in enumerate(items, start=1):
                values = {"product_id": product_ids[item["sku"]], "quantity": item["quantity"],
                          "unit_price": item["unit_price"], "paid": item["paid"]}
                current = have.pop(position, None)
                if current is None:
                    item_create.append(OrderItem(order=order, position=position, **values))
                    items_changed = True
                    continue
                diff = [k for k, v in values.items() if getattr(current, k) != v]
                for k in diff:
                    setattr(current, k, values[k])
                if diff:
                    item_update.append(current)
                    item_fields.update(diff)
                    items_changed = True
            if have:
                item_delete.extend(have.values())
                items_changed = True
            if changed or items_changed:
                changed_orders.append(order)
                self.counts.updated["orders"] += 1
        if item_delete:
            from cases.models import AfterSalesCase

            blocked = AfterSalesCase.objects.filter(order_item__in=item_delete).select_related("order_item__order")
            for case in blocked[:1]:
                raise ImportError_(
                    f"orders[{self._index_of(batch, case.order_item.order.number)}].items",
                    f"item {case.order_item.position} has after-sales case {case.number} and cannot be removed",
                )
            OrderItem.objects.filter(pk__in=[i.pk for i in item_delete]).delete()
        if new_orders:
            Order.objects.bulk_create([o for o, _ in new_orders])
            for order, items in new_orders:
                for position, item in enumerate(items, start=1):
                    item_create.append(OrderItem(
                        order=order, position=position, product_id=product_ids[item["sku"]],
                        quantity=item["quantity"], unit_price=item["unit_price"], paid=item["paid"]))
            self.counts.created["orders"] += len(new_orders)
        if order_fields:
            Order.objects.bulk_update([o for o in changed_orders], sorted(order_fields))
        if item_create:
            OrderItem.objects.bulk_create(item_create)
            self.counts.created["items"] += len(item_create)
        if item_update:
            OrderItem.objects.bulk_update(item_update, sorted(item_fields))
            self.counts.updated["items"] += len(item_update)

    @staticmethod
    def _index_of(batch: list[tuple[int, Any]], number: str) -> int:
        for index, raw in batch:
            if isinstance(raw, dict) and raw.get("number") == number:
                return index
        return batch[0][0]


def import_document(doc: Any) -> dict[str, Any]:
    """Import a parsed document: all of it or, on the first fault (ImportError_), none of it."""
    importer = Importer(DictSource(doc))
    importer.validate()
    return importer.write()


def import_file(path: str, *, progress: Callable[[int, int], None] | None = None,
                on_phase: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Import a JSON file streamed from disk (bounded memory whatever the number of orders)."""
    importer = Importer(FileSource(path, progress=progress), on_phase=on_phase)
    importer.validate()
    return importer.write()
