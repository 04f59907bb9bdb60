"""Benchmarks: a synthetic-clinic generator and a runner that compares Between with the raw
store in the same run (see docs/performance.md)."""
