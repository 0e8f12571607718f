"""HTTP API (Litestar) for voxbook: thin handlers over the PL/pgSQL `api` schema."""
