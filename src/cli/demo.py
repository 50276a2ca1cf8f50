"""`wellbeing demo`: a whole run on invented pupils, from an empty store."""

import argparse
import time
from uuid import UUID

from wellbeing.cli.demo_data import write_census
from wellbeing.cli.output import table
from wellbeing.commands.actor import operator
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.participants import list_participants
from wellbeing.commands.stats import event_counts
from wellbeing.commands.teams import RegisterTeam, register_team
from wellbeing.persistence.runtime import open_runtime
from wellbeing.settings import Settings

DEMO_PUPILS = 60


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    runtime = open_runtime(settings)
    try:
        actor = operator()
        print(f"store: {_where(settings)}")
        team_id = register_team(
            runtime, RegisterTeam(actor, "Demo Primary (fictional)", "999", "1001")
        )
        census = write_census(
            settings.data_dir / "demo-census.csv", "999", "1001", DEMO_PUPILS
        )
        print(f"registered team {team_id}; importing {census.name} (fictional)")
        report = import_participants(
            runtime, ImportParticipants(actor, team_id, census, commit=True)
        )
        print("import: " + "  ".join(f"{k} {v}" for k, v in report.summary().items()))
        pupils = list_participants(runtime, actor, team_id)
        erased = pupils[0]["id"]
        erase_participant(runtime, EraseParticipant(actor, _uuid(erased)))
        print(f"erased participant {erased} (reads as erased from now on)")
        counts = event_counts(runtime)
    finally:
        runtime.close()
    print()
    print(table(list(counts.items()), ("what", "count")))
    print(f"\ndone in {time.perf_counter() - started:.1f}s")
    return 0


def _where(settings: Settings) -> str:
    if settings.is_sqlite:
        return str(settings.sqlite_path)
    return "PostgreSQL"


def _uuid(text: str) -> UUID:

    return UUID(text)


__all__ = ["cmd_demo"]
