"""Key rotation: copy a store into a new one under a new master key, and prove the copy.

The copy decrypts each stored state with the old key and encrypts it with the new one; the
sealed personal fields inside are carried over byte for byte (client keys are re-wrapped, not
changed), so erased clients stay erased. Integrity is proven across the two stores:

1. the source verifies (its chain is intact) — giving its checkpoint;
2. the new store verifies — giving its own checkpoint;
3. walking both logs side by side, every event has the same id, version, topic and the same
   plaintext state.

The new store has its own chain (the stored bytes differ), so keep both checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent

from between.audit.log import raw_rows
from between.audit.log_source import LogSource
from between.audit.verify import Checkpoint
from between.engine.errors import RuleViolation, StoreError
from between.engine.storage.store import Store
from between.language import worded

if TYPE_CHECKING:
    from between.engine.app import Homework

BATCH = 1000


@dataclass(frozen=True)
class Rotation:
    events: int
    source: Checkpoint
    target: Checkpoint
    key_file: Path | None


def rekey(
    source: Homework,
    target_store: Store,
    key_file: Path | None,
    environ: dict,
    *,
    actor: str | None = None,
) -> Rotation:
    """Copy ``source`` (opened read-only) into a new encrypted store and prove the copy.

    The copy can be read by whoever holds the new key, so when the store requires operators
    only a role allowed to ``rekey`` may make it (``engine.aggregates.operators``); nothing is
    created
    otherwise.
    """
    from between.audit.auditor import verify_log
    from between.engine.app import Homework

    source.work.permit(actor, "rekey")
    before = verify_log(source, None)
    if before.first_break is not None:
        raise RuleViolation(
            "the source log is broken (%(detail)s); not copied",
            detail=worded(before.first_break.detail),
        )
    if target_store.path is not None and target_store.path.exists():  # a file store
        raise StoreError(
            "%(path)s already exists; rotation copies into a new store", path=target_store.path
        )
    meta, written = Homework.initialise(
        target_store, encrypt=True, key_file=key_file, environ=environ
    )
    if meta["created"] != "yes":
        raise StoreError(
            "%(where)s already holds a store; use a new one", where=target_store.describe()
        )
    target = Homework(target_store, key_file=written or key_file, environ=environ)
    for client_id, wrapped in source.keys.rewrapped_for(target.keys.wrap_key):
        target.keys.backend.put(client_id, wrapped if wrapped is not None else b"")
        if wrapped is None:
            target.keys.backend.destroy(client_id)

    batch: list[StoredEvent] = []
    for _, _, _, oid, version, topic, state in raw_rows(source):
        plain = _decrypt(source, state)
        batch.append(StoredEvent(_uuid(oid), version, topic, _encrypt(target, plain)))
        if len(batch) >= BATCH:
            target.recorder.insert_events(batch)
            batch = []
    if batch:
        target.recorder.insert_events(batch)

    after = verify_log(target, None)
    if not after.intact or after.events != before.events:
        raise StoreError(
            "the new store does not verify (%(found)s); discard it", found=after.first_break
        )
    for old, new in zip(raw_rows(source), raw_rows(target), strict=True):
        if old[3:6] != new[3:6] or _decrypt(source, old[6]) != _decrypt(target, new[6]):
            raise StoreError(
                "event #%(seq)s differs in the copy; discard the new store", seq=old[1]
            )
    target.close()
    return Rotation(before.events, before.checkpoint(), after.checkpoint(), written)


def _uuid(oid: bytes) -> Any:
    from uuid import UUID

    return UUID(bytes=oid)


def _decrypt(app: LogSource, state: bytes) -> bytes:
    return app.mapper.cipher.decrypt(state) if app.mapper.cipher else state


def _encrypt(app: LogSource, plain: bytes) -> bytes:
    return app.mapper.cipher.encrypt(plain) if app.mapper.cipher else plain
