"""The benchmark (``make bench``): not a test suite; see README "Benchmark"."""
