"""``ipm faults``: run the fault scenarios against the four services and print the verdicts.

Each scenario pass prints one line: its name, the faults injected and the reconciler's verdict.
The last line is ``faults: N injected, L lost, D duplicated, A duplicate alerts, U unpublished``,
with the counts of the final reconciliation of the whole run. The exit status is 0 only when
nothing was lost, duplicated or left unpublished, no alert was raised twice, every scenario
passed and the reconciler reported the deliberately undelivered posting of the negative control.
"""

import argparse
import asyncio
import logging
import os
from pathlib import Path

from ipm_cli.faults.postgres import available as postgres_available
from ipm_cli.faults.scenarios import SCENARIOS
from ipm_cli.faults.suite import Outcome, Suite, Totals

logger = logging.getLogger(__name__)

FULL_PASSES = 3

# Scenarios of the embedded default mode, run on a second system on SQLite after the PostgreSQL one.
EMBEDDED_ONLY = ("sqlite-full",)


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("faults", help="inject faults into a running system and reconcile every posting")
    parser.add_argument("--quick", action="store_true", help="one pass of each scenario instead of three")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="run only this scenario (repeatable; default: all)")
    parser.add_argument("--data-dir", type=Path, help="folder with philadelphia/ (default: $IPM_DATA_DIR or "
                                                      "examples/data)")
    parser.add_argument("--keep", action="store_true", help="keep the run folder with logs and the sent log")
    parser.add_argument("--sqlite", action="store_true", help="run the services on SQLite instead of a "
                                                              "throwaway PostgreSQL cluster")


def run(arguments: argparse.Namespace) -> int:
    data_dir = arguments.data_dir or Path(os.environ.get("IPM_DATA_DIR", "examples/data"))
    if not (data_dir / "philadelphia" / "city-collections.csv").exists():
        print(f"ipm faults: data not found in {data_dir}; set IPM_DATA_DIR to the examples/data folder")
        return 2
    names = arguments.scenario or list(SCENARIOS)
    passes = 1 if arguments.quick else FULL_PASSES
    totals = asyncio.run(_run_all(data_dir, names, passes, quick=arguments.quick, keep=arguments.keep,
                                  use_postgres=not arguments.sqlite))
    if "commit-publish-crash" not in names:
        print("faults: the negative control runs in commit-publish-crash, which was not selected")
    print(totals.line(), flush=True)
    return 0 if totals.clean else 1


async def _run_all(data_dir: Path, names: list[str], passes: int, *, quick: bool, keep: bool,
                   use_postgres: bool) -> Totals:
    """Run the scenarios on PostgreSQL, then those that need the embedded SQLite mode on a second system."""
    totals = Totals()
    embedded = [name for name in names if name in EMBEDDED_ONLY] if use_postgres and postgres_available() else []
    others = [name for name in names if name not in embedded]
    if others:
        await _run(data_dir, others, passes, quick=quick, keep=keep, use_postgres=use_postgres, totals=totals)
    if embedded:
        await _run(data_dir, embedded, passes, quick=quick, keep=keep, use_postgres=False, totals=totals)
    return totals


async def _run(data_dir: Path, names: list[str], passes: int, *, quick: bool, keep: bool,
               use_postgres: bool, totals: Totals) -> None:
    suite = Suite(data_dir, quick, use_postgres=use_postgres)
    database = "a throwaway PostgreSQL cluster" if suite.postgres is not None else "SQLite"
    print(f"faults: starting the broker behind a fault proxy and four services on {database} in {suite.run_dir}",
          flush=True)
    try:
        await suite.start()
        for number in range(passes):
            for name in names:
                outcome = await _run_one(suite, name, number)
                totals.add(outcome)
                print(outcome.line(), flush=True)
        final = await suite.verify(Outcome("final"))
        totals.settle(final)
        if not final.passed:
            totals.failed.append("final")
            print(final.line(), flush=True)
    finally:
        await suite.stop(keep=keep or bool(totals.failed))
    if totals.failed:
        print(f"faults: logs and the sent log kept in {suite.run_dir}", flush=True)


async def _run_one(suite: Suite, name: str, number: int) -> Outcome:
    try:
        outcome = await SCENARIOS[name](suite, number)
    except Exception as error:  # a broken scenario is reported and the run goes on
        logger.exception("scenario %s#%s failed", name, number)
        outcome = Outcome(f"{name}#{number}", failures=[f"scenario error: {error!r}"])
    if outcome.skipped:
        return outcome
    return await suite.verify(outcome)
