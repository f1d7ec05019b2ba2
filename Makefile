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

# --no-compile: pip would byte-compile all ~13k files of the dependencies (~90 s, half the install), most of which
# no run imports (transformers' hundreds of other models, torch's compiler stack). The tests and the demo run with
# bytecode writing on instead, so that each module is compiled once, by the first process that imports it, and read
# from its .pyc by every later one (r1jax's own modules too; each test subprocess saves ~0.7 s), whatever
# PYTHONDONTWRITEBYTECODE says in the calling shell. The .pyc files land in .venv/ and in __pycache__/ folders that
# git ignores.
$(STAMP): pyproject.toml requirements/ci-constraints.txt | $(PY)
	$(PY) -m pip install --quiet --no-compile -c requirements/ci-constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m experiments.r1_tiny --workdir $(DEMO_DIR)

clean:
	rm -rf $(VENV) runs .pytest_cache
