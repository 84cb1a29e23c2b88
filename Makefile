# Two entry points: `make run` (a local federation with its console) and `make test`.
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ncen-node demo --data data

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(VENV)/bin/python bench/federation_bench.py
	$(VENV)/bin/python bench/render_bench.py
	$(VENV)/bin/python bench/import_bench.py

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
