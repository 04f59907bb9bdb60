"""The auditors' tools: reading the log, verifying the hash chain, replaying it to any moment."""
