"""``ipm``: command-line tools of IPM."""

import argparse
import logging
import signal
from pathlib import Path
from types import FrameType

from ipm_cli import dlq, reconcile
from ipm_cli.faults import run as faults_run
from ipm_common.logs import configure_logging


def _interrupt(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ipm", description="IPM command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the main job on ten years of Philadelphia revenue")
    demo.add_argument("--data-dir", type=Path, help="folder with philadelphia/ (default: $IPM_DATA_DIR or "
                      "examples/data)")
    demo.add_argument("--run-dir", type=Path, help="fresh folder for databases and logs (default: .demo/<time>)")
    commands.add_parser("catalogue", help="print the event catalogue as a Markdown table")
    dlq.add_parser(commands)
    reconcile.add_parser(commands)
    faults_run.add_parser(commands)
    arguments = parser.parse_args(argv)

    # A terminated demo stops the services it started, as an interrupted one does.
    signal.signal(signal.SIGTERM, _interrupt)
    configure_logging("WARNING")
    logging.getLogger("ipm_cli").setLevel(logging.INFO)
    if arguments.command == "demo":
        from ipm_cli.demo.run import main as run_demo

        return run_demo(arguments.data_dir, arguments.run_dir)
    if arguments.command == "catalogue":
        from ipm_cli.catalogue import catalogue_table

        print(catalogue_table())
        return 0
    if arguments.command == "dlq":
        return dlq.run(arguments)
    if arguments.command == "reconcile":
        return reconcile.run(arguments)
    if arguments.command == "faults":
        return faults_run.run(arguments)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
