"""Fixed-shape reads compiled once per process: the SQL Django writes for a `.values()` queryset, kept with
its column converters and run again with the request's own parameters.

Building and compiling a queryset is most of the Python time of a read that runs the same query shape on
every request (a join of nine relations, a window over events): ~2,000 function calls each, every time,
for the same text. `rows(key, build, **args)` builds the queryset once, with sentinel values in place of
the arguments, finds where the sentinels landed among the compiled parameters (a value may be used more than once), and from then on only
substitutes the request's values: the statement sent is exactly the one Django would have sent (same
text, same parameters, same converters on the results), so the database, the statement counts and the
rows are unchanged.

`key` must name everything that shapes the SQL other than the arguments (a filter present or not, an
ordering, a LIMIT/OFFSET, which Django writes as literals); the lengths of list arguments are added to it.
A shape whose sentinels cannot all be found (a lookup that transforms its value) is never cached: it is
built and run normally every time.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import QuerySet, prefetch_related_objects
from django.db.models.query import get_related_populators

_SENTINEL_INT_BASE = -(2**62)  # far outside any id, count or quantity the portal stores
_SENTINEL_TIME_BASE = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
_MAX_SHAPES = 512

_lock = threading.Lock()
_cache: dict[Hashable, _Compiled | None] = {}


class _Ref:
    """A compiled parameter that is an argument (by name, and position within a list argument)."""

    __slots__ = ("name", "index")

    def __init__(self, name: str, index: int | None) -> None:
        self.name, self.index = name, index


class _Compiled:
    __slots__ = ("model", "vendor", "sql", "params", "names", "converters", "instances")

    def __init__(self, model: Any, vendor: str, sql: str, params: list[Any], names: list[str],
                 converters: list[tuple[int, list[Any], Any]], instances: _Instances | None = None) -> None:
        self.model, self.vendor, self.sql, self.params = model, vendor, sql, params
        self.names, self.converters, self.instances = names, converters, instances

    def fetch(self, args: dict[str, Any]) -> tuple[str, list[list[Any]]] | None:
        """The converted rows, read where the router sends this model's reads now, and that database's alias
        (None: another kind of database than the one compiled for)."""
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        if connection.vendor != self.vendor:
            return None
        params = [(args[p.name] if p.index is None else args[p.name][p.index]) if isinstance(p, _Ref) else p
                  for p in self.params]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        converters = self.converters
        out = []
        for raw in fetched:
            row = list(raw)
            for pos, convs, expression in converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            out.append(row)
        return alias, out

    def run(self, args: dict[str, Any]) -> list[dict[str, Any]] | None:
        fetched = self.fetch(args)
        if fetched is None:
            return None
        names = self.names
        return [dict(zip(names, row, strict=False)) for row in fetched[1]]


class _Instances:
    """What Django's ModelIterable reads from a compiler to build model instances (select_related included)."""

    __slots__ = ("klass_info", "select", "annotation_col_map", "prefetch")

    def __init__(self, klass_info: dict[str, Any], select: list[Any], annotation_col_map: dict[str, int],
                 prefetch: tuple[Any, ...]) -> None:
        self.klass_info, self.select, self.annotation_col_map, self.prefetch = (
            klass_info, select, annotation_col_map, prefetch)

    def build(self, alias: str, rows: list[list[Any]]) -> list[Any]:
        klass_info, select = self.klass_info, self.select
        model_cls = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]  # Django 5.2's signature (newer stubs)
        objs = []
        for row in rows:
            obj = model_cls.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr_name, col_pos in self.annotation_col_map.items():
                setattr(obj, attr_name, row[col_pos])
            objs.append(obj)
        if self.prefetch and objs:
            prefetch_related_objects(objs, *self.prefetch)
        return objs


