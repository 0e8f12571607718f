"""voxbook's benchmarks (issue 7): see bench/README.md. Run them with ``python -m bench`` or ``make bench`` (not shipped in the wheel: a checkout only)."""
