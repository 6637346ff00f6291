"""The ``crm`` command: run notebook suites, build the demo, rebuild the landing page.

Usage::

    crm run SUITE.yaml [--as-of 2024-06-30] [--keep 20] [--wait SECONDS | --no-wait] [--set name=value ...]
    crm demo [--seed 42] [--n-customers 5000] [--data-only]
    crm report-index [--reports-dir reports]
    crm pseudonym-key                 # create the per-installation pseudonymization key (once)

Exit codes (stable; for cron, systemd and CI):

    0  success: every notebook ran and its report is published
    1  a notebook failed: its report shows the error; the other notebooks still ran
       (also: an unexpected internal error, e.g. the MLflow store is unreachable)
    2  bad configuration: suite file, parameter, --as-of date or kernel is invalid; nothing ran
    3  bad data: the input data broke the data contract or a data file is missing
    4  busy: another run holds the lock on the reports folder (refused, or waited longer than --wait)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_HELP = """exit codes:
  0  success: every notebook ran and its report is published
  1  a notebook failed: its report shows the error; the other notebooks still ran
     (also an unexpected internal error, e.g. the MLflow store is unreachable)
  2  bad configuration: suite file, parameter, --as-of date or kernel is invalid; nothing ran
  3  bad data: the input data broke the data contract or a data file is missing
  4  busy: another run holds the lock on the reports folder (refused, or waited longer than --wait)
