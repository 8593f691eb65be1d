"""The append-only, hash-chained audit log (SEC-1, SEC-2)."""
