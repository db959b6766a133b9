# Benchmarks: each prints its figures; the latest are kept in docs/performance.md with their command.
