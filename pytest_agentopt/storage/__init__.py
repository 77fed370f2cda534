"""The on-disk formats of a run: the append-only trial ledger and its records, the manifest, the run lock, strict
JSON reading, and which records count."""
