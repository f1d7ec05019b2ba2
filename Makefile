# Two commands on a fresh machine with only python3:
#   make test   -> creates .venv/, installs r1jax[test], runs the test suite
#   make demo   -> creates .venv/, runs the main job
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.r1jax-installed
PYTEST_ARGS ?= -n 2 --dist loadgroup
DEMO_DIR ?= runs/demo

.PHONY: test demo install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml requirements/ci-constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c requirements/ci-constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) -m experiments.r1_tiny --workdir $(DEMO_DIR)

clean:
	rm -rf $(VENV) runs .pytest_cache
