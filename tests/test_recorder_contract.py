"""Our hash-chaining recorders pass eventsourcing's own recorder test cases, unchanged."""

from __future__ import annotations

import tempfile
import threading
import uuid

import psycopg
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)
from helpers import PG_DB, PG_HOST, PG_PORT, PG_USER, require_postgres

from between.engine.storage.recorders import ChainedSQLiteRecorder


def finish_reader_threads() -> None:
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(timeout=10)


class SQLiteFile:
    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.datastore = SQLiteDatastore(db_name=f"file:{self.folder.name}/events.db")

    def tearDown(self) -> None:
        finish_reader_threads()  # the library's tests leave readers running; closing under them crashes sqlite3
        self.datastore.close()
        self.folder.cleanup()

    def create_recorder(self) -> ChainedSQLiteRecorder:
        recorder = ChainedSQLiteRecorder(self.datastore)
        recorder.create_table()
        return recorder


class PostgresSchema:
    def setUp(self) -> None:
        from eventsourcing.postgres import PostgresDatastore

        require_postgres()
        self.schema = f"r_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True
        ) as c:
            c.execute(f'CREATE SCHEMA "{self.schema}"')
        self.datastore = PostgresDatastore(
            PG_DB, PG_HOST, PG_PORT, PG_USER, "", schema=self.schema, pool_size=4, max_overflow=10
        )

    def tearDown(self) -> None:
        finish_reader_threads()
        self.datastore.close()
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, autocommit=True
        ) as c:
            c.execute(f'DROP SCHEMA "{self.schema}" CASCADE')

    def create_recorder(self):
        from between.engine.storage.recorders_pg import ChainedPostgresRecorder

        recorder = ChainedPostgresRecorder(self.datastore)
        recorder.create_table()
        return recorder


class TestSQLiteApplicationRecorder(SQLiteFile, ApplicationRecorderTestCase):
    pass


class TestSQLiteTrackingRecorder(SQLiteFile, TrackingRecorderTestCase):
    pass


class TestSQLiteProcessRecorder(SQLiteFile, ProcessRecorderTestCase):
    pass


class TestSQLiteNonInterleaving(SQLiteFile, NonInterleavingNotificationIDsBaseCase):
    insert_num = 2000


class TestPostgresApplicationRecorder(PostgresSchema, ApplicationRecorderTestCase):
    pass


class TestPostgresTrackingRecorder(PostgresSchema, TrackingRecorderTestCase):
    pass


class TestPostgresProcessRecorder(PostgresSchema, ProcessRecorderTestCase):
    pass


class TestPostgresNonInterleaving(PostgresSchema, NonInterleavingNotificationIDsBaseCase):
    insert_num = 200


del ApplicationRecorderTestCase, TrackingRecorderTestCase, ProcessRecorderTestCase
del NonInterleavingNotificationIDsBaseCase
