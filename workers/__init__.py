"""Background workers for voxbook (outbox delivery). Imported as ``voxbook.workers``."""

if __name__ != "voxbook.workers":
    # Two names for one module would mean two copies of it.
    raise ImportError(f"import this package as voxbook.workers, not {__name__} (see voxbook/__init__.py)")
