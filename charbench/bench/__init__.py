"""Benchmarks: suites, the training runner, metrics, resource monitor and reports (imports torch lazily)."""
