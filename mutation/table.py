"""Mutation testing of the lifecycle table's rows (cases/lifecycle.py ACTIONS), which mutmut does not mutate
(module-level data, built once at import). docs/mutation.md, "The table's rows".

    python mutation/table.py            run every mutant not yet run (resumable), then print the table
    python mutation/table.py --report   print what has run so far
    python mutation/table.py --list     list the mutants

For each action: drop each of its roles, add each role it lacks, drop each of its source states, add the
first two states it lacks (in the contract's order). Each mutant runs in its own pytest process
(mutation/table_plugin.py changes the row before anything reads the table) against the fast authority tests,
`tests/cases/test_table_contract.py` (the rows against the contract written from lifecycle.md) and
`tests/cases/test_lifecycle_table.py` (the rows against the model's transitions and the pages' answers), on
SQLite, `-x`: killed when a test fails. `--matrix` runs the survivors again against
`tests/security/test_write_matrix.py` (every write × every kind of user; minutes per mutant).
Results are kept in var/mutation/table/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "mutation" / "table"
# the fast authority tests first; the write matrix (minutes per run) only for what they leave alive (--matrix)
TESTS = ["tests/cases/test_table_contract.py", "tests/cases/test_lifecycle_table.py"]
MATRIX = ["tests/security/test_write_matrix.py"]
ROLES = ["consumer", "merchant", "staff", "system"]
ADDED_SOURCES = 2


def mutants() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from cases.choices import State
    from cases.lifecycle import ACTIONS

    names = []
    for action, spec in ACTIONS.items():
        names += [f"{action}:drop_role:{r}" for r in sorted(spec.roles)]
        names += [f"{action}:add_role:{r}" for r in ROLES if r not in spec.roles]
        names += [f"{action}:drop_source:{s}" for s in sorted(spec.sources)]
        names += [f"{action}:add_source:{s}" for s in [s for s in State.values if s not in spec.sources][:ADDED_SOURCES]]
    return names


def load() -> dict[str, dict]:
    path = WORK / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save(results: dict[str, dict]) -> None:
    (WORK / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True))


def environment() -> dict[str, str]:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "table_settings.py").write_text(
        "from portal.settings.test import *  # noqa: F403\n"
        f"DATABASES['default']['TEST'] = {{'NAME': {str(WORK / 'test.sqlite3')!r}}}  # noqa: F405\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CI", "SOAK")}
    env.update(PYTHONPATH=os.pathsep.join([str(WORK), str(ROOT / "mutation"), str(ROOT)]),
               DJANGO_SETTINGS_MODULE="table_settings", CELERY_EAGER="1", PORTAL_VAR_DIR=str(WORK / "var"),
               PYTHONDONTWRITEBYTECODE="1")
    return env


def pytest_cmd(tests: list[str] = TESTS) -> list[str]:
    return ["nice", "-n", "19", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p",
            "table_plugin", "-W", "ignore", "--ds=table_settings", "--reuse-db", *tests]


def matrix() -> int:
    """The survivors of the fast tests against the write matrix."""
    env = environment()
    results = load()
    for name, result in sorted(results.items()):
        if result.get("status") != "survived" or result.get("matrix"):
            continue
        proc = subprocess.run(pytest_cmd(MATRIX), cwd=ROOT, env={**env, "TABLE_MUTANT": name}, capture_output=True,
                              text=True, timeout=3600)
        failed = [line.split(" ", 1)[1].split(" - ")[0] for line in proc.stdout.splitlines()
                  if line.startswith("FAILED ")]
        result.update(matrix=True, status="killed" if proc.returncode == 1 else "survived", by=failed[:1])
        save(results)
        print(f"{name:<50} {result['status']:<9} {' '.join(failed[:1])}", flush=True)
    return 0


def run() -> int:
    env = environment()
    results = load()
    if "clean" not in results:  # the tests must pass on the real table first
        code = subprocess.call(pytest_cmd(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        if code != 0:
            print("the authority tests fail on the unchanged table: fix that first")
            return 1
        results["clean"] = {"status": "passed"}
        save(results)
    for name in mutants():
        if name in results:
            continue
        start = time.monotonic()
        proc = subprocess.run(pytest_cmd(), cwd=ROOT, env={**env, "TABLE_MUTANT": name}, capture_output=True,
                              text=True, timeout=1800)
        failed = [line.split(" ", 1)[1].split(" - ")[0] for line in proc.stdout.splitlines()
                  if line.startswith("FAILED ") or line.startswith("ERROR ")]
        status = "survived" if proc.returncode == 0 else "killed" if proc.returncode == 1 else f"error {proc.returncode}"
        results[name] = {"status": status, "by": failed[:1], "seconds": round(time.monotonic() - start, 1)}
        save(results)
        print(f"{name:<50} {status:<9} {' '.join(failed[:1])}", flush=True)
    return 0


def report() -> None:
    results = load()
    names = mutants()
    counts = {"killed": 0, "survived": 0, "error": 0, "not run": 0}
    for name in names:
        status = results.get(name, {}).get("status", "not run")
        counts["error" if status.startswith("error") else status] += 1
    done = counts["killed"] + counts["survived"]
    print(f"table mutants: {len(names)}; killed {counts['killed']}, survived {counts['survived']}, "
          f"errors {counts['error']}, not run {counts['not run']}"
          + (f"; {100 * counts['killed'] / done:.0f} % killed" if done else ""))
    for name in names:
        if results.get(name, {}).get("status") == "survived":
            print("  survived:", name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--matrix", action="store_true", help="run the survivors against the write matrix")
    args = parser.parse_args()
    if args.list:
        print("\n".join(mutants()))
        return 0
    if args.report:
        report()
        return 0
    status = matrix() if args.matrix else run()
    report()
    return status


if __name__ == "__main__":
    sys.exit(main())
