"""A pytest plugin (`-p table_plugin`, mutation/ on the path) that changes one row of the lifecycle table before
anything reads it: `TABLE_MUTANT="action:kind:value"` with kind drop_role, add_role, drop_source or add_source.
Used by mutation/table.py; loaded before pytest-django sets Django up, so every module that imports
`cases.lifecycle` (permissions, services, the pages) sees the changed row."""

from __future__ import annotations

import os
from dataclasses import replace
from types import MappingProxyType


def mutate(spec_line: str) -> None:
    from cases import lifecycle

    action, kind, value = spec_line.split(":")
    spec = lifecycle.ACTIONS[action]
    if kind == "drop_role":
        spec = replace(spec, roles=spec.roles - {value},
                       role_sources=MappingProxyType({r: s for r, s in spec.role_sources.items() if r != value}))
    elif kind == "add_role":
        spec = replace(spec, roles=spec.roles | {value})
    elif kind == "drop_source":
        spec = replace(spec, sources=spec.sources - {value},
                       role_sources=MappingProxyType({r: s - {value} for r, s in spec.role_sources.items()}))
    elif kind == "add_source":
        spec = replace(spec, sources=spec.sources | {value},
                       role_sources=MappingProxyType({r: s | {value} for r, s in spec.role_sources.items()}))
    else:
        raise ValueError(spec_line)
    actions = dict(lifecycle.ACTIONS)
    actions[action] = spec
    lifecycle.ACTIONS = MappingProxyType(actions)
    lifecycle.PERSON_ACTIONS = tuple(a for a in actions if actions[a].roles - {"system"})


if os.environ.get("TABLE_MUTANT"):
    mutate(os.environ["TABLE_MUTANT"])
