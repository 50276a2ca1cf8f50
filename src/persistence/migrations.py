"""Numbered migrations of the project's own tables, applied in order once."""

import logging
from dataclasses import dataclass

from wellbeing.persistence.database import Database, Tx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """One schema step; each dialect gets its own statements."""

    number: int
    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "subject keys and erasure tombstones",
        sqlite=(
            "CREATE TABLE subject_keys (subject_id TEXT PRIMARY KEY,"
            " kind TEXT NOT NULL, kek_id TEXT NOT NULL, wrapped BLOB NOT NULL,"
            " created_at TEXT NOT NULL)",
            "CREATE TABLE erased_subjects (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " subject_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
            " erased_at TEXT NOT NULL)",
        ),
        postgres=(
            "CREATE TABLE subject_keys (subject_id uuid PRIMARY KEY,"
            " kind text NOT NULL, kek_id text NOT NULL, wrapped bytea NOT NULL,"
            " created_at timestamptz NOT NULL)",
            "CREATE TABLE erased_subjects (seq bigserial PRIMARY KEY,"
            " subject_id uuid NOT NULL UNIQUE, kind text NOT NULL,"
            " erased_at timestamptz NOT NULL)",
        ),
    ),
    Migration(
        2,
        "idempotent command results",
        sqlite=(
            "CREATE TABLE command_results (key TEXT PRIMARY KEY,"
            " actor_id TEXT NOT NULL, fingerprint TEXT NOT NULL,"
            " result BLOB NOT NULL, subject_ids TEXT NOT NULL,"
            " created_at TEXT NOT NULL)",
        ),
        postgres=(
            "CREATE TABLE command_results (key text PRIMARY KEY,"
            " actor_id uuid NOT NULL, fingerprint text NOT NULL,"
            " result bytea NOT NULL, subject_ids text NOT NULL,"
            " created_at timestamptz NOT NULL)",
        ),
    ),
    Migration(
        3,
        "participant lookup by team",
        sqlite=(
            "CREATE TABLE participant_index (participant_id TEXT PRIMARY KEY,"
            " team_id TEXT NOT NULL, reference INTEGER NOT NULL,"
            " UNIQUE (team_id, reference))",
        ),
        postgres=(
            "CREATE TABLE participant_index (participant_id uuid PRIMARY KEY,"
            " team_id uuid NOT NULL, reference integer NOT NULL,"
            " UNIQUE (team_id, reference))",
        ),
    ),
    Migration(
        4,
        "blind indexes of UPNs and of names with dates of birth",
        sqlite=(
            "CREATE TABLE upn_index (team_id TEXT NOT NULL, digest BLOB NOT NULL,"
            " participant_id TEXT NOT NULL, PRIMARY KEY (team_id, digest))",
            "CREATE INDEX upn_index_participant ON upn_index (participant_id)",
            "CREATE TABLE name_index (team_id TEXT NOT NULL, digest BLOB NOT NULL,"
            " participant_id TEXT NOT NULL)",
            "CREATE INDEX name_index_digest ON name_index (team_id, digest)",
            "CREATE INDEX name_index_participant ON name_index (participant_id)",
        ),
        postgres=(
            "CREATE TABLE upn_index (team_id uuid NOT NULL, digest bytea NOT NULL,"
            " participant_id uuid NOT NULL, PRIMARY KEY (team_id, digest))",
            "CREATE INDEX upn_index_participant ON upn_index (participant_id)",
            "CREATE TABLE name_index (team_id uuid NOT NULL, digest bytea NOT NULL,"
            " participant_id uuid NOT NULL)",
            "CREATE INDEX name_index_digest ON name_index (team_id, digest)",
            "CREATE INDEX name_index_participant ON name_index (participant_id)",
        ),
    ),
    Migration(
        5,
        "staff e-mail blind index and team memberships",
        sqlite=(
            "CREATE TABLE email_index (digest BLOB PRIMARY KEY,"
            " user_id TEXT NOT NULL UNIQUE)",
            "CREATE TABLE team_members (team_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL, role TEXT NOT NULL, joined INTEGER NOT NULL,"
            " PRIMARY KEY (team_id, user_id))",
            "CREATE INDEX team_members_user ON team_members (user_id)",
        ),
        postgres=(
            "CREATE TABLE email_index (digest bytea PRIMARY KEY,"
            " user_id uuid NOT NULL UNIQUE)",
            "CREATE TABLE team_members (team_id uuid NOT NULL,"
            " user_id uuid NOT NULL, role text NOT NULL, joined boolean NOT NULL,"
            " PRIMARY KEY (team_id, user_id))",
            "CREATE INDEX team_members_user ON team_members (user_id)",
        ),
    ),
    Migration(
        6,
        "date a participant left, for retention",
        sqlite=("ALTER TABLE participant_index ADD COLUMN left_on TEXT",),
        postgres=("ALTER TABLE participant_index ADD COLUMN left_on date",),
    ),
    Migration(
        7,
        "projection positions",
        sqlite=(
            "CREATE TABLE projection_positions (name TEXT PRIMARY KEY,"
            " position INTEGER NOT NULL)",
        ),
        postgres=(
            "CREATE TABLE projection_positions (name text PRIMARY KEY,"
            " position bigint NOT NULL)",
        ),
    ),
    Migration(
        8,
        "import runs and their row outcomes",
        sqlite=(
            "CREATE TABLE import_runs (run_id TEXT PRIMARY KEY,"
            " team_id TEXT NOT NULL, fingerprint TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, status TEXT NOT NULL,"
            " names_matching INTEGER NOT NULL, left_count INTEGER NOT NULL,"
            " started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL,"
            " finished_at TEXT)",
            "CREATE UNIQUE INDEX import_runs_open ON import_runs"
            " (team_id, fingerprint) WHERE status <> 'finished'",
            "CREATE INDEX import_runs_team ON import_runs (team_id, started_at)",
            "CREATE TABLE import_rows (run_id TEXT NOT NULL,"
            " row_number INTEGER NOT NULL, status TEXT NOT NULL,"
            " reasons TEXT NOT NULL, warnings TEXT NOT NULL, participant_id TEXT,"
            " PRIMARY KEY (run_id, row_number))",
            "CREATE INDEX import_rows_participant ON import_rows (participant_id)",
        ),
        postgres=(
            "CREATE TABLE import_runs (run_id uuid PRIMARY KEY,"
            " team_id uuid NOT NULL, fingerprint text NOT NULL,"
            " actor_id uuid NOT NULL, status text NOT NULL,"
            " names_matching boolean NOT NULL, left_count integer NOT NULL,"
            " started_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL,"
            " finished_at timestamptz)",
            "CREATE UNIQUE INDEX import_runs_open ON import_runs"
            " (team_id, fingerprint) WHERE status <> 'finished'",
            "CREATE INDEX import_runs_team ON import_runs (team_id, started_at)",
            "CREATE TABLE import_rows (run_id uuid NOT NULL,"
            " row_number integer NOT NULL, status text NOT NULL,"
            " reasons text NOT NULL, warnings text NOT NULL, participant_id uuid,"
            " PRIMARY KEY (run_id, row_number))",
            "CREATE INDEX import_rows_participant ON import_rows (participant_id)",
        ),
    ),
    Migration(
        10,
        "API bearer tokens, kept as digests",
        sqlite=(
            "CREATE TABLE api_tokens (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " token_id TEXT NOT NULL UNIQUE, digest BLOB NOT NULL UNIQUE,"
            " user_id TEXT NOT NULL, issued_by TEXT NOT NULL,"
            " created_at TEXT NOT NULL, revoked_at TEXT)",
            "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
        ),
        postgres=(
            "CREATE TABLE api_tokens (seq bigserial PRIMARY KEY,"
            " token_id uuid NOT NULL UNIQUE, digest bytea NOT NULL UNIQUE,"
            " user_id uuid NOT NULL, issued_by uuid NOT NULL,"
            " created_at timestamptz NOT NULL, revoked_at timestamptz)",
            "CREATE INDEX api_tokens_user ON api_tokens (user_id)",
        ),
    ),
    Migration(
        11,
        "import jobs and their row reports",
        sqlite=(
            "CREATE TABLE import_jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " job_id TEXT NOT NULL UNIQUE, team_id TEXT NOT NULL,"
            " actor_id TEXT NOT NULL, runner TEXT NOT NULL,"
            " commit_rows INTEGER NOT NULL,"
            " status TEXT NOT NULL, summary TEXT, error TEXT,"
            " created_at TEXT NOT NULL, finished_at TEXT)",
            "CREATE INDEX import_jobs_team ON import_jobs (team_id)",
            "CREATE TABLE import_job_rows (job_id TEXT NOT NULL,"
            " row_number INTEGER NOT NULL, status TEXT NOT NULL,"
            " reasons TEXT NOT NULL, participant_id TEXT,"
            " PRIMARY KEY (job_id, row_number))",
            "CREATE INDEX import_job_rows_participant"
            " ON import_job_rows (participant_id)",
        ),
        postgres=(
            "CREATE TABLE import_jobs (seq bigserial PRIMARY KEY,"
            " job_id uuid NOT NULL UNIQUE, team_id uuid NOT NULL,"
            " actor_id uuid NOT NULL, runner text NOT NULL,"
            " commit_rows boolean NOT NULL,"
            " status text NOT NULL, summary text, error text,"
            " created_at timestamptz NOT NULL, finished_at timestamptz)",
            "CREATE INDEX import_jobs_team ON import_jobs (team_id)",
            "CREATE TABLE import_job_rows (job_id uuid NOT NULL,"
            " row_number integer NOT NULL, status text NOT NULL,"
            " reasons text NOT NULL, participant_id uuid,"
            " PRIMARY KEY (job_id, row_number))",
            "CREATE INDEX import_job_rows_participant"
            " ON import_job_rows (participant_id)",
        ),
    ),
)

_CREATE_LEDGER = {
    "sqlite": "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER"
    " PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    "postgres": "CREATE TABLE IF NOT EXISTS schema_migrations (number integer"
    " PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)",
}


def applied(tx: Tx) -> set[int]:
    tx.execute("SELECT number FROM schema_migrations")
    return {int(row[0]) for row in tx.fetchall()}


def upgrade(database: Database) -> list[int]:
    """Apply every migration not yet applied; returns the numbers applied.

    Each migration commits with its ledger row, so a crash leaves whole steps.
    Concurrent upgraders serialise on the ledger table's lock.
    """
    done: list[int] = []
    with database.transaction() as tx:
        tx.execute(_CREATE_LEDGER[tx.dialect])
    for migration in MIGRATIONS:
        with database.transaction() as tx:
            if tx.dialect == "postgres":
                tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            if migration.number in applied(tx):
                continue
            statements = getattr(migration, tx.dialect)
            for statement in statements:
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations VALUES (%s, %s, CURRENT_TIMESTAMP)",
                (migration.number, migration.name),
            )
            done.append(migration.number)
            logger.info("migration applied number=%d", migration.number)
    return done
