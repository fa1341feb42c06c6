"""A throwaway PostgreSQL cluster in a temporary folder on a free loopback port.

The suite stops this cluster with ``pg_ctl stop -m immediate`` to simulate a crash, so it never
uses a shared cluster. The server refuses to run as root, so under root every command runs as
the ``postgres`` OS user through ``runuser``.
"""

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ipm_common.broker import free_port

logger = logging.getLogger(__name__)

BIN_DIR = Path(os.environ.get("IPM_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def available() -> bool:
    """Check that the PostgreSQL 15 binaries exist, and the postgres OS user when running as root."""
    if not (BIN_DIR / "initdb").exists():
        return False
    if os.geteuid() != 0:
        return True
    try:
        import pwd

        pwd.getpwnam(OS_USER)
    except KeyError:
        return False
    return shutil.which("runuser") is not None


class ThrowawayCluster:
    """Create with ``initdb``, start and stop with ``pg_ctl``, remove the folder at the end."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="ipm-faults-pg-"))
        self.data_dir = self.folder / "data"
        self.log_path = self.folder / "server.log"

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(BIN_DIR / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, OS_USER, OS_USER)
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "--no-sync")
        self.start()
        logger.info("throwaway PostgreSQL cluster on port %s in %s", self.port, self.data_dir)

    def start(self) -> None:
        # fsync off: the cluster is deleted at the end and only the server process ever crashes.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
                   f"-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log_path), "-w", "start")

    def stop_immediately(self) -> None:
        """Stop the server without a checkpoint, as a crash would; it recovers on the next start."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create a database and return its SQLAlchemy async URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)
