"""Apply a release of the division list to the Region table (`manage.py sync_regions`).

What a release decides: which codes exist, their names and parents, which are retired and their successors.
What it never touches: `covered` and `remote` of an existing region (platform data). Nothing is deleted: a
code an order carries keeps resolving after its division is abolished.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from ..models import ReferenceRelease, Region
from .divisions import NOT_COVERED_PROVINCE_PREFIXES, REMOTE_PROVINCE_PREFIXES, Release


@dataclass
class RegionPlan:
    """What a sync would change, code by code (each list holds (code, text) pairs for the report)."""

    added: list[tuple[str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    retired: list[tuple[str, str]] = field(default_factory=list)
    restored: list[tuple[str, str]] = field(default_factory=list)
    successors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.added, self.renamed, self.moved, self.retired, self.restored, self.successors))

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name))
                for name in ("added", "renamed", "moved", "retired", "restored", "successors")}


def _level(code: str) -> int:
    if code.endswith("0000"):
        return Region.Level.PROVINCE
    return Region.Level.CITY if code.endswith("00") else Region.Level.DISTRICT


def regions_sync(*, release: Release, dry_run: bool = False) -> RegionPlan:
    """Bring the Region table to `release`; with `dry_run`, only say what that would change."""
    with transaction.atomic():
        existing = {r.code: r for r in Region.objects.select_for_update()}
        plan = RegionPlan()
        # Every code the release knows: those in force, then those it has retired (kept for old orders).
        wanted: dict[str, tuple[str, str | None, bool]] = {
            c: (r.name, r.parent, True) for c, r in release.retired.items()}
        wanted.update({c: (d.name, d.parent, False) for c, d in release.divisions.items()})
        create: list[Region] = []
        update: dict[str, Region] = {}
        for code in sorted(wanted, key=lambda c: (_level(c), c)):
            name, parent, retired = wanted[code]
            if parent is not None and parent not in wanted and parent not in existing:
                parent = None
            region = existing.get(code)
            if region is None:
                region = Region(code=code, name=name, parent_id=parent, level=_level(code), retired=retired,
                                remote=code[:2] in REMOTE_PROVINCE_PREFIXES,
                                covered=code[:2] not in NOT_COVERED_PROVINCE_PREFIXES)
                create.append(region)
                plan.added.append((code, name + (" (已撤销)" if retired else "")))
                continue
            if region.name != name and not (retired and region.retired):
                # A retired row keeps the name it had last; an in-force one takes the published name.
                plan.renamed.append((code, f"{region.name} → {name}"))
                region.name = name
                update[code] = region
            if region.parent_id != parent and not retired:
                plan.moved.append((code, f"{region.parent_id} → {parent}"))
                region.parent_id = parent
                update[code] = region
            if retired and not region.retired:
                plan.retired.append((code, region.name))
                region.retired = True
                update[code] = region
            elif not retired and region.retired:
                plan.restored.append((code, region.name))
                region.retired, region.successor_id = False, None
                update[code] = region
        # Codes this installation has that the release does not know at all: retired, no successor known.
        for code, region in existing.items():
            if code not in wanted and not region.retired:
                plan.retired.append((code, region.name))
                region.retired = True
                update[code] = region
        for code, gone in release.retired.items():
            region = existing.get(code)
            current = region.successor_id if region is not None else None
            if gone.successor is not None and gone.successor != current:
                plan.successors.append((code, f"{gone.name} → {gone.successor}"))
                if region is not None:
                    region.successor_id = gone.successor
                    update[code] = region
        if dry_run or not plan.changed:
            transaction.set_rollback(True)
            return plan
        for level in (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.DISTRICT):
            Region.objects.bulk_create([r for r in create if r.level == level], batch_size=1000)
        Region.objects.bulk_update(list(update.values()), ["name", "parent", "level", "retired", "successor"],
                                   batch_size=1000)
        new_successors = {c: r.successor for c, r in release.retired.items()
                          if r.successor is not None and c not in existing}
        for code, successor in new_successors.items():
            Region.objects.filter(code=code).update(successor_id=successor)
        ReferenceRelease.objects.create(
            kind=ReferenceRelease.Kind.REGIONS, package=release.package, version=release.version,
            data_year=release.data_year, summary=plan.counts())
    return plan


def current_release() -> ReferenceRelease | None:
    return ReferenceRelease.objects.filter(kind=ReferenceRelease.Kind.REGIONS).order_by("-applied_at", "-pk").first()
