"""The four outcomes of reading a sealed field, and KEK rotation."""

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import StoreFactory
from erasure_fixtures import erase, import_pair

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.personal import ERASED, SEALED
from wellbeing.commands.actor import Actor
from wellbeing.commands.keys import rotate_keys
from wellbeing.commands.loading import load
from wellbeing.crypto import CiphertextInvalid, Kek, KeyMissing, WrongKek
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime, open_runtime


def _param(runtime: Runtime, value: object) -> Any:
    return str(value) if runtime.database.dialect == "sqlite" else value


def test_missing_key_without_tombstone_raises_key_missing(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    with runtime.database.transaction() as tx:
        tx.execute(
            "DELETE FROM subject_keys WHERE subject_id = %s",
            (_param(runtime, pair.gone_id),),
        )
    runtime.keys.evict(pair.gone_id)

    with pytest.raises(KeyMissing):
        load(runtime, Participant, pair.gone_id)


def test_wrong_kek_raises_wrong_kek(
    stores: StoreFactory, actor: Actor, tmp_path: Path
) -> None:
    first = open_runtime(stores.settings())
    pair = import_pair(first, actor, tmp_path)
    first.close()
    other = open_runtime(stores.settings(kek=Kek.generate()))

    try:
        with pytest.raises(WrongKek):
            load(other, Participant, pair.gone_id)
    finally:
        other.close()


def test_tampered_ciphertext_raises_ciphertext_invalid(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    _rewrite_first_event(runtime, pair.gone_id, _flip_surname_byte)

    with pytest.raises(CiphertextInvalid):
        load(runtime, Participant, pair.gone_id)


def test_transplanted_ciphertext_raises_ciphertext_invalid(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    donor = _first_state(runtime, pair.kept_id)

    def transplant(state: dict[str, Any]) -> None:
        state["surname"] = donor["surname"]

    _rewrite_first_event(runtime, pair.gone_id, transplant)

    with pytest.raises(CiphertextInvalid):
        load(runtime, Participant, pair.gone_id)


def test_process_without_kek_reads_sealed_markers(
    stores: StoreFactory, actor: Actor, tmp_path: Path
) -> None:
    first = open_runtime(stores.settings())
    pair = import_pair(first, actor, tmp_path)
    erase(first, actor, pair.gone_id)
    first.close()
    keyless = open_runtime(stores.settings(without_kek=True), need_kek=False)

    try:
        kept = load(keyless, Participant, pair.kept_id)
        gone = load(keyless, Participant, pair.gone_id)
    finally:
        keyless.close()

    assert kept.surname is SEALED
    assert kept.team_id == pair.team_id
    assert gone.surname is ERASED


def test_rotation_rewraps_keys_and_old_kek_can_be_retired(
    stores: StoreFactory, actor: Actor, tmp_path: Path
) -> None:
    old, new = stores.kek, Kek.generate()
    first = open_runtime(stores.settings())
    pair = import_pair(first, actor, tmp_path)
    first.close()
    rotating = open_runtime(stores.settings(kek=new, kek_previous=(old.to_text(),)))

    result = rotate_keys(rotating, actor)
    rotating.close()

    retired = open_runtime(stores.settings(kek=new))
    try:
        assert load(retired, Participant, pair.kept_id).surname == pair.kept.surname
    finally:
        retired.close()
    assert result.rewrapped >= 2
    assert result.remaining == 0


def test_rotation_can_run_again_after_an_interruption(
    stores: StoreFactory, actor: Actor, tmp_path: Path
) -> None:
    old, new = stores.kek, Kek.generate()
    first = open_runtime(stores.settings())
    import_pair(first, actor, tmp_path)
    first.close()
    rotating = open_runtime(stores.settings(kek=new, kek_previous=(old.to_text(),)))
    rotate_keys(rotating, actor)

    again = rotate_keys(rotating, actor)
    rotating.close()

    assert again.rewrapped == 0
    assert again.remaining == 0


def test_copy_taken_before_erasure_is_unreadable_once_old_kek_retired(
    tmp_path: Path, actor: Actor, kek: Kek
) -> None:
    store = StoreFactory("sqlite", tmp_path, kek)
    first = open_runtime(store.settings())
    pair = import_pair(first, actor, tmp_path)
    first.close()
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(store.settings().sqlite_path, copy)
    new = Kek.generate()
    live = open_runtime(store.settings(kek=new, kek_previous=(kek.to_text(),)))
    erase(live, actor, pair.gone_id)
    rotate_keys(live, actor)
    live.close()

    stolen = open_runtime(store.settings(kek=new, database_url=f"sqlite:///{copy}"))
    try:
        with pytest.raises(WrongKek):
            load(stolen, Participant, pair.gone_id)
    finally:
        stolen.close()


def _first_state(runtime: Runtime, aggregate_id: object) -> dict[str, Any]:
    table = EVENTS_TABLE[runtime.database.dialect]
    with runtime.database.transaction() as tx:
        tx.execute(
            _SELECT[table],
            (_id_param(runtime, aggregate_id),),
        )
        row = tx.fetchone()
    assert row is not None
    state: dict[str, Any] = orjson.loads(bytes(row[0]))
    return state


def _rewrite_first_event(runtime: Runtime, aggregate_id: object, change: Any) -> None:
    state = _first_state(runtime, aggregate_id)
    change(state)
    table = EVENTS_TABLE[runtime.database.dialect]
    with runtime.database.transaction() as tx:
        tx.execute(
            _UPDATE[table],
            (orjson.dumps(state), _id_param(runtime, aggregate_id)),
        )
    runtime.keys.evict(aggregate_id)  # type: ignore[arg-type]


def _flip_surname_byte(state: dict[str, Any]) -> None:
    import base64

    sealed = bytearray(base64.b64decode(state["surname"]["#s"]))
    sealed[-1] ^= 0x01
    state["surname"]["#s"] = base64.b64encode(bytes(sealed)).decode()


def _id_param(runtime: Runtime, aggregate_id: object) -> Any:
    if runtime.database.dialect == "sqlite":
        return aggregate_id.hex  # type: ignore[attr-defined]
    return aggregate_id


_SELECT = {
    "stored_events": "SELECT state FROM stored_events WHERE originator_id = %s"
    " AND originator_version = 1",
    "wellbeing_events": "SELECT state FROM wellbeing_events"
    " WHERE originator_id = %s AND originator_version = 1",
}
_UPDATE = {
    "stored_events": "UPDATE stored_events SET state = %s WHERE originator_id = %s"
    " AND originator_version = 1",
    "wellbeing_events": "UPDATE wellbeing_events SET state = %s"
    " WHERE originator_id = %s AND originator_version = 1",
}
