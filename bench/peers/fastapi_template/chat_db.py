"""The template's SQLite repository (db/init_db.py and db/chat_db.py).

As in the template, every call opens its own connection in a context
manager and commits before it returns: one transaction (and, in the default
rollback-journal mode, several fsyncs) per stored row.
"""

import json
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_key TEXT UNIQUE NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id);
"""


def _now():
    return datetime.now(timezone.utc).isoformat()


class ChatDB:
    def __init__(self, path, wal=False):
        self.path = path
        with self._connect() as conn:
            # WAL is a property of the file: set once, every later
            # connection uses it. synchronous stays at Python's default
            # (FULL), so a commit is durable in both modes, as in Parley.
            if wal:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    @contextmanager
    def _connect(self):
        conn = sqlite3.connect(self.path)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()

    def create_session(self):
        """Returns the new session's row id (the template's uuid is kept as
        its key; Parley's frames carry an integer)."""
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (session_key, created_at) VALUES (?, ?)",
                (str(uuid.uuid4()), _now()),
            )
            return cur.lastrowid

    def add_message(self, session_id, role, content):
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO messages (session_id, role, content, created_at) "
                "VALUES (?, ?, ?, ?)",
                (session_id, role, content, _now()),
            )
            return cur.lastrowid

    def add_event(self, session_id, event_type, payload):
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO events (session_id, event_type, payload, "
                "created_at) VALUES (?, ?, ?, ?)",
                (session_id, event_type, json.dumps(payload), _now()),
            )
