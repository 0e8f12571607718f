"""voxbook's benchmarks (issue 7): see bench/README.md. Run them with ``voxbook bench`` or ``make bench``."""
