"""Commands over HTTP with concurrent clients, against the bare library.

Starts `wellbeing serve` on 127.0.0.1 over a fresh PostgreSQL schema (or
SQLite), then has N concurrent clients start snapshots (POST /snapshots)
for a bounded time, and prints requests per second and latency
percentiles. The baseline, measured in the same run, is the bare
eventsourcing library saving one small aggregate per transaction, no HTTP.
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from harness import DEFAULT_POSTGRES, line, machine
from wellbeing.cli.demo_data import write_census
from wellbeing.commands import teams, users
from wellbeing.commands.actor import Actor, operator
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.crypto import Kek
from wellbeing.persistence import tokens
from wellbeing.persistence.runtime import open_runtime
from wellbeing.settings import Settings


class Note(Aggregate):
    """The baseline's aggregate: one event, a few plain fields."""

    @event("Written")
    def __init__(self, team: str, kind: str, day: str) -> None:
        self.team = team
        self.kind = kind
        self.day = day


def baseline_rate(env: dict[str, str], seconds: float) -> float:
    app = Application(env=env)
    saved = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        app.save(Note(team="t", kind="universal", day="2025-09-10"))
        saved += 1
    rate = saved / (time.perf_counter() - started)
    app.close()
    return rate


def postgres_env(url: str, schema: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
        )
    parts = psycopg.conninfo.conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts.get("dbname", "test")),
        "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(parts.get("port", "5432")),
        "POSTGRES_USER": str(parts.get("user", "root")),
        "POSTGRES_PASSWORD": str(parts.get("password", "")),
        "POSTGRES_SCHEMA": schema,
    }


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def prepare(settings: Settings, pupils: int) -> tuple[str, list[str]]:
    runtime = open_runtime(settings)
    try:
        op = operator()
        admin = uuid.UUID(
            str(users.create_user(runtime, users.CreateUser(op, "b@bench.test"))["id"])
        )
        team_id = teams.register_team(
            runtime, teams.RegisterTeam(Actor(admin), "Bench School", "999", "1001")
        )
        path = write_census(settings.data_dir / "c.csv", "999", "1001", pupils)
        report = import_participants(
            runtime, ImportParticipants(Actor(admin), team_id, path, commit=True)
        )
        ids = [str(r.participant_id) for r in report.rows if r.participant_id]
        with runtime.database.transaction() as tx:
            _, secret = tokens.issue(tx, admin, op.user_id)
    finally:
        runtime.close()
    return secret, ids


class LeanClient:
    """One keep-alive HTTP/1.1 connection that posts JSON and reads answers.

    The load comes from the same two cores as the server, so the client is
    kept as cheap as it can be: requests are written as bytes and only the
    status line and Content-Length of each answer are parsed (httpx spent
    about a third of a core at these rates).
    """

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = (
            "POST /snapshots HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, body: bytes) -> int:
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for header in head.split(b"\r\n"):
            if header[:15].lower() == b"content-length:":
                length = int(header[15:])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def load(
    port: int, token: str, ids: list[str], clients: int, seconds: float, warmup: float
) -> tuple[list[float], int]:
    """Requests during the first `warmup` seconds are sent but not counted:
    they meet a server opening its pool's connections and its caches."""
    latencies: list[float] = []
    errors = 0
    counting = time.perf_counter() + warmup
    deadline = counting + seconds

    async def client(number: int) -> None:
        nonlocal errors
        connection = LeanClient(port, token)
        await connection.open()
        sent = 0
        try:
            while time.perf_counter() < deadline:
                body = json.dumps(
                    {
                        "participant_id": ids[(number * 7919 + sent) % len(ids)],
                        "instrument": "wellbeing-check",
                        "kind": "universal",
                    }
                ).encode()
                started = time.perf_counter()
                status = await connection.post(body)
                sent += 1
                if started < counting:
                    continue
                latencies.append(time.perf_counter() - started)
                errors += status != 201
        finally:
            await connection.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(
    settings: Settings, kek: str, port: int, log: Path, workers: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WELLBEING_DATABASE_URL": settings.database_url,
        "WELLBEING_DATA_DIR": str(settings.data_dir),
        "WELLBEING_KEK": kek,
        "WELLBEING_POOL_SIZE": "20",
    }
    command = [sys.executable, "-m", "wellbeing.cli.main", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds sent before counting"
    )
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    schema = "bench_" + uuid.uuid4().hex[:12]
    folder = Path(tempfile.mkdtemp(prefix="wellbeing-http-"))
    kek = Kek.generate().to_text()
    if args.store == "sqlite":
        url = f"sqlite:///{folder / 'http.sqlite3'}"
    else:
        url = f"{args.database_url}?schema={schema}"
    settings = Settings(database_url=url, data_dir=folder, kek=kek)
    try:
        token, ids = prepare(settings, args.pupils)
        port = free_port()
        server = serve(settings, kek, port, folder / "server.log", args.workers)
        try:
            latencies, errors = asyncio.run(
                load(port, token, ids, args.clients, args.seconds, args.warmup)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        if args.store == "sqlite":
            env = sqlite_env(folder / "library.sqlite3")
        else:
            env = postgres_env(args.database_url, schema + "_lib")
        base = baseline_rate(env, args.seconds / 2)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if args.store == "postgres":
            drop_schemas(args.database_url, (schema, schema + "_lib"))
    report(args, latencies, errors, base)


def drop_schemas(url: str, schemas: tuple[str, ...]) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for name in schemas:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            )


def report(
    args: argparse.Namespace, latencies: list[float], errors: int, base: float
) -> None:
    rate = len(latencies) / args.seconds
    store = "PostgreSQL" if args.store == "postgres" else "SQLite"
    print(
        f"\n{store}, {args.clients} clients for {args.seconds:.0f}s"
        f" after {args.warmup:.0f}s of warm-up,"
        f" {args.workers} server process(es), POST /snapshots"
    )
    line("product over HTTP", rate, "req/s", f"({errors} errors)")
    line("bare library, one aggregate per transaction", base, "saves/s")
    line("ratio", rate / base, "x", "(target at least 0.5)", digits=2)
    line("latency p50", percentile(latencies, 0.50), "ms")
    line("latency p99", percentile(latencies, 0.99), "ms", "(target under 50)")
    line("latency mean", statistics.mean(latencies) * 1000, "ms")


if __name__ == "__main__":
    main()
