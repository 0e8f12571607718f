"""Build hook: the wheel holds one package, ``voxbook``, with the repository's other folders inside it.

The repository keeps the HTTP layer, the worker and the SQL in top-level folders (api/, workers/, db/);
an installed voxbook has them as voxbook/api, voxbook/workers and voxbook/sql, and no top-level ``api``
or ``workers`` module. Only for the real wheel: the editable install (``pip install -e .``, `make`) puts
the checkout on sys.path instead, where voxbook/__init__.py finds the folders in place -- copies of them
in site-packages would only go stale.
"""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# db/ whole: migrations/, functions/, citus/ (the distribution step on a Citus coordinator) and seed/.
MAPPED = {"api": "voxbook/api", "workers": "voxbook/workers", "db": "voxbook/sql"}


class VoxbookLayout(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"].update(MAPPED)
