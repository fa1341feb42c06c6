"""``ipm dlq list|replay``: inspect the services' dead-letter topics and re-inject fixed messages."""

import argparse
import asyncio
import json
import os
from collections.abc import Sequence

from ipm_common.dead_letters import DeadLetter, dead_letter_topics, read_dead_letters, replay
from ipm_common.events import SERVICES
from ipm_common.messaging import KafkaPublisher

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    dlq = commands.add_parser("dlq", help="list or replay the services' dead letters")
    actions = dlq.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", help="print every dead letter, one line each")
    _add_selection(listing)
    listing.add_argument("--json", action="store_true", help="print one JSON object per line")

    replaying = actions.add_parser("replay", help="publish dead letters again to the topics they came from")
    _add_selection(replaying)
    replaying.add_argument("--all", action="store_true", help="replay every selected dead letter")
    replaying.add_argument("--dry-run", action="store_true", help="print what would be replayed and send nothing")


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", default=os.environ.get("IPM_KAFKA_BOOTSTRAP", DEFAULT_BOOTSTRAP),
                        help="Kafka bootstrap servers (default: $IPM_KAFKA_BOOTSTRAP or 127.0.0.1:9092)")
    parser.add_argument("--service", action="append", choices=SERVICES,
                        help="only this service's dead-letter topic (repeatable; default: all)")
    parser.add_argument("--reason", help="only dead letters with this reason, e.g. period_closed")
    parser.add_argument("--at", action="append", default=[], metavar="TOPIC[PARTITION]@OFFSET",
                        help="only the dead letter at this position, as printed by list (repeatable)")


def run(arguments: argparse.Namespace) -> int:
    return asyncio.run(_run(arguments))


async def _run(arguments: argparse.Namespace) -> int:
    topics = dead_letter_topics(arguments.service or SERVICES)
    letters = select(await read_dead_letters(arguments.bootstrap, topics),
                     reason=arguments.reason, positions=arguments.at)
    if arguments.action == "list":
        _print_letters(letters, as_json=arguments.json)
        return 0

    if not (arguments.all or arguments.reason or arguments.at):
        print("ipm dlq replay: choose what to replay with --at, --reason or --all")
        return 2
    if arguments.dry_run:
        _print_letters(letters, as_json=False)
        print(f"dry run: {len(letters)} dead letters would be replayed")
        return 0
    return await _replay(arguments.bootstrap, letters)


def select(letters: Sequence[DeadLetter], *, reason: str | None, positions: Sequence[str]) -> list[DeadLetter]:
    """Keep the dead letters with ``reason`` (when given) at one of ``positions`` (when any are given)."""
    requested = set(positions)
    return [letter for letter in letters
            if (reason is None or letter.reason == reason) and (not requested or letter.position in requested)]


def _print_letters(letters: Sequence[DeadLetter], *, as_json: bool) -> None:
    for letter in letters:
        if as_json:
            print(json.dumps(letter.describe(), sort_keys=True))
            continue
        event_id, event_type = letter.event_summary()
        print(f"{letter.position}  from {letter.original_position}  reason {letter.reason}  "
              f"{letter.headers.get('ipm-error-class', '?')}  {event_type or '-'} {event_id or '-'}  "
              f"{letter.headers.get('ipm-error', '')}")
    if not as_json:
        print(f"{len(letters)} dead letters")


async def _replay(bootstrap: str, letters: Sequence[DeadLetter]) -> int:
    publisher = KafkaPublisher(bootstrap, client_id="ipm-dlq-replay")
    await publisher.start()
    try:
        outcomes = await replay(publisher, letters)
    finally:
        await publisher.stop()

    for outcome in outcomes:
        print(f"{outcome.letter.position}: {outcome.detail}")
    skipped = sum(not outcome.replayed for outcome in outcomes)
    print(f"{len(outcomes) - skipped} replayed, {skipped} skipped")
    return 1 if skipped else 0
