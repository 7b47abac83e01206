"""Pass 2: the importer that validates a whole source, then writes it in one transaction."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from ..models import Order, OrderItem, Product, Role, Shop, User
from .common import CHUNK, SECTIONS, STAFF_GROUPS, ImportError_, ImportForbidden
from .records import _Regions, clean_order, clean_product, clean_shop, clean_user
from .sources import DictSource, FileSource


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


def _password_hashes(records: list[dict[str, Any]]) -> dict[str, str]:
    """Hashes for the users about to be created (username → hash); an existing user's password is never
    touched by an import (api.md), so nobody's password can be reset by re-importing their username.

    Hashing is a deliberately slow key derivation; hashlib releases the GIL while deriving, so a batch
    runs on every core.
    """

    def work(rec: dict[str, Any]) -> tuple[str, str]:
        return rec["username"], make_password(rec["password"])

    workers = max(1, min(len(records), os.cpu_count() or 1))
    if workers == 1:
        return dict(work(rec) for rec in records)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(work, records))


def _assign_changes(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the fields whose values differ from the row's; answers their names (none: nothing to write)."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


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

    def __init__(self, source: DictSource | FileSource, *, operator: bool = False,
                 on_phase: Callable[[str], None] | None = None) -> None:
        self.source = source
        # The operator's command may create and change staff; anything else (the API) may not.
        self.operator = operator
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

    def result(self, counts: dict[str, Any]) -> dict[str, Any]:
        """The counts, and warnings for what was accepted but deserves a look (retired region codes)."""
        return {**counts, "warnings": list(self.regions.warnings.values())}

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
            self._check_accounts(cleaned)
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

    def _check_accounts(self, cleaned: list[tuple[str, dict[str, Any]]]) -> None:
        """Authority and roles, against the accounts as they are: only the operator touches staff; nobody
        changes a role by re-importing a username (the refusal names the path, api.md)."""
        found = {row["username"]: row for row in User.objects.filter(
            username__in=[u["username"] for _, u in cleaned]).values("username", "role", "is_staff", "is_superuser")}
        for path, user in cleaned:
            if not self.operator and user["role"] == Role.STAFF:
                raise ImportForbidden(f"{path}.role", _("通过接口导入不能创建或修改平台员工账号"))
            have = found.get(user["username"])
            if have is None:
                continue
            self.db_users[user["username"]] = have["role"]
            if have["role"] != user["role"]:
                if not self.operator and (have["is_staff"] or have["is_superuser"]):
                    raise ImportForbidden(path, _("通过接口导入不能修改平台员工或超级用户账号"))
                raise ImportError_(f"{path}.role", _("用户 %(username)s 的角色是 %(role)s，重新导入不能更改角色")
                                   % {"username": user["username"], "role": have["role"]})

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

    def _upsert(self, model: type[Model], key: str, rows: list[dict[str, Any]], section: str) -> dict[str, Any]:
        """Create missing rows and update changed ones; answers key → instance for the batch."""
        existing = {getattr(o, key): o for o in model._default_manager.filter(**{f"{key}__in": [r[key] for r in rows]})}
        create, update, fields = [], [], set()
        for row in rows:
            obj = existing.get(row[key])
            if obj is None:
                obj = model(**row)
                create.append(obj)
                existing[row[key]] = obj
                continue
            changed = _assign_changes(obj, row)
            if changed:
                update.append(obj)
                fields.update(changed)
        if create:
            model._default_manager.bulk_create(create)
        if update:
            model._default_manager.bulk_update(update, sorted(fields))
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
            records = [(f"users[{i}]", clean_user(rec, f"users[{i}]")) for i, rec in batch]
            self.counts.seen["users"] += len(records)
            existing = {u.username: u for u in User.objects.filter(username__in=[r["username"] for _, r in records])
                        .prefetch_related("groups", "shops")}
            shop_ids = dict(Shop.objects.filter(code__in={c for _, r in records for c in r.get("shops", [])})
                            .values_list("code", "id"))
            new_hashes = _password_hashes([r for _, r in records if r["username"] not in existing])
            for path, rec in records:
                found = existing.get(rec["username"])
                created = found is None
                if found is None:
                    user = User(username=rec["username"], role=rec["role"], password=new_hashes[rec["username"]])
                else:
                    user = found
                if not created and user.role != rec["role"]:  # pass 1 checked; a row that changed since is refused the same way
                    raise ImportError_(f"{path}.role", _("用户 %(username)s 的角色是 %(role)s，重新导入不能更改角色")
                                       % {"username": user.username, "role": user.role})
                wanted: dict[str, Any] = {"good_standing": rec["good_standing"]}
                if rec["role"] == Role.STAFF:
                    wanted["is_staff"] = True
                elif not user.is_superuser:
                    wanted["is_staff"] = False
                if "email" in rec:
                    wanted["email"] = rec["email"]
                changed = [k for k, v in wanted.items() if getattr(user, k) != v]
                group_diff = self._group_diff(user, rec, created)
                shop_diff = self._shop_diff(user, rec, shop_ids, created)
                if (not created and not self.operator and (user.is_staff or user.is_superuser)
                        and (changed or any(group_diff) or any(shop_diff))):
                    raise ImportForbidden(path, _("通过接口导入不能修改平台员工或超级用户账号"))
                for k in changed:
                    setattr(user, k, wanted[k])
                if created:
                    user.save()
                elif changed:
                    user.save(update_fields=changed)
                touched = self._apply(user.groups, {groups[n] for n in group_diff[0]},
                                      {groups[n] for n in group_diff[1]})
                touched |= self._apply(user.shops, *shop_diff)
                if created:
                    self.counts.created["users"] += 1
                elif changed or touched:
                    self.counts.updated["users"] += 1

    @staticmethod
    def _group_diff(user: User, rec: dict[str, Any], created: bool) -> tuple[set[str], set[str]]:
        """(staff groups to add, to remove): a staff user is in `agents`, and in `supervisors` if asked."""
        have = set() if created else {g.name for g in user.groups.all()}
        want = set(have) - set(STAFF_GROUPS)
        if rec["role"] == Role.STAFF:
            want.add("agents")
            if rec["supervisor"]:
                want.add("supervisors")
        return want - have, have - want

    @staticmethod
    def _shop_diff(user: User, rec: dict[str, Any], shop_ids: dict[str, int],
                   created: bool) -> tuple[set[int], set[int]]:
        """(shop ids to join, to leave): a merchant belongs to the shops listed (none listed: unchanged)."""
        if rec["role"] == Role.MERCHANT and "shops" not in rec:
            return set(), set()
        have = set() if created else {s.pk for s in user.shops.all()}
        want = {shop_ids[c] for c in rec.get("shops", [])} if rec["role"] == Role.MERCHANT else set()
        return want - have, have - want

    @staticmethod
    def _apply(related: Any, add: set[Any], remove: set[Any]) -> bool:
        if add:
            related.add(*add)
        if remove:
            related.remove(*remove)
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
    def _resolve(cache: dict[str, int], model: type[Model], key: str, wanted: set[str]) -> None:
        missing = [k for k in wanted if k not in cache]
        if missing:
            cache.update(model._default_manager.filter(**{f"{key}__in": missing}).values_list(key, "id"))

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
        for stored in OrderItem.objects.filter(order_id__in=[o.pk for o in existing.values()]):
            items_by_order.setdefault(stored.order_id, {})[stored.position] = stored
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
                diff = _assign_changes(current, values)
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


def import_document(doc: Any, *, operator: bool = False) -> dict[str, Any]:
    """Import a parsed document: all of it or, on the first fault (ImportError_), none of it.

    `operator=True` only for the operator's own tools (the command, the demo seed): it may create staff."""
    importer = Importer(DictSource(doc), operator=operator)
    importer.validate()
    return importer.result(importer.write())


def import_file(path: str, *, operator: bool = False, progress: Callable[[int, int], None] | None = None,
                on_phase: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Import a JSON file streamed from disk (bounded memory whatever the number of orders)."""
    importer = Importer(FileSource(path, progress=progress), operator=operator, on_phase=on_phase)
    importer.validate()
    return importer.result(importer.write())
