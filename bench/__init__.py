"""Benchmarks of the real app in production mode (`make bench`, `make bench-smoke`)."""
