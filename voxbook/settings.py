"""Runtime settings, read from the environment.

=================  =========  ==========================================================
Variable           Default    Meaning
=================  =========  ==========================================================
``DATABASE_URL``   (unset)    libpq URL of the voxbook database, e.g.
                              ``postgresql://user:pw@host:5432/voxbook`` or, for a Unix
                              socket, ``postgresql://postgres@/voxbook?host=/run/postgresql``
=================  =========  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        # An empty variable (e.g. `DATABASE_URL= voxbook ...`) means "not configured".
        return cls(database_url=env.get("DATABASE_URL") or None)
