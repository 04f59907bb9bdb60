"""Writing: the unit of work (load, decide, save with retry, idempotency, bulk; the only maker of
envelopes) and the commands on each aggregate."""
