"""Run mutmut on one model family at a time, with a time budget, and print its mutation score.

Usage (see ``make mutation``)::

    python scripts/mutation.py rfm                 # the whole family src/crm_models/rfm/
    python scripts/mutation.py uplift/metrics      # one module: src/crm_models/uplift/metrics.py
    python scripts/mutation.py churn --budget 1200 --tests tests/test_boundaries.py

mutmut reads its settings from ``pyproject.toml`` in the working directory and mutates every file it is told
to, so each run gets a scratch folder ``.mutation/<family>/`` (git-ignored by its own ``.gitignore``) holding a
copy of ``src/``, the family's tests, a generated ``pyproject.toml`` (``[tool.mutmut]`` restricted to the
family) and a link to ``../shared`` so that real-data tests run instead of skipping. Not in CI: it is slow.

Score = (killed + timeout) / (mutants that were tested); ``no tests`` counts as survived (no test covers the
function). Mutants not reached within ``--budget`` seconds are reported as ``not checked``.

``--sample N`` tests a seeded simple random sample of N of the family's mutants instead of all of them (random
mutant sampling, Wong & Mathur 1995; a simple random sample estimates the family's score without bias); the score
is then an estimate, printed with its 95 % Wilson interval, and the sample is written to ``sample.txt`` so that a later
``--only`` run can test the same mutants again.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# tests that exercise each family beyond tests/test_<family>*.py
EXTRA_TESTS: dict[str, list[str]] = {
    "rfm": ["tests/test_boundaries.py"],
    "churn": ["tests/test_boundaries.py", "tests/test_training_hygiene.py"],
    "uplift": ["tests/test_unbalanced_arms.py", "tests/test_training_hygiene.py"],
    "ab": ["tests/test_unbalanced_arms.py"],
    "attribution": ["tests/test_boundaries.py"],
    "reporting": ["tests/test_privacy_pseudonymize.py", "tests/test_safe_by_default.py"],
    # the summary checks (`clv/checks`) are tested through the workbench package; thresholds and liability use clv
    "clv": ["tests/test_default_thresholds.py", "tests/test_workbench_package.py", "tests/test_loyalty_liability.py"],
    "lifecycle": ["tests/test_ab_repurchase.py", "tests/test_ab_repurchase_values.py", "tests/test_customers_enrich.py"],
    "loyalty": ["tests/test_lifecycle_loyalty_report.py", "tests/test_customers_enrich.py"],
}

# tests that check the import structure with a tool run from the project root (no `.importlinter` in the scratch
# folder: given with --tests they stop mutmut's stats run); mutmut never mutates imports, so they cannot kill a mutant
NOT_FOR_MUTATION = {"tests/test_reporting_layers.py", "tests/test_architecture.py"}

# project folders some tests read (the demo suite, its notebooks), copied next to the mutated source
PROJECT_FOLDERS = ["experiments", "notebooks"]


# `scope="module"` (or class/package/session) inside a `@pytest.fixture(...)` decorator
_WIDE_SCOPE = re.compile(r"""(@pytest\.fixture\([^)]*?)\bscope\s*=\s*["'](?:module|class|package|session)["']\s*,?\s*""")


def function_scoped(test_source: str) -> str:
    """``test_source`` with every module/class/package/session-scoped fixture made function-scoped.

    mutmut 3 links a test to the functions it calls while it runs, and a wider-scoped fixture is built only during
    the first test that uses it: the other tests that read the fixture's result are never run against the mutants
    of the functions the fixture calls, so their kills are missed (the score is a lower bound). Rebuilding the
    fixture for every test links every test to what it reads, at the cost of slower runs.
    """
    return _WIDE_SCOPE.sub(r"\1", test_source)


def family_tests(family: str) -> list[str]:
    """The test files that belong to ``family`` (``rfm`` or ``uplift/metrics``): the family's own files plus
    the cross-family files in :data:`EXTRA_TESTS`. Notebook tests are left out (they run in a subprocess,
    which would import the unmutated package)."""
    top = family.split("/")[0]
    files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob(f"test_{top}*.py"))
    files += [f for f in EXTRA_TESTS.get(top, []) if (ROOT / f).exists()]
    return [f for f in dict.fromkeys(files) if "notebook" not in f and f not in NOT_FOR_MUTATION]


