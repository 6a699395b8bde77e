"""Batch experiments: designs over scenarios and parameters, executed in lockstep chunks, stored as Parquet,
compared with fan charts and statistics (see experiments/README.md)."""
