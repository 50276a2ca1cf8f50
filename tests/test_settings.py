"""Tests of settings read from WELLBEING_* variables and a .env file."""

from pathlib import Path

import pytest

from wellbeing.errors import ConfigurationError
from wellbeing.settings import Settings, load_settings

KEK_CANARY = "c4a7a2b5" * 8
OTHER_KEK_CANARY = "9e1d" * 16


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    return tmp_path / ".env"


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"XDG_DATA_HOME": str(tmp_path / "xdg")}


def problem(environ: dict[str, str], env_file: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ, env_file)
    return str(caught.value)


def test_data_dir_defaults_under_xdg_data_home(
    environ: dict[str, str], env_file: Path, tmp_path: Path
) -> None:
    settings = load_settings(environ, env_file)

    assert settings.data_dir == tmp_path / "xdg" / "wellbeing-ledger"


def test_database_defaults_to_embedded_sqlite_in_the_data_dir(
    environ: dict[str, str], env_file: Path, tmp_path: Path
) -> None:
    settings = load_settings(environ, env_file)

    assert settings.is_sqlite
    expected = tmp_path / "xdg" / "wellbeing-ledger" / "wellbeing.sqlite3"
    assert settings.sqlite_path == expected


def test_other_settings_have_their_defaults(
    environ: dict[str, str], env_file: Path
) -> None:
    settings = load_settings(environ, env_file)

    assert settings.kek is None
    assert settings.kek_file is None
    assert settings.kek_previous == ()
    assert settings.log_level == "WARNING"
    assert settings.pool_size == 10
    assert settings.request_threads == 4
    assert settings.retention_years is None


def test_data_dir_setting_overrides_xdg_data_home(
    environ: dict[str, str], env_file: Path, tmp_path: Path
) -> None:
    environ["WELLBEING_DATA_DIR"] = str(tmp_path / "own")

    settings = load_settings(environ, env_file)

    assert settings.data_dir == tmp_path / "own"
    assert settings.sqlite_path == tmp_path / "own" / "wellbeing.sqlite3"


def test_env_file_supplies_settings(environ: dict[str, str], env_file: Path) -> None:
    env_file.write_text("WELLBEING_LOG_LEVEL=INFO\nWELLBEING_POOL_SIZE=3\n")

    settings = load_settings(environ, env_file)

    assert settings.log_level == "INFO"
    assert settings.pool_size == 3


def test_env_file_skips_comments_and_blanks_and_reads_quotes_and_export(
    environ: dict[str, str], env_file: Path
) -> None:
    env_file.write_text(
        "# local settings\n\nexport WELLBEING_LOG_LEVEL='ERROR'\n"
        'WELLBEING_POOL_SIZE = "4"\n'
    )

    settings = load_settings(environ, env_file)

    assert settings.log_level == "ERROR"
    assert settings.pool_size == 4


def test_environment_wins_over_env_file(
    environ: dict[str, str], env_file: Path
) -> None:
    env_file.write_text("WELLBEING_LOG_LEVEL=INFO\nWELLBEING_POOL_SIZE=3\n")
    environ["WELLBEING_LOG_LEVEL"] = "DEBUG"

    settings = load_settings(environ, env_file)

    assert settings.log_level == "DEBUG"
    assert settings.pool_size == 3


def test_missing_env_file_is_not_an_error(
    environ: dict[str, str], tmp_path: Path
) -> None:
    settings = load_settings(environ, tmp_path / "absent" / ".env")

    assert settings.log_level == "WARNING"


def test_env_file_line_without_equals_is_rejected_with_its_number(
    environ: dict[str, str], env_file: Path
) -> None:
    env_file.write_text(f"WELLBEING_LOG_LEVEL=INFO\n{KEK_CANARY}\n")

    message = problem(environ, env_file)

    assert "line 2" in message
    assert KEK_CANARY not in message