def target_glob(family: str) -> str:
    path = ROOT / "src" / "crm_models" / family
    if path.is_dir():
        return f"src/crm_models/{family}/*"
    if path.with_suffix(".py").is_file():
        return f"src/crm_models/{family}.py"
    raise SystemExit(f"unknown family {family!r}: neither src/crm_models/{family}/ nor {family}.py exists")


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(family: str, tests: list[str], fresh: bool, suffix: str = "", rescope_fixtures: bool = False) -> Path:
    work = ROOT / ".mutation" / (family.replace("/", ".") + suffix)
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    (ROOT / ".mutation" / ".gitignore").write_text("*\n")
    shutil.copytree(ROOT / "src", work / "src", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (work / "tests").mkdir(exist_ok=True)
    helpers = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("*.py")
                     if not p.name.startswith("test_") and p.name != "conftest.py")  # modules tests import
    for f in ["tests/conftest.py", *helpers, *tests]:
        shutil.copy2(ROOT / f, work / f)
        if rescope_fixtures and f != "tests/conftest.py":  # conftest's session fixtures set up, they test nothing
            (work / f).write_text(function_scoped((ROOT / f).read_text()))
    if (ROOT / "tests" / "fixtures").is_dir():
        shutil.copytree(ROOT / "tests" / "fixtures", work / "tests" / "fixtures", dirs_exist_ok=True)
    for folder in PROJECT_FOLDERS:  # tests that load the project's suites and notebooks (reporting)
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, work / folder, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.db", "artifacts", ".ipynb_checkpoints"))
    # conftest finds the real data at <project>/../shared/data; inside mutants/ the project is work/mutants
    shared = ROOT.parent / "shared"
    if shared.is_dir() and not (work / "shared").exists():
        (work / "shared").symlink_to(shared)
    (work / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        f"only_mutate = {toml_list([target_glob(family)])}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        f"also_copy = {toml_list(PROJECT_FOLDERS)}\n"
        'pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-m", "not notebook", "-q"]\n'
        "use_git_change_detection = false\n"
        "\n[tool.pytest.ini_options]\n"
        "markers = [\"notebook: notebook test\", \"realdata: reads ../shared/data\"]\n"
    )
    return work


def score(work: Path, python: str) -> dict[str, int | float]:
    subprocess.run([python, "-m", "mutmut", "export-cicd-stats"], cwd=work, check=False,
                   stdout=subprocess.DEVNULL)
    path = work / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(path.read_text()) if path.exists() else {}
    tested = sum(int(stats.get(k, 0)) for k in ("killed", "survived", "timeout", "no_tests", "suspicious"))
    caught = int(stats.get("killed", 0)) + int(stats.get("timeout", 0))
    done = tested + sum(int(stats.get(k, 0)) for k in ("skipped", "segfault", "check_was_interrupted_by_user"))
    stats["not_checked"] = int(stats.get("total", 0)) - done
    stats["score_percent"] = round(100.0 * caught / tested, 1) if tested else float("nan")
    return stats


GENERATE_MUTANTS = """
import os
from mutmut.__main__ import (copy_also_copy_files, copy_src_dir, create_mutants, set_mutant_under_test,
                             setup_source_paths)
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir()
copy_also_copy_files()
setup_source_paths()
create_mutants(1)
"""


def all_mutant_names(work: Path, python: str) -> list[str]:
    """Generate the mutants of ``work`` (without testing them) and return their names, sorted."""
    subprocess.run([python, "-c", GENERATE_MUTANTS], cwd=work, check=True, stdout=subprocess.DEVNULL)
    names: list[str] = []
    for meta in (work / "mutants").rglob("*.meta"):
        names += json.loads(meta.read_text()).get("exit_code_by_key", {})
    return sorted(names)


def draw_sample(names: list[str], size: int, seed: int) -> list[str]:
    """A simple random sample of ``size`` names (all of them when there are fewer), the same for the same seed."""
    if size >= len(names):
        return list(names)
    return sorted(random.Random(seed).sample(sorted(names), size))


