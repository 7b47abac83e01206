"""Mutation testing of the guards that protect money and authority, one module at a time (docs/mutation.md).

    python mutation/run.py [MODULE ...]      mutate and test (default: every module); resumable
    python mutation/run.py --report          the killed / survived / timeout table of what has run so far
    python mutation/run.py --survivors NAME  the surviving mutants of one module, as diffs
    python mutation/run.py --fresh NAME      forget one module's results and start it again

Each module runs in its own working directory, var/mutation/<module>/ (links to the repository and a
pyproject.toml with its [tool.mutmut] section), against its own fast tests on SQLite with eager Celery: no
PostgreSQL, Redis or worker processes. mutmut keeps every mutant's result under that directory's mutants/, so
an interrupted run picks up where it stopped. Runs under `nice -n 19` with one test process at a time (the
machine's cores are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "mutation"
BIN = Path(sys.executable).parent

# module name -> (the files mutated, the fast tests that guard them)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "lifecycle": (["cases/lifecycle.py", "cases/permissions.py"],
                  ["tests/cases/test_lifecycle_table.py", "tests/security/test_write_matrix.py",
                   "tests/cases/test_transitions.py", "tests/cases/test_permissions_units.py"]),
    "policy": (["cases/policy.py"],
               ["tests/cases/test_eligibility.py", "tests/cases/test_policy_details.py",
                "tests/trust/test_eligibility_and_clocks.py",
                "tests/cases/test_deadlines.py"]),
    "money": (["cases/services/money.py"],
              ["tests/trust/test_money.py", "tests/cases/test_payouts.py", "tests/appeals/test_money_matrix.py"]),
    "payments": (["cases/payments.py"], ["tests/cases/test_payouts.py"]),
    "refunds": (["cases/refunds.py"],
                ["tests/cases/test_payouts.py", "tests/trust/test_money.py", "tests/cases/test_transitions.py",
                 "tests/cases/test_deadlines.py", "tests/cases/test_refund_units.py"]),
    "sweep": (["cases/sweep.py"], ["tests/cases/test_deadlines.py", "tests/cases/test_sweep_paths.py",
                                  "tests/cases/test_lifecycle_table.py"]),
}
LINKED = ["cases", "portal", "pickups", "tests", "templates", "locale", "static", "manage.py"]


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(name: str) -> Path:
    paths, tests = MODULES[name]
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    for entry in LINKED:
        link = work / entry
        if not link.exists():
            link.symlink_to(ROOT / entry)
    project = (ROOT / "pyproject.toml").read_text()
    project = project[:project.index("[tool.mypy]")]  # the pytest settings, not the rest
    # the test database in a file, kept between the runs of the mutants (--reuse-db): each mutant's run would
    # otherwise migrate a fresh in-memory database before its tests
    (work / "mutation_settings.py").write_text(
        "from portal.settings.test import *  # noqa: F403\n"
        f"DATABASES['default']['TEST'] = {{'NAME': {str(work / 'test.sqlite3')!r}}}  # noqa: F405\n")
    (work / "pyproject.toml").write_text(project + f"""
[tool.mutmut]
source_paths = ["cases"]
only_mutate = {toml_list(paths)}
also_copy = {toml_list([e for e in LINKED if e != "cases"] + ["mutation_settings.py"])}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-W", "ignore", "--ds=mutation_settings", "--reuse-db"]
pytest_add_cli_args_test_selection = {toml_list(tests)}
use_git_change_detection = false
# a mutant's run sets up the test database again (migrations on SQLite) before its tests: the limit is CPU
# seconds, the tests' own time x 15 plus this constant, which must cover that setup
timeout_constant = 120.0
""")
    return work


def environment(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CI", "SOAK")}
    env.update(PORTAL_VAR_DIR=str(work / "var"), DJANGO_SETTINGS_MODULE="mutation_settings", CELERY_EAGER="1",
               PYTHONDONTWRITEBYTECODE="1")
    return env


def run(name: str, children: int = 1) -> int:
    work = prepare(name)
    cmd = ["nice", "-n", "19", str(BIN / "mutmut"), "run", "--max-children", str(children)]
    print(f"== {name}: {' '.join(MODULES[name][0])} against {' '.join(MODULES[name][1])}", flush=True)
    return subprocess.call(cmd, cwd=work, env=environment(work))


def results(name: str) -> dict[str, int | str]:
    """Counts from mutmut's own records (mutants/<file>.meta) of one module."""
    from mutmut.stats import status_by_exit_code  # mutmut's own reading of a mutant's exit code

    work = WORK / name
    counts = {"killed": 0, "survived": 0, "timeout": 0, "not run": 0, "other": 0}
    for path in MODULES[name][0]:
        meta = work / "mutants" / f"{path}.meta"
        if not meta.exists():
            counts["not run"] = -1
            continue
        data = json.loads(meta.read_text())
        for code in data.get("exit_code_by_key", {}).values():
            status = status_by_exit_code[code]
            if status == "not checked":
                counts["not run"] += 1
            elif status in ("killed", "caught by type check"):
                counts["killed"] += 1
            elif status in ("survived", "no tests"):  # a mutant no test runs survives
                counts["survived"] += 1
            elif status == "timeout":
                counts["timeout"] += 1
            else:
                counts["other"] += 1
    done = counts["killed"] + counts["survived"] + counts["timeout"] + counts["other"]
    counts["score"] = f"{100 * (counts['killed'] + counts['timeout']) / done:.0f} %" if done else "-"
    return counts


def report() -> None:
    print(f"{'module':<10} {'killed':>7} {'survived':>9} {'timeout':>8} {'other':>6} {'not run':>8} {'score':>7}")
    for name in MODULES:
        r = results(name)
        print(f"{name:<10} {r['killed']:>7} {r['survived']:>9} {r['timeout']:>8} {r['other']:>6} "
              f"{r['not run']:>8} {r['score']:>7}")


def survivors(name: str) -> int:
    work = WORK / name
    env = environment(work)
    out = subprocess.run([str(BIN / "mutmut"), "results"], cwd=work, env=env, capture_output=True, text=True)
    names = [line.split(":")[0].strip() for line in out.stdout.splitlines() if line.strip().endswith("survived")]
    for mutant in names:
        subprocess.call([str(BIN / "mutmut"), "show", mutant], cwd=work, env=env)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", choices=[*MODULES, []], default=[])
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--survivors", metavar="MODULE", choices=MODULES)
    parser.add_argument("--fresh", metavar="MODULE", choices=MODULES)
    parser.add_argument("--children", type=int, default=1, help="test processes at a time (default 1)")
    args = parser.parse_args()
    if args.report:
        report()
        return 0
    if args.survivors:
        return survivors(args.survivors)
    if args.fresh:
        shutil.rmtree(WORK / args.fresh, ignore_errors=True)
    status = 0
    for name in args.modules or list(MODULES):
        status = run(name, args.children) or status
    report()
    return status


if __name__ == "__main__":
    sys.exit(main())
