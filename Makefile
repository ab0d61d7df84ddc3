# Quick start: `make run` and `make test`. Both set everything up on a fresh machine.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
LINKFLOW := $(VENV)/bin/linkflow

.PHONY: setup run test lint typecheck unit bench clean graphviz

setup: $(STAMP) graphviz

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Graphviz's `dot` draws the diagrams; install it from Debian when it is missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz 'dot' not found: installing it with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; }

run: setup
	$(LINKFLOW) validate workflows examples
	$(LINKFLOW) run examples/document_review.yaml --world examples/document_world.yaml \
	  --data '{"document": "handbook"}' \
	  --event submit --event approve='{"reviewer": "ben", "code": "4711"}'

lint: setup
	$(VENV)/bin/ruff check engine tests benchmarks
	$(VENV)/bin/ruff format --check engine tests benchmarks

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(VENV)/bin/pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
