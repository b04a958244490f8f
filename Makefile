# Two commands: `make run` (set up and start ELEx on the shipped results) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The local CPU build of torch lies in /opt/wheels on our machines; elsewhere pip uses the index.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
HOST ?= 127.0.0.1
PORT ?= 8050
RESULTS ?= results

.PHONY: run test setup bench grid clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(FIND_LINKS) -r requirements.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) elex.py --results $(RESULTS) --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/merge_throughput.py
	$(PY) bench/rating_speed.py
	$(PY) bench/monitoring_overhead.py
	$(PY) bench/label_speed.py
	$(PY) bench/elex_scale.py

grid: setup
	$(PY) scripts/run_grid.py

clean:
	rm -rf $(VENV) .pytest_cache
