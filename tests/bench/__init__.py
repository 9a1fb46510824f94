"""Benchmarks against the peers, as ratios measured in one run: ``python -m tests.bench``.

Not part of the test run: modules here are named ``bench_*.py``. See README.md.
"""
