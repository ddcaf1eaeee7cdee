"""Benchmarks: run as modules (python -m bench.analytics) so they import the packages."""