"""

DEFAULT_WAIT_SECONDS = 7200.0

__all__ = ["main"]


def _parse_set(items: Sequence[str] | None) -> dict[str, Any]:
    import yaml

    from crm_models.exceptions import ConfigurationError

    out: dict[str, Any] = {}
    for item in items or ():
        name, sep, raw = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigurationError(f"--set expects name=value with a Python name, got {item!r}")
        try:
            out[name.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[name.strip()] = raw
    return out


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="DATE", help="back-date the run: passed to each notebook (YYYY-MM-DD)")
    parser.add_argument("--reports-dir", metavar="DIR", help="where reports go (default: <project>/reports)")
    parser.add_argument("--keep", type=int, metavar="N", help="run folders to keep (default: the suite's retention)")
    wait = parser.add_mutually_exclusive_group()
    wait.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"if another run is writing the reports, wait this long for it (default {DEFAULT_WAIT_SECONDS:g})",
    )
    wait.add_argument("--no-wait", action="store_true", help="refuse at once (exit 4) if another run is writing")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks of the suite")
    parser.add_argument("--kernel", help="Jupyter kernel (default: crm-models when installed, else python3)")
    parser.add_argument(
        "--set", dest="overrides", action="append", metavar="NAME=VALUE", help="override a notebook parameter"
    )
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///<project>/experiments/mlflow.db)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. under cron)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="crm_models workbench: run parameterized notebooks, track them in MLflow, publish HTML reports.",
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    run = commands.add_parser(
        "run", help="run a suite of notebooks (experiments/*.yaml)", epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("suite", help="suite file, e.g. experiments/demo.yaml")
    _add_run_options(run)

    demo = commands.add_parser(
        "demo", help="generate the demo data (data/demo/*.parquet) and run experiments/demo.yaml", epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--seed", type=int, default=42, help="seed of the synthetic brand (default 42)")
    demo.add_argument("--n-customers", type=int, default=5000, help="customers in the demo brand (default 5000)")
    demo.add_argument("--data-only", action="store_true", help="only write data/demo/, do not run the suite")
    demo.add_argument("--suite", default=None, help="suite to run after the data (default experiments/demo.yaml)")
    _add_run_options(demo)

    index = commands.add_parser("report-index", help="rebuild reports/index.html from the published runs")
    index.add_argument("--reports-dir", metavar="DIR", help="reports folder (default: <project>/reports)")
    index.add_argument("--tracking-uri", help="MLflow tracking URI for the comparison with earlier runs")
    commands.add_parser(
        "pseudonym-key",
        help="create the pseudonymization key if missing (mode 0600; $CRM_PSEUDONYM_KEY_FILE or "
        "$XDG_CONFIG_HOME/crm_models/pseudonym.key) and print where it is",
    )
    return parser


def _pseudonym_key() -> int:
    from crm_models.reporting.privacy import key_file_path, resolve_salt

    path = key_file_path()
    existed = path.is_file()
    resolve_salt(create=True)
    print(f"crm: pseudonymization key {'already present' if existed else 'created'} at {path} (keep it secret; "
          "back it up: tokens in earlier reports are only comparable with the same key)")
    return 0


def _root() -> Path:
    from crm_models.tracking.mlflow_helpers import find_project_root

    return find_project_root()


def _run(args: argparse.Namespace, suite_path: str | Path, lock: Any = None) -> int:
    from crm_models.reporting.runner import EXIT_CODES, run_suite

    result = run_suite(
        suite_path,
        as_of=args.as_of,
        reports_dir=args.reports_dir,
        tracking_uri=args.tracking_uri,
        kernel=args.kernel,
        keep=args.keep,
        wait=0 if args.no_wait else args.wait,
        only=args.only,
        parameters=_parse_set(args.overrides),
        progress=not args.no_progress,
        lock=lock,
    )
    ok = sum(1 for nb in result.notebooks if nb.ok)
    print(
        f"crm: {ok} of {len(result.notebooks)} notebooks ran in {result.duration_seconds:.0f} s; "
        f"reports in {result.run_dir}; landing page {result.reports_dir / 'index.html'}"
    )
    if result.exit_code:
        print(f"crm: exit {result.exit_code}: {EXIT_CODES[result.exit_code]}", file=sys.stderr)
    return result.exit_code


def _demo(args: argparse.Namespace) -> int:
    """Take the run lock first, then swap in new demo data (staging folder + rename), then run the suite
    under the same lock: a second ``crm demo`` can never replace the data under a running suite."""
    import time

    from crm_models.datasets import make_demo
    from crm_models.reporting.lock import RunLock
    from crm_models.reporting.privacy import resolve_salt

    root = _root()
    target = root / "data" / "demo"
    reports = Path(args.reports_dir).resolve() if args.reports_dir else root / "reports"
    resolve_salt(create=True)  # the demo is a first use: create the pseudonymization key if there is none
    with RunLock(reports, wait=0 if args.no_wait else args.wait, label="demo") as lock:
        started = time.monotonic()
        data = make_demo(seed=args.seed, n_customers=args.n_customers)
        paths = data.publish(target)
        print(
            f"crm: demo data (seed {args.seed}, {args.n_customers} customers) written to {target} "
            f"in {time.monotonic() - started:.1f} s: {', '.join(sorted(p.name for p in paths.values()))}"
        )
        if args.data_only:
            return 0
        return _run(args, args.suite or root / "experiments" / "demo.yaml", lock=lock)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crm`` command; returns the exit code (see the module docstring)."""
    from crm_models.exceptions import ConfigurationError, DataContractError
    from crm_models.reporting.lock import LockBusyError
    from crm_models.reporting.runner import EXIT_BAD_CONFIG, EXIT_BAD_DATA, EXIT_LOCKED, EXIT_NOTEBOOK_FAILED

    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, args.suite)
        if args.command == "demo":
            return _demo(args)
        if args.command == "pseudonym-key":
            return _pseudonym_key()
        if args.command == "report-index":
            from crm_models.reporting.index import write_index

            folder = Path(args.reports_dir) if args.reports_dir else _root() / "reports"
            path = write_index(folder, tracking_uri=args.tracking_uri)
            print(f"crm: wrote {path}")
            return 0
    except ConfigurationError as exc:
        print(f"crm: configuration error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except DataContractError as exc:
        print(f"crm: bad data: {exc}", file=sys.stderr)
        return EXIT_BAD_DATA
    except LockBusyError as exc:
        print(f"crm: busy: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ValueError as exc:  # e.g. make_demo(n_customers=3)
        print(f"crm: configuration error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except Exception:  # noqa: BLE001 - e.g. the MLflow store is unreachable: say so, exit like a failure
        import traceback

        traceback.print_exc()
        print("crm: internal error (see the traceback above); no new reports were published", file=sys.stderr)
        return EXIT_NOTEBOOK_FAILED
    return EXIT_BAD_CONFIG  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
