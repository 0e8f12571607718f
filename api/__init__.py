"""HTTP API (Litestar) for voxbook: thin handlers over the PL/pgSQL `api` schema. Imported as ``voxbook.api``."""

if __name__ != "voxbook.api":
    # Two names for one module would mean two copies of it (two ApiError classes, two caches).
    raise ImportError(f"import this package as voxbook.api, not {__name__} (see voxbook/__init__.py)")