def _sentinels(args: dict[str, Any]) -> tuple[dict[str, Any], dict[Any, _Ref]]:
    counter = itertools.count(1)
    values: dict[str, Any] = {}
    where: dict[Any, _Ref] = {}

    def one(value: Any, name: str, index: int | None) -> Any:
        n = next(counter)
        if isinstance(value, bool):
            raise TypeError("no sentinel for a boolean argument")
        if isinstance(value, int):
            sentinel: Any = _SENTINEL_INT_BASE - n
        elif isinstance(value, str):
            sentinel = f"\x01sqlcache-{n}\x01"
        elif isinstance(value, datetime):
            sentinel = _SENTINEL_TIME_BASE + timedelta(microseconds=n)
        else:
            raise TypeError(f"no sentinel for {type(value).__name__}")
        where[sentinel] = _Ref(name, index)
        return sentinel

    for name, value in args.items():
        if isinstance(value, (list, tuple)):
            values[name] = [one(v, name, i) for i, v in enumerate(value)]
        else:
            values[name] = one(value, name, None)
    return values, where


def _compile(build: Callable[..., QuerySet], args: dict[str, Any], *, instances: bool = False) -> _Compiled | None:
    try:
        sentinel_args, where = _sentinels(args)
    except TypeError:
        return None
    qs = build(**sentinel_args)
    query = qs.query
    if query.extra_select or qs._known_related_objects:  # type: ignore[attr-defined]  # QuerySet internals
        return None
    values = bool(query.selected or query.values_select)
    if values == instances or (values and qs._prefetch_related_lookups):  # type: ignore[attr-defined]
        return None  # rows(): a plain .values() queryset; objects(): a queryset of model instances
    compiler = query.get_compiler(qs.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    if not sql:
        return None
    found: list[Any] = []
    for param in params:
        ref = where.get(param) if isinstance(param, (int, str, datetime)) and not isinstance(param, bool) else None
        found.append(param if ref is None else ref)
    if {id(r) for r in found if isinstance(r, _Ref)} != {id(r) for r in where.values()}:
        return None  # an argument transformed or dropped on its way into the SQL: not cached
    fields = [s[0] for s in compiler.select[0:compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return None
    converters = [(pos, convs, expression) for pos, (convs, expression) in compiler.get_converters(fields).items()]
    names = list(query.selected) if query.selected else [*query.values_select, *query.annotation_select]
    made = _Instances(compiler.klass_info, compiler.select, compiler.annotation_col_map,
                      tuple(qs._prefetch_related_lookups)) if instances else None  # type: ignore[attr-defined]
    return _Compiled(qs.model, compiler.connection.vendor, sql, found, names, converters, made)


def _shape(key: Hashable, args: dict[str, Any]) -> Hashable:
    return (key, tuple((name, len(v) if isinstance(v, (list, tuple)) else None) for name, v in args.items()))


def _compiled(key: Hashable, build: Callable[..., QuerySet], args: dict[str, Any], instances: bool
              ) -> _Compiled | None:
    shape = (_shape(key, args), instances)
    try:
        return _cache[shape]
    except KeyError:
        compiled = _compile(build, args, instances=instances)
        with _lock:
            if len(_cache) >= _MAX_SHAPES:
                _cache.clear()
            _cache[shape] = compiled
        return compiled


def rows(key: Hashable, build: Callable[..., QuerySet], **args: Any) -> list[dict[str, Any]]:
    """The rows of `build(**args)` (a `.values()` queryset), as `list(build(**args))` would give them.

    Arguments: ints, strings, aware datetimes, or lists of them (each element one parameter, e.g. an
    `__in`); anything else that shapes the query belongs in `key`.
    """
    compiled = _compiled(key, build, args, instances=False)
    out = compiled.run(args) if compiled is not None else None
    return list(build(**args)) if out is None else out


def objects(key: Hashable, build: Callable[..., QuerySet], **args: Any) -> list[Any]:
    """The model instances of `build(**args)` as `list(build(**args))` would give them: select_related and
    annotations filled, prefetch_related lookups run (by the ORM, as the queryset would)."""
    compiled = _compiled(key, build, args, instances=True)
    fetched = compiled.fetch(args) if compiled is not None else None
    if compiled is None or compiled.instances is None or fetched is None:
        return list(build(**args))
    return compiled.instances.build(*fetched)


def clear() -> None:
    """Forget every compiled shape (tests that change the schema or the database settings)."""
    with _lock:
        _cache.clear()


def cached_shapes() -> Sequence[Hashable]:
    return list(_cache)
