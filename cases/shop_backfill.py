"""Backfill of `shop_id` on the case-owned tables (docs/scale.md): in batches of ids, each its own short
transaction, so a migration over millions of rows never holds one long lock or one huge transaction.

A row takes its case's shop (directly by `case_id`, or through the refund or pickup that names the case).
The append-only event tables refuse UPDATE by trigger (cases 0003, pickups 0004): on PostgreSQL the trigger is
disabled inside each batch's own transaction only (ALTER TABLE is transactional there, so no other session ever
sees it off; the batch holds the table's lock for its few milliseconds).
"""

from __future__ import annotations

from django.db import transaction

BATCH = 5000
CASES = "cases_aftersalescase"


def shop_ids_backfill(schema_editor, table: str, *, via: tuple[str, str] | None = None,
                      trigger: str = "", batch: int = BATCH) -> int:
    """Fill `table.shop_id` where it is NULL from the owning case; `via` = (parent table, this table's column
    naming the parent) for rows that name a refund or a pickup instead of the case. Answers rows written."""
    conn = schema_editor.connection
    qn = conn.ops.quote_name
    if via is None:
        source = f"(SELECT c.shop_id FROM {qn(CASES)} c WHERE c.id = {qn(table)}.case_id)"
    else:
        parent, column = via
        source = (f"(SELECT c.shop_id FROM {qn(parent)} p JOIN {qn(CASES)} c ON c.id = p.case_id "
                  f"WHERE p.id = {qn(table)}.{qn(column)})")
    postgres = conn.vendor == "postgresql"
    written = 0
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {qn(table)} WHERE shop_id IS NULL")
        low, high = cursor.fetchone()
    if low is None:
        return 0
    start = low - 1
    while start < high:
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            if postgres and trigger:
                cursor.execute(f"ALTER TABLE {qn(table)} DISABLE TRIGGER {qn(trigger)}")
            cursor.execute(f"UPDATE {qn(table)} SET shop_id = {source} "
                           f"WHERE id > %s AND id <= %s AND shop_id IS NULL", [start, start + batch])
            written += max(cursor.rowcount, 0)
            if postgres and trigger:
                cursor.execute(f"ALTER TABLE {qn(table)} ENABLE TRIGGER {qn(trigger)}")
        start += batch
    return written
