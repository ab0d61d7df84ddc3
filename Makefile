# Quick start: `make run` and `make test`. Both set everything up on a fresh machine.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
LINKFLOW := $(VENV)/bin/linkflow

.PHONY: setup run test lint typecheck unit check generate bench clean graphviz postgresql

setup: $(STAMP) graphviz

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $(STAMP)

# Graphviz's `dot` draws the diagrams; install it from Debian when it is missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz 'dot' not found: installing it with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; }

# The store's tests start a throwaway PostgreSQL server: install its binaries when missing.
postgresql:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "PostgreSQL server binaries not found: installing them with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; }

# The demo: every method end to end on the demo world, with the identity dropdown after each step.
ENTRY := workflows/link_tiktok_account.yaml
DEMO  := $(LINKFLOW) run $(ENTRY) --world workflows/worlds/ads_manager_demo.yaml --watch dropdown \
         --data '{"actor": "ana", "business_center": "acme_brands", "ad_account": "acme_us", "campaign": "spring_sale"}' \
         -e click_link_tiktok_account

run: setup
	$(LINKFLOW) validate workflows examples
	$(LINKFLOW) render
	$(LINKFLOW) docs
	@echo; echo "== Link existing: select from your Business Center"
	@$(DEMO) -e choose_link_existing -e choose_select_from_business_center -e confirm \
	  -e select='{"tiktok_account": "acme_outlet"}' -e select='{"tiktok_account": "acme_kids"}' \
	  -e confirm -e refresh
	@echo; echo "== Link existing: log in to an existing TikTok account"
	@$(DEMO) -e choose_link_existing -e choose_log_in -e confirm \
	  -e log_in='{"username": "ana_cooks", "password": "open-sesame-42"}' -e approve -e refresh
	@echo; echo "== Link existing: link with QR code"
	@$(DEMO) -e choose_link_existing -e choose_qr_code -e confirm \
	  -e approve='{"tiktok_account": "mia_makes", "user": "mia"}' -e refresh
	@echo; echo "== Create new: organization-owned TikTok account"
	@$(DEMO) -e choose_create_new -e choose_organization_owned -e confirm \
	  -e create='{"nickname": "Acme Careers", "region": "Singapore", "username": "acme_careers"}' \
	  -e refresh
	@echo; echo "== Create new: sign up for a new TikTok account"
	@$(DEMO) -e choose_create_new -e choose_sign_up -e confirm \
	  -e sign_up='{"username": "acme_fresh", "nickname": "Acme Fresh", "password": "Fresh-Start-2026"}' \
	  -e approve -e refresh
	@LINKFLOW=$(LINKFLOW) sh examples/durable_demo.sh

lint: setup
	$(VENV)/bin/ruff check engine tests benchmarks
	$(VENV)/bin/ruff format --check engine tests benchmarks

typecheck: setup
	$(VENV)/bin/mypy

unit: setup postgresql
	$(VENV)/bin/pytest

# The definitions are valid, the committed diagrams and docs match them, the scenarios cover
# every transition and guard outcome and notice every mistake `mutate` makes (or it is justified).
check: setup
	$(LINKFLOW) validate workflows examples tests/scenarios
	$(LINKFLOW) render --check
	$(LINKFLOW) docs --check
	$(LINKFLOW) coverage tests/scenarios --fail-under 100
	$(LINKFLOW) mutate workflows --scenarios tests/scenarios --fail-under 100

# Regenerate the committed diagrams and docs after changing a workflow.
generate: setup
	$(LINKFLOW) render
	$(LINKFLOW) docs
	$(LINKFLOW) coverage examples/scenarios --diagrams examples/coverage

test: lint typecheck check unit

# Benchmarks: linkflow against raw transitions, python-statemachine, sismic and a dict machine.
bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
