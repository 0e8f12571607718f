"""voxbook: booking backend for voice-AI receptionists.

One package, three layers; nothing imports upward:

* the floor -- ``voxbook.settings``, ``voxbook.db`` (calling the database API, LISTEN), ``voxbook.logs``,
  ``voxbook.migrate``, ``voxbook.pgcluster``;
* ``voxbook.api`` (the HTTP adapter) and ``voxbook.workers`` (the SMS worker), both over the floor;
* the roof: ``voxbook.cli`` and the commands it runs (``up``, ``doctor``, ``simulate``, ``dashboard_cli``).

The repository keeps the HTTP layer, the worker and the SQL in top-level folders (api/, workers/, db/);
the wheel puts them inside this package (voxbook/api, voxbook/workers, voxbook/sql: hatch_build.py). So
that ``voxbook.api`` and ``voxbook.workers`` name the same code in a checkout (and its editable install),
the checkout's root joins this package's search path. The top-level names ``api`` and ``workers`` are
never imported (their ``__init__`` refuses it): one module, one name.
"""

from pathlib import Path as _Path

_checkout = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "api").is_dir() and (_checkout / "api" / "__init__.py").is_file():
    __path__.append(str(_checkout))  # noqa: F821 - the package's own __path__
