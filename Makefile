# `make test` builds .venv, installs voxbook with its test extra, makes sure pgTAP is present,
# then runs pytest (which starts its own throwaway PostgreSQL). Extra pytest args: ARGS='-k foo'.
PYTHON ?= python3
VENV   ?= .venv
STAMP  := $(VENV)/.voxbook-installed
ARGS   ?=

.PHONY: test venv clean-venv

venv: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: '$(PYTHON) -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

# Re-install whenever pyproject.toml changes (new dependency, new entry point).
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

test: $(STAMP)
	scripts/ensure-pgtap
	$(VENV)/bin/pytest $(ARGS)

clean-venv:
	rm -rf $(VENV)
