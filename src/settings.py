"""Settings read once at start-up from WELLBEING_* variables and a .env file."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from wellbeing.errors import ConfigurationError

PREFIX = "WELLBEING_"
KNOWN = frozenset(
    {
        "DATABASE_URL",
        "DATA_DIR",
        "KEK",
        "KEK_FILE",
        "KEK_PREVIOUS",
        "LOG_LEVEL",
        "POOL_SIZE",
        "REQUEST_THREADS",
        "RETENTION_YEARS",
    }
)
# Read by the test suite only; accepted here so a shared .env can hold them.
TOOLING = frozenset({"TEST_DATABASE_URL", "DFE_DATA"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    """Validated settings; the KEK texts are kept out of the repr."""

    database_url: str
    data_dir: Path
    kek: str | None = field(default=None, repr=False)
    kek_file: Path | None = None
    kek_previous: tuple[str, ...] = field(default=(), repr=False)
    log_level: str = "WARNING"
    pool_size: int = 10
    request_threads: int = 4
    retention_years: int | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        # sqlite:///relative.db and sqlite:////absolute/path.db, as is usual.
        return Path(urlsplit(self.database_url).path[1:])


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wellbeing-ledger"


def read_env_file(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines; blank lines and lines starting with # are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        if not sep:
            raise ConfigurationError(f"{path}: line {number} is not NAME=VALUE")
        values[name.strip().removeprefix("export ").strip()] = value.strip().strip(
            "'\""
        )
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Merge the .env file under the environment, validate, and return Settings.

    Raises ConfigurationError naming the first invalid setting.
    """
    source = dict(os.environ if environ is None else environ)
    file_values = read_env_file(env_file or Path(".env"))
    merged = {**file_values, **source}
    values = {
        k.removeprefix(PREFIX): v for k, v in merged.items() if k.startswith(PREFIX)
    }
    for name in values:
        if name not in KNOWN | TOOLING:
            raise ConfigurationError(f"{PREFIX}{name} is not a known setting")
    return _validate(values, merged)


def _validate(values: dict[str, str], merged: Mapping[str, str]) -> Settings:
    data_dir = Path(values.get("DATA_DIR") or default_data_dir(merged)).expanduser()
    url = values.get("DATABASE_URL") or f"sqlite:///{data_dir / 'wellbeing.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigurationError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://"
        )
    if scheme == "sqlite" and not urlsplit(url).path:
        raise ConfigurationError(f"{PREFIX}DATABASE_URL names no SQLite file")
    kek_file = values.get("KEK_FILE")
    if values.get("KEK") and kek_file:
        raise ConfigurationError(f"set {PREFIX}KEK or {PREFIX}KEK_FILE, not both")
    level = values.get("LOG_LEVEL", "WARNING").upper()
    if level not in LOG_LEVELS:
        raise ConfigurationError(f"{PREFIX}LOG_LEVEL must be one of {LOG_LEVELS}")
    return Settings(
        database_url=url,
        data_dir=data_dir,
        kek=values.get("KEK") or None,
        kek_file=Path(kek_file).expanduser() if kek_file else None,
        kek_previous=tuple(
            part for part in values.get("KEK_PREVIOUS", "").split(",") if part.strip()
        ),
        log_level=level,
        pool_size=_positive_int(values, "POOL_SIZE", 10),
        request_threads=_positive_int(values, "REQUEST_THREADS", 4),
        retention_years=_optional_positive_int(values, "RETENTION_YEARS"),
    )


def _positive_int(values: dict[str, str], name: str, default: int) -> int:
    found = _optional_positive_int(values, name)
    return default if found is None else found


def _optional_positive_int(values: dict[str, str], name: str) -> int | None:
    text = values.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"{PREFIX}{name} must be a whole number above 0")
    return int(text)