def test_unknown_wellbeing_name_is_rejected_by_name(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_POOLSIZE"] = "5"

    assert "WELLBEING_POOLSIZE" in problem(environ, env_file)


def test_unknown_name_in_env_file_is_rejected_by_name(
    environ: dict[str, str], env_file: Path
) -> None:
    env_file.write_text("WELLBEING_LOGLEVEL=INFO\n")

    assert "WELLBEING_LOGLEVEL" in problem(environ, env_file)


def test_names_without_the_prefix_are_ignored(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING"] = "x"
    environ["DATABASE_URL"] = "mysql://elsewhere/db"

    settings = load_settings(environ, env_file)

    assert settings.is_sqlite


def test_test_suite_names_are_accepted(environ: dict[str, str], env_file: Path) -> None:
    environ["WELLBEING_TEST_DATABASE_URL"] = "postgresql://localhost/test"
    environ["WELLBEING_DFE_DATA"] = "/srv/dfe"

    settings = load_settings(environ, env_file)

    assert settings.is_sqlite


@pytest.mark.parametrize(
    "url", ["postgresql://app@db.internal:5432/ledger", "postgres://db/ledger"]
)
def test_postgresql_url_is_accepted(
    url: str, environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_DATABASE_URL"] = url

    settings = load_settings(environ, env_file)

    assert settings.database_url == url
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    "url",
    [
        "mysql://app:hunter2@db/ledger",
        "http://app:hunter2@db/ledger",
        "hunter2",
        "sqlite://",
    ],
)
def test_bad_database_url_is_rejected_by_name_without_echo(
    url: str, environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_DATABASE_URL"] = url

    message = problem(environ, env_file)

    assert "WELLBEING_DATABASE_URL" in message
    assert "hunter2" not in message


def test_kek_and_kek_file_together_are_rejected_by_name(
    environ: dict[str, str], env_file: Path, tmp_path: Path
) -> None:
    environ["WELLBEING_KEK"] = KEK_CANARY
    environ["WELLBEING_KEK_FILE"] = str(tmp_path / "kek")

    message = problem(environ, env_file)

    assert "WELLBEING_KEK" in message
    assert "WELLBEING_KEK_FILE" in message


def test_kek_file_is_read_as_a_path(
    environ: dict[str, str], env_file: Path, tmp_path: Path
) -> None:
    environ["WELLBEING_KEK_FILE"] = str(tmp_path / "kek")

    settings = load_settings(environ, env_file)

    assert settings.kek_file == tmp_path / "kek"
    assert settings.kek is None


def test_previous_keks_are_split_on_commas(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_KEK_PREVIOUS"] = f"{KEK_CANARY},,{OTHER_KEK_CANARY}"

    settings = load_settings(environ, env_file)

    assert settings.kek_previous == (KEK_CANARY, OTHER_KEK_CANARY)


@pytest.mark.parametrize("level", ["debug", "Info", "ERROR"])
def test_log_level_is_read_in_any_case(
    level: str, environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_LOG_LEVEL"] = level

    settings = load_settings(environ, env_file)

    assert settings.log_level == level.upper()


@pytest.mark.parametrize("level", ["LOUD", "TRACE"])
def test_bad_log_level_is_rejected_by_name(
    level: str, environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_LOG_LEVEL"] = level

    assert "WELLBEING_LOG_LEVEL" in problem(environ, env_file)


@pytest.mark.parametrize("size", ["0", "-3", "ten", "1.5", "00"])
def test_non_positive_or_non_whole_pool_size_is_rejected_by_name(
    size: str, environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_POOL_SIZE"] = size

    assert "WELLBEING_POOL_SIZE" in problem(environ, env_file)


def test_request_threads_are_read(environ: dict[str, str], env_file: Path) -> None:
    environ["WELLBEING_REQUEST_THREADS"] = "2"

    assert load_settings(environ, env_file).request_threads == 2


def test_zero_request_threads_are_rejected_by_name(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_REQUEST_THREADS"] = "0"

    assert "WELLBEING_REQUEST_THREADS" in problem(environ, env_file)


def test_bad_retention_years_is_rejected_by_name(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_RETENTION_YEARS"] = "0"

    assert "WELLBEING_RETENTION_YEARS" in problem(environ, env_file)


def test_retention_years_is_read_as_a_whole_number(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_RETENTION_YEARS"] = "7"

    assert load_settings(environ, env_file).retention_years == 7


@pytest.mark.parametrize(
    "invalid",
    [
        pytest.param({"WELLBEING_KEK_FILE": "/run/kek"}, id="kek and kek file"),
        pytest.param({"WELLBEING_LOG_LEVEL": "LOUD"}, id="bad log level"),
        pytest.param({"WELLBEING_POOL_SIZE": "0"}, id="bad pool size"),
        pytest.param({"WELLBEING_DATABASE_URL": "mysql://db"}, id="bad url"),
        pytest.param({"WELLBEING_KEY": KEK_CANARY}, id="misspelt kek name"),
    ],
)
def test_configuration_error_never_echoes_a_kek(
    invalid: dict[str, str], environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_KEK"] = KEK_CANARY
    environ["WELLBEING_KEK_PREVIOUS"] = OTHER_KEK_CANARY
    environ.update(invalid)

    message = problem(environ, env_file)

    assert KEK_CANARY not in message
    assert OTHER_KEK_CANARY not in message


def test_settings_repr_never_shows_a_kek(
    environ: dict[str, str], env_file: Path
) -> None:
    environ["WELLBEING_KEK"] = KEK_CANARY
    environ["WELLBEING_KEK_PREVIOUS"] = OTHER_KEK_CANARY

    shown = repr(load_settings(environ, env_file))

    assert KEK_CANARY not in shown
    assert OTHER_KEK_CANARY not in shown


def test_sqlite_path_of_a_relative_url_is_relative(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:///relative.db", data_dir=tmp_path)

    assert settings.sqlite_path == Path("relative.db")


def test_sqlite_path_of_an_absolute_url_is_absolute(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:////abs/x.db", data_dir=tmp_path)

    assert settings.sqlite_path == Path("/abs/x.db")
