# `make test` builds .venv, installs voxbook with its test extra, makes sure pgTAP, Chromium and Citus are
# present, then runs pytest (which starts its own throwaway PostgreSQL, and for tests/citus/ a throwaway
# Citus cluster). Extra pytest args: ARGS='-k foo'.
PYTHON ?= python3
VENV   ?= .venv
STAMP  := $(VENV)/.voxbook-installed
ARGS   ?=

.PHONY: test venv clean-venv run simulate-call bench bench-quick

venv: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PYTHON) -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

# Re-install whenever pyproject.toml changes (new dependency, new entry point).
$(STAMP): pyproject.toml hatch_build.py | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

test: $(STAMP)
	scripts/ensure-pgtap
	scripts/ensure-browser
	scripts/ensure-citus
	$(VENV)/bin/pytest $(ARGS)

# The whole product locally: private PostgreSQL in .voxbook/, API on :8000, SMS worker. Ctrl-C stops it.
run: $(STAMP)
	$(VENV)/bin/voxbook up $(ARGS)

# Plays a whole Vapi call against `make run` (in another terminal).
simulate-call: $(STAMP)
	$(VENV)/bin/voxbook simulate-call $(ARGS)

# The six benchmarks of bench/README.md on a throwaway PostgreSQL (fsync on), < 10 minutes; updates the
# README's table and bench/results/. `make bench-quick` runs each one tiny, in seconds.
bench: $(STAMP)
	$(VENV)/bin/python -m bench $(ARGS)

bench-quick: $(STAMP)
	$(VENV)/bin/python -m bench --quick $(ARGS)

clean-venv:
	rm -rf $(VENV)
