"""The case-owned tables: each carries `shop_id`, its case's shop (docs/scale.md, sharding plan). A new model with
a foreign key to the case must inherit `cases.models.CaseOwned` and be listed here (tests/cases/test_shop_ids.py
fails otherwise)."""

CASE_OWNED_TABLES = {
    "cases_caseevent",
    "cases_deadline",
    "cases_refund",
    "cases_refundpayout",
    "cases_platformadvance",
    "cases_caseevidence",
    "cases_casemessage",
    "cases_notification",
    "pickups_pickup",
    "pickups_pickupevent",
    "quality_caserating",  # its own `shop` column since it was made (cases.quality)
    # their own `shop` column since they were made, set from the case by their writers (docs/visits.md,
    # docs/shop-notices.md, docs/interception.md)
    "cases_shopnotice",
    "pickups_repairvisit",
    "pickups_interceptionrequest",
}


def case_owned_models() -> list:  # type: ignore[type-arg]
    """Every concrete model with a foreign key (or one-to-one) to the case, or inheriting CaseOwned."""
    from django.apps import apps

    from cases.models import AfterSalesCase, CaseOwned

    found = []
    for model in apps.get_models():
        if model._meta.proxy or model is AfterSalesCase:
            continue
        to_case = any(getattr(f, "related_model", None) is AfterSalesCase and f.concrete and not f.many_to_many
                      for f in model._meta.get_fields())
        if to_case or issubclass(model, CaseOwned):
            found.append(model)
    return found


def shop_id_mismatches() -> list[str]:
    """Rows of case-owned tables whose shop_id is not their case's shop (one query per table)."""
    from django.db import connection

    problems = []
    for model in case_owned_models():
        path = getattr(model, "SHOP_FROM", "case")
        table = model._meta.db_table
        if path == "case":
            join = f"JOIN cases_aftersalescase c ON c.id = t.{model._meta.get_field('case').column}"
        else:
            parent = model._meta.get_field(path)
            join = (f"JOIN {parent.related_model._meta.db_table} p ON p.id = t.{parent.column} "
                    "JOIN cases_aftersalescase c ON c.id = p.case_id")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT t.id, t.shop_id, c.shop_id FROM {table} t {join} "
                           "WHERE t.shop_id IS NULL OR t.shop_id <> c.shop_id")
            problems += [f"{table} #{row[0]}: shop {row[1]}, its case's {row[2]}" for row in cursor.fetchall()]
    return problems
