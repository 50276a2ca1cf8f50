"""Racing writers: one key per subject, and no data after an erasure."""

import threading
import uuid
from pathlib import Path

from erasure_fixtures import erase, import_pair

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.personal import ERASED
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
from wellbeing.commands.retry import with_retries
from wellbeing.errors import WellbeingError
from wellbeing.persistence.keys import SubjectKeys
from wellbeing.persistence.runtime import Runtime


def test_racing_key_creation_gives_one_key(runtime: Runtime) -> None:
    subject = uuid.uuid4()
    readers = [SubjectKeys(runtime.database, runtime.keys.keyring) for _ in range(4)]
    keys: list[bytes] = []
    barrier = threading.Barrier(len(readers))

    def create(store: SubjectKeys) -> None:
        barrier.wait()
        keys.append(store.for_writing(subject, "participant"))

    threads = [threading.Thread(target=create, args=(r,)) for r in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 4
    assert len(set(keys)) == 1


def test_correction_racing_erasure_leaves_nothing_readable(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    outcomes: list[str] = []

    def correct() -> None:
        def work() -> None:
            participant = load(runtime, Participant, pair.gone_id)
            participant.correct(actor.user_id, forename="Racingname")
            runtime.writer.commit(participant)

        try:
            with_retries(work)
            outcomes.append("corrected")
        except WellbeingError as error:
            outcomes.append(error.code)

    thread = threading.Thread(target=correct)
    thread.start()
    erase(runtime, actor, pair.gone_id)
    thread.join()

    participant = load(runtime, Participant, pair.gone_id)
    assert participant.forename is ERASED
    assert participant.erased
    assert outcomes[0] in ("corrected", "participant-erased", "subject-erased")
