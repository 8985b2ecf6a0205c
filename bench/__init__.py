"""Benchmarks: each `bench/NAME_bench.py` has a `main()` that prints a table. Not tests."""
