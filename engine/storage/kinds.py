"""Each kind of store's backend: ``backend_for(store)``, and the dispatcher's lease through it.

A ``Store`` is only an address; its backend (``engine.storage.sqlite`` or
``engine.storage.postgres``) is imported on first use, so a SQLite store never pays for psycopg.
The backends know the address; the address knows no backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from between.engine.storage.backend import Backend
    from between.engine.storage.lease import Lease
    from between.engine.storage.store import Store

__all__ = ["backend_for", "lease_for"]


def backend_for(store: Store) -> Backend:
    """What this kind of store does its own way (its module imported on first use)."""
    if store.is_sqlite:
        from between.engine.storage.sqlite import BACKEND

        return BACKEND
    from between.engine.storage.postgres import BACKEND as POSTGRES

    return POSTGRES


def lease_for(store: Store, seconds: float | None = None) -> Lease:
    """The dispatcher's lease on this store (its backend's kind of lease), ``seconds`` long
    (``lease.DEFAULT_LEASE_SECONDS`` unless given; imported here only, as readers take none)."""
    from between.engine.storage.lease import DEFAULT_LEASE_SECONDS

    return backend_for(store).lease(store, DEFAULT_LEASE_SECONDS if seconds is None else seconds)
