"""Bulk INSERTs from columns, without a model instance per row (the deadline sweep writes thousands a second).

`insert_columns(Model, {field: [values…]})` writes one row per position of the lists. On PostgreSQL it is one
precompiled `INSERT … SELECT FROM unnest(%b::type[], …)`: psycopg 3 adapts each Python list to one array, in
binary (`%b`: no per-element quoting, which the text format does with regular expressions), so a batch of 500
rows costs one statement and no per-row Django work (instances, `pre_save`, prep values, SQL compilation);
the statement's text is the same for any batch, so psycopg prepares it once per connection. Elsewhere (the demo and the fast tests run on SQLite) it builds the instances and calls
`bulk_create`, which is the same rows. Values must already be what the column holds: ids for foreign keys
(`case_id`, `shop_id`), aware datetimes, Decimals, JSON-serialisable dicts for JSON fields. Defaults of fields
left out are the model's (computed once per call, not per row).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.db import connections, models, router
from django.db.models.fields import NOT_PROVIDED


def insert_columns(model: type[models.Model], columns: Mapping[str, Sequence[Any]], *,
                   returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Insert the rows `columns` describes (attnames → one value per row); answers the `returning` attnames of
    each row written (in no promised order: return what identifies the row, e.g. `("id", "case_id")`)."""
    names = list(columns)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns of unequal length: {lengths}")
    if not lengths.pop():
        return []
    db = router.db_for_write(model)
    connection = connections[db]
    given = dict(columns)
    count = len(next(iter(given.values())))
    for name, value in _defaults(model, tuple(names)).items():
        given[name] = [value() if callable(value) else value] * count
    if connection.vendor != "postgresql":
        return _insert_orm(model, given, returning, db)
    sql, json_columns = _statement(model, tuple(given), tuple(returning), db)
    params = [[None if v is None else json.dumps(v) for v in values] if name in json_columns else list(values)
              for name, values in given.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()] if returning else []


@lru_cache(maxsize=64)
def _defaults(model: type[models.Model], given: tuple[str, ...]) -> dict[str, Any]:
    """The model's defaults for the concrete fields not given (the primary key is the sequence's)."""
    defaults: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in given:
            continue
        if f.default is NOT_PROVIDED:
            if not f.null:
                raise ValueError(f"{model.__name__}.{f.attname} has no default: give it")
            defaults[f.attname] = None
        else:
            defaults[f.attname] = f.default
    return defaults


@lru_cache(maxsize=64)
def _statement(model: type[models.Model], names: tuple[str, ...], returning: tuple[str, ...],
               db: str) -> tuple[str, frozenset[str]]:
    connection = connections[db]
    quote = connection.ops.quote_name
    ph = array_placeholder(connection)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    json_columns = frozenset(n for n in names if isinstance(fields[n], models.JSONField))
    arrays, selected = [], []
    for i, name in enumerate(names):
        field = fields[name]
        if name in json_columns:
            arrays.append(f"{ph}::text[]")
            selected.append(f"c{i}::jsonb")
        else:
            arrays.append(f"{ph}::{_array_type(field, connection)}[]")
            selected.append(f"c{i}")
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(_column(fields[n])) for n in names)}) "
           f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) "
           f"AS v({', '.join(f'c{i}' for i in range(len(names)))})")
    if returning:
        sql += " RETURNING " + ", ".join(quote(_column(fields[n])) for n in returning)
    return sql, json_columns


def _column(field: Any) -> str:
    return str(field.column)


def array_placeholder(connection: Any) -> str:
    """`%b` (binary) with server-side binding (settings: DB_PREPARED_STATEMENTS); a client-side cursor quotes
    every value into the text and takes `%s` only."""
    return "%b" if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is True else "%s"


def _array_type(field: models.Field, connection: Any) -> str:
    db_type = field.db_type(connection)  # a foreign key's is its target's (bigint)
    if db_type is None:
        raise ValueError(f"{field} has no column type")
    if db_type in ("serial", "bigserial", "smallserial"):
        return {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}[db_type]
    return db_type


def _insert_orm(model: type[models.Model], columns: Mapping[str, Sequence[Any]], returning: Sequence[str],
                db: str) -> list[tuple[Any, ...]]:
    names = list(columns)
    objs = [model(**dict(zip(names, row, strict=True))) for row in zip(*columns.values(), strict=True)]
    created = model._default_manager.db_manager(db).bulk_create(objs)
    return [tuple(getattr(o, n) for n in returning) for o in created] if returning else []


def update_columns(model: type[models.Model], rows: Sequence[tuple[Any, Mapping[str, Any]]],
                   order: Sequence[str]) -> None:
    """Set, per row (primary key, {attname: new value}), the fields its mapping names, in one statement on
    PostgreSQL: `UPDATE … FROM unnest(ids, values…, masks…)`; a field a row does not name keeps its stored value
    (a mask per field says which rows set it). `order`: the attnames in the order the SET lists them.
    Elsewhere one UPDATE per group of rows setting the same values."""
    if not rows:
        return
    db = router.db_for_write(model)
    connection = connections[db]
    named = {name for _pk, values in rows for name in values}
    names = tuple(n for n in order if n in named)
    if not names:
        return
    if connection.vendor != "postgresql":
        groups: dict[tuple[tuple[str, Any], ...], list[Any]] = {}
        for pk, values in rows:
            groups.setdefault(tuple((n, values[n]) for n in names if n in values), []).append(pk)
        for group, pks in groups.items():
            model._default_manager.db_manager(db).filter(pk__in=pks).update(**dict(group))
        return
    masked = tuple(n for n in names if any(n not in values for _pk, values in rows))
    sql, json_columns = _update_statement(model, names, masked, db)
    params: list[list[Any]] = [[pk for pk, _values in rows]]
    for name in names:
        column = [row.get(name) for _pk, row in rows]
        params.append([None if v is None else json.dumps(v) for v in column] if name in json_columns else column)
    for name in masked:
        params.append([name in row for _pk, row in rows])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@lru_cache(maxsize=256)
def _update_statement(model: type[models.Model], names: tuple[str, ...], masked: tuple[str, ...],
                      db: str) -> tuple[str, frozenset[str]]:
    connection = connections[db]
    quote = connection.ops.quote_name
    ph = array_placeholder(connection)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    pk = model._meta.pk
    json_columns = frozenset(n for n in names if isinstance(fields[n], models.JSONField))
    arrays = [f"{ph}::{_array_type(pk, connection)}[]"]
    sets = []
    for i, name in enumerate(names):
        column = quote(_column(fields[name]))
        arrays.append(f"{ph}::text[]" if name in json_columns else f"{ph}::{_array_type(fields[name], connection)}[]")
        value = f"v.c{i}::jsonb" if name in json_columns else f"v.c{i}"
        if name in masked:
            value = f"CASE WHEN v.m{masked.index(name)} THEN {value} ELSE t.{column} END"
        sets.append(f"{column} = {value}")
    arrays.extend(f"{ph}::boolean[]" for _ in masked)
    aliases = ["id", *(f"c{i}" for i in range(len(names))), *(f"m{i}" for i in range(len(masked)))]
    sql = (f"UPDATE {quote(model._meta.db_table)} AS t SET {', '.join(sets)} "
           f"FROM unnest({', '.join(arrays)}) AS v({', '.join(aliases)}) WHERE t.{quote(_column(pk))} = v.id")
    return sql, json_columns
