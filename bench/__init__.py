"""Benchmarks (run with ./dev bench) and their shared fixtures."""
