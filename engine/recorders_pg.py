"""The hash-chained recorder for PostgreSQL (imported only when a PostgreSQL store is used:
psycopg costs ~250 ms to import, which SQLite users never pay)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from between.engine.recorders import AfterInsert, chain_rows


class ChainedPostgresRecorder(PostgresProcessRecorder):
    """PostgreSQL recorder whose rows carry ``seq`` and ``chain``.

    Positions come from the table's own sequence (``nextval``) while the table is locked in
    EXCLUSIVE mode, so commit order equals position order. A rolled-back write leaves a gap
    in positions but never in ``seq``.
    """

    after_insert: AfterInsert | None = None

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema, table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        id_type = Identifier(self.datastore.originator_id_type)
        self.sql_create_statements[self.create_table_statement_index] = SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
            "originator_id {id_type} NOT NULL, originator_version bigint NOT NULL, "
            "topic text, state bytea, notification_id bigserial, "
            "seq bigint NOT NULL, chain bytea NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        ).format(schema=schema, table=table, id_type=id_type)
        # Records are loaded only from rows on the log (positions from 1); see recorders.py.
        self.select_events_statement = SQL(
            "SELECT * FROM {schema}.{table} WHERE notification_id > 0 AND originator_id = %s"
        ).format(schema=schema, table=table)
        self._select_head = SQL(
            "SELECT notification_id, seq, chain FROM {schema}.{table} "
            "ORDER BY notification_id DESC LIMIT 1"
        ).format(schema=schema, table=table)
        self._next_positions = SQL(
            "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) AS p "
            "FROM generate_series(1, %s)"
        )
        self._qualified_table = f'"{self.datastore.schema}"."{self.events_table_name}"'
        self._insert_rows = SQL(
            "INSERT INTO {schema}.{table} (notification_id, originator_id, "
            "originator_version, topic, state, seq, chain) "
            "SELECT * FROM unnest(%s::bigint[], %s::{id_type}[], %s::bigint[], "
            "%s::text[], %s::bytea[], %s::bigint[], %s::bytea[])"
        ).format(schema=schema, table=table, id_type=id_type)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        with self.datastore.transaction(commit=True) as curs:
            tracking: Tracking | None = kwargs.get("tracking")
            if tracking is not None:
                self._insert_tracking(curs, tracking)
            if not stored_events:
                return []
            self._lock_table(curs)
            head = curs.execute(self._select_head).fetchone()
            positions = sorted(
                r["p"]
                for r in curs.execute(
                    self._next_positions, (self._qualified_table, len(stored_events))
                ).fetchall()
            )
            rows = chain_rows(
                (head["notification_id"], head["seq"], bytes(head["chain"])) if head else None,
                stored_events,
                positions,
            )
            curs.execute(self._insert_rows, [list(col) for col in zip(*rows, strict=True)])
            self._notify_channel(curs)
            if self.after_insert is not None:
                self.after_insert(curs, positions, kwargs.get("new_events"))
        return positions
