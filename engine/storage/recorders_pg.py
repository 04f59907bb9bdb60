"""The hash-chained recorder for PostgreSQL (imported only when a PostgreSQL store is used:
psycopg costs ~250 ms to import, which SQLite users never pay)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from between.engine.aggregates.operators import OPERATORS_ID
from between.engine.storage.recorders import (
    AfterInsert,
    Head,
    chain_rows,
    head_parameters,
    head_query,
)

#: Reads what ``prefetch`` sent (see ``ReadModel.prefetch``).
Prefetch = Callable[[Any, Sequence[Any]], Callable[[], Any]]


class ChainedPostgresRecorder(PostgresProcessRecorder):
    """PostgreSQL recorder whose rows carry ``seq`` and ``chain``.

    Positions come from the table's own sequence (``nextval``) while the table is locked in
    EXCLUSIVE mode, so commit order equals position order. A rolled-back write leaves a gap
    in positions but never in ``seq``.

    A write is two round trips, in a pipeline: BEGIN, the lock, one statement reading the
    ``Head`` (with the new positions, the read model's position locked FOR UPDATE so a rebuild
    or catch-up in another session cannot move it under the write, and the notification of
    listeners) and the read-model rows the new events fold into; then the rows, the read
    model and COMMIT.
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
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE notification_id > 0 AND originator_id = %s"
        ).format(schema=schema, table=table)
        self._qualified_table = f'"{self.datastore.schema}"."{self.events_table_name}"'
        # The positions (from the table's sequence) and the notification of listeners ride
        # with the head in one statement.
        self._more = (
            ", ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) "
            "FROM generate_series(1, %s)) AS positions, pg_notify(%s, '') IS NULL AS notified"
        )
        self._insert_rows = SQL(
            "INSERT INTO {schema}.{table} (notification_id, originator_id, "
            "originator_version, topic, state, seq, chain) "
            "SELECT * FROM unnest(%s::bigint[], %s::{id_type}[], %s::bigint[], "
            "%s::text[], %s::bytea[], %s::bigint[], %s::bytea[])"
        ).format(schema=schema, table=table, id_type=id_type)

    def _head_query(self, model: bool, operators: bool) -> str:
        return head_query(
            self._qualified_table,
            "notification_id",
            model=model,
            operators=operators,
            param="%s",
            lock="FOR UPDATE",  # a rebuild or catch-up elsewhere cannot move it under us
            more=self._more,
        )

    def _prefetch(self) -> Prefetch | None:
        """The read model attached as ``after_insert`` (its bound method) may prefetch rows."""
        return getattr(getattr(self.after_insert, "__self__", None), "prefetch", None)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline():  # BEGIN and COMMIT ride with the statements around them
                    curs = conn.cursor()
                    curs.execute("BEGIN")
                    positions = self._insert(conn, curs, stored_events, **kwargs)
                    curs.execute("COMMIT")
            except BaseException:
                conn.rollback()
                raise
        return positions

    def _insert(
        self, conn: Any, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> list[int]:
        tracking: Tracking | None = kwargs.get("tracking")
        new_events = kwargs.get("new_events")
        expected = kwargs.get("operators_version")
        operators = expected is not None
        if tracking is not None:
            self._insert_tracking(curs, tracking)
        if not stored_events:
            return []
        self._lock_table(curs)
        model = self.after_insert is not None
        head_cursor = conn.cursor()
        head_cursor.execute(
            self._head_query(model, operators),
            (
                *head_parameters(model, operators, OPERATORS_ID),
                *(self._qualified_table, len(stored_events), self.channel_name),
            ),
        )
        prefetch = self._prefetch()
        answers = prefetch(conn, new_events) if prefetch and new_events else None
        found = head_cursor.fetchone()  # the first round trip
        head = Head.of(found)
        head.check_operators(expected)
        positions = sorted(found["positions"])
        rows = chain_rows(head, stored_events, positions)
        curs.execute(self._insert_rows, [list(col) for col in zip(*rows, strict=True)])
        if self.after_insert is not None:
            loaded = answers() if answers and head.in_step else None
            self.after_insert(curs, positions, new_events, head.in_step, loaded)
        return positions