def wilson_interval(caught: int, tested: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion (Wilson 1927), in percent."""
    if tested == 0:
        return (float("nan"), float("nan"))
    p = caught / tested
    centre = (p + z * z / (2 * tested)) / (1 + z * z / tested)
    half = z * math.sqrt(p * (1 - p) / tested + z * z / (4 * tested * tested)) / (1 + z * z / tested)
    return (round(100 * (centre - half), 1), round(100 * (centre + half), 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", help="rfm, churn, uplift/metrics, ... (a folder or module under crm_models)")
    parser.add_argument("--budget", type=float, default=900.0, help="seconds for the mutant runs (default 900)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel mutant workers (default 1: shared CPU)")
    parser.add_argument("--tests", nargs="*", default=None, help="test files (default: the family's)")
    parser.add_argument("--keep", action="store_true", help="reuse earlier results in .mutation/<family>")
    parser.add_argument("--only", default=None,
                        help="a file of mutant names (e.g. the survivors.txt of an earlier run): run just these, in "
                             ".mutation/<family>.only/, to see which of them the current tests kill")
    parser.add_argument("--sample", type=int, default=None,
                        help="test a seeded random sample of this many mutants (in .mutation/<family>.sample/)")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument("--rescope-fixtures", action="store_true",
                        help="make module/session fixtures function-scoped in the scratch copies of the tests, so "
                             "that every test that reads a fixture is run against the mutants it can kill (slower)")
    args = parser.parse_args(argv)
    if args.sample is not None and args.only:
        parser.error("--sample and --only exclude each other (an --only run of sample.txt re-tests a sample)")
    if args.sample is not None and args.sample < 1:
        parser.error("--sample needs a positive number of mutants")

    tests = args.tests if args.tests else family_tests(args.family)
    left_out = [f for f in tests if f in NOT_FOR_MUTATION]
    if left_out:
        print(f"left out (they run a tool from the project root and cannot kill a mutant): {' '.join(left_out)}")
        tests = [f for f in tests if f not in NOT_FOR_MUTATION]
    only: list[str] = []
    if args.only:
        for line in Path(args.only).read_text().splitlines():
            name, _, status = line.strip().partition(":")
            if name and status.strip() in ("survived", "no tests", ""):
                only.append(name)
    suffix = ".only" if args.only else ".sample" if args.sample is not None else ""
    work = prepare(args.family, tests, fresh=not args.keep, suffix=suffix, rescope_fixtures=args.rescope_fixtures)
    python = sys.executable
    if args.sample is not None:
        names = all_mutant_names(work, python)
        only = draw_sample(names, args.sample, args.seed)
        (work / "sample.txt").write_text("".join(f"{n}\n" for n in only))
        print(f"sample of {len(only)} of {len(names)} mutants (seed {args.seed}), listed in {work / 'sample.txt'}")
    print(f"mutating {target_glob(args.family)} against {len(tests)} test file(s): {' '.join(tests)}")
    env = dict(os.environ, PYTHONHASHSEED="0")
    try:
        subprocess.run([python, "-m", "mutmut", "run", "--max-children", str(args.jobs), *only], cwd=work,
                       env=env, timeout=args.budget, check=False)
    except subprocess.TimeoutExpired:
        print(f"\nbudget of {args.budget:g} s used up; the mutants not reached are 'not checked'")
    stats = score(work, python)
    if args.sample is not None:
        caught = int(stats.get("killed", 0)) + int(stats.get("timeout", 0))
        tested = caught + sum(int(stats.get(k, 0)) for k in ("survived", "no_tests", "suspicious"))
        stats["sampled"] = len(only)
        stats["score_95_interval"] = wilson_interval(caught, tested)
    print(json.dumps(stats, indent=2))
    survivors = subprocess.run([python, "-m", "mutmut", "results"], cwd=work, capture_output=True, text=True,
                               check=False)
    (work / "survivors.txt").write_text(survivors.stdout)
    print(f"survivors listed in {work / 'survivors.txt'}; show one with: "
          f"cd {work} && {python} -m mutmut show <name>")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
