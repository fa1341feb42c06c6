"""Named crash points for fault-injection runs, switched on by ``IPM_FAULT_POINTS``.

``IPM_FAULT_POINTS="consumer.after_db_commit=3,relay.after_send=2"`` makes the process kill
itself with SIGKILL the third time it passes ``consumer.after_db_commit`` or the second time it
passes ``relay.after_send``, whichever comes first. Without the variable ``reached`` only looks
up an empty mapping. The points:

- ``consumer.after_db_commit``: a consumer's handler committed its transaction and the offset
  is not committed yet, so the broker redelivers the message after the restart.
- ``relay.after_send``: the broker acknowledged an outbox batch and the rows are not marked
  published yet, so the relay sends them again after the restart.
- ``storage.after_commit``: a write transaction committed and the relay was not woken yet, so
  the events it wrote wait in the outbox for the restarted relay.

``IPM_FAULT_SQLITE_MAX_PAGES=N`` caps every SQLite database the process opens at N pages
(``PRAGMA max_page_count``), so writes beyond it fail as on a full disk.
"""

import logging
import os
import signal
from collections.abc import Mapping

logger = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "IPM_FAULT_POINTS"
SQLITE_PAGES_VARIABLE = "IPM_FAULT_SQLITE_MAX_PAGES"

POINTS = ("consumer.after_db_commit", "relay.after_send", "storage.after_commit")


def parse(text: str) -> dict[str, int]:
    """Parse ``point=N,point=N`` into the number of passes after which each point kills the process."""
    armed: dict[str, int] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, separator, count = item.strip().partition("=")
        if name not in POINTS:
            raise ValueError(f"{ENVIRONMENT_VARIABLE}: unknown fault point {name!r}; use one of {', '.join(POINTS)}")
        if not separator or not count.isdigit() or int(count) < 1:
            raise ValueError(f"{ENVIRONMENT_VARIABLE}: {item.strip()!r} is invalid; write {name}=N with N >= 1")
        armed[name] = int(count)
    return armed


class FaultPoints:
    """Counts the passes of each armed point and kills the process when one reaches its count."""

    def __init__(self, armed: Mapping[str, int]) -> None:
        self._remaining = dict(armed)

    def reached(self, name: str) -> bool:
        """Count one pass of ``name``; return True when this pass is the one that must crash."""
        remaining = self._remaining.get(name)
        if remaining is None:
            return False
        self._remaining[name] = remaining - 1
        return remaining == 1

    def crash_if_reached(self, name: str) -> None:
        if self.reached(name):
            logger.critical("fault point %s reached; killing process %s with SIGKILL", name, os.getpid())
            logging.shutdown()
            os.kill(os.getpid(), signal.SIGKILL)


def parse_page_limit(text: str) -> int | None:
    """Parse the SQLite page cap; an empty text means no cap."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{SQLITE_PAGES_VARIABLE}: {text!r} is invalid; write a page count >= 1")
    return int(text)


_points = FaultPoints(parse(os.environ.get(ENVIRONMENT_VARIABLE, "")))
sqlite_max_pages = parse_page_limit(os.environ.get(SQLITE_PAGES_VARIABLE, ""))


def reached(name: str) -> None:
    """Pass the fault point ``name``: kill this process when ``IPM_FAULT_POINTS`` armed it for this pass."""
    _points.crash_if_reached(name)
