"""Benchmarks: a synthetic-clinic generator and a runner that alternates each of Between's
figures with its baseline, run by run (see docs/performance.md)."""
