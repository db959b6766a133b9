# Benchmarks: each prints its figures (bench.table runs them all into one table); the latest are in docs/performance.md.
