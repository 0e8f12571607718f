"""Tests on a real Citus cluster (conftest.py). A package, so that its conftest is not the module `conftest`
that the other test files import helpers from."""
