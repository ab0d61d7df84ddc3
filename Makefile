# Quick start: `make run` and `make test`. Both set everything up on a fresh machine.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# Schemathesis checks the API from its document (tests/service/test_schemathesis.py); it lives in
# a venv of its own, as constraints-schemathesis.txt explains.
ST_VENV  := .venv-schemathesis
ST_STAMP := $(ST_VENV)/.installed
LINKFLOW := $(VENV)/bin/linkflow

.PHONY: xstate setup run test check-fast lint typecheck unit unit-fast check generate docs bench fuzz clean graphviz chromium postgresql studio mutation-audit audit-tools

setup: $(STAMP) $(ST_STAMP) graphviz chromium xstate

# Every extra, the test, benchmark and docs tools; pip prints each package as it goes (a fresh
# machine takes a few minutes here).
$(STAMP): pyproject.toml constraints.txt
	@echo "== Installing linkflow[all] with its test, benchmark and docs tools into $(VENV)"
	python3 -m venv $(VENV)
	$(PY) -m pip install --progress-bar off -c constraints.txt -e '.[all,test,bench,docs]'
	touch $(STAMP)

$(ST_STAMP): constraints-schemathesis.txt
	@echo "== Installing Schemathesis into $(ST_VENV)"
	python3 -m venv $(ST_VENV)
	$(ST_VENV)/bin/python -m pip install --progress-bar off -r constraints-schemathesis.txt
	touch $(ST_STAMP)

# Graphviz's `dot` draws the diagrams; install it from Debian when it is missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Graphviz 'dot' not found: installing it with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; }

# XState v5 from npm, for the differential test of the XState export (tests/test_interop_xstate.py):
# `npm ci` installs exactly interop/xstate/package-lock.json; Node.js and npm come from Debian
# when missing.
XSTATE_STAMP := interop/xstate/node_modules/.installed
xstate: $(XSTATE_STAMP)

$(XSTATE_STAMP): interop/xstate/package.json interop/xstate/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm not found: installing Debian's nodejs and npm with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	cd interop/xstate && npm ci --no-audit --no-fund
	touch $(XSTATE_STAMP)

# Debian's Chromium runs the studio's browser tests (Playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Chromium not found: installing Debian's chromium with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The browser tests and the screenshots use this Chromium.
CHROMIUM = LINKFLOW_CHROMIUM="$${LINKFLOW_CHROMIUM:-$$(command -v chromium)}"

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
	@$(DEMO) -e choose_link_existing -e choose_select_from_business_center \
	  -e select='{"tiktok_account": "acme_outlet"}' -e select='{"tiktok_account": "acme_kids"}' \
	  -e confirm -e refresh
	@echo; echo "== Link existing: log in to an existing TikTok account"
	@$(DEMO) -e choose_link_existing -e choose_log_in -e confirm \
	  -e log_in='{"username": "ana_cooks", "password": "open-sesame-42"}' -e approve -e refresh
	@echo; echo "== Link existing: link with QR code"
	@$(DEMO) -e choose_link_existing -e choose_qr_code -e confirm \
	  -e approve='{"tiktok_account": "mia_makes", "user": "mia"}' -e refresh
	@echo; echo "== Create new: organization-owned TikTok account"
	@$(DEMO) -e choose_create_new -e choose_create_option='{"option": "organization_owned"}' -e confirm \
	  -e create='{"nickname": "Acme Careers", "region": "Singapore", "username": "acme_careers"}' \
	  -e refresh
	@echo; echo "== Create new: sign up for a new TikTok account"
	@$(DEMO) -e choose_create_new -e choose_create_option='{"option": "sign_up"}' -e confirm \
	  -e sign_up='{"username": "acme_fresh", "nickname": "Acme Fresh", "password": "Fresh-Start-2026"}' \
	  -e approve -e refresh
	@LINKFLOW=$(LINKFLOW) sh examples/durable_demo.sh

# The studio on the demo world: open the http://127.0.0.1:8765/?token=... URL it prints.
studio: setup
	$(LINKFLOW) studio workflows --world workflows/worlds/ads_manager_demo.yaml \
	  --data '{"actor": "ana", "business_center": "acme_brands", "ad_account": "acme_us", "campaign": "spring_sale"}'

lint: setup
	$(VENV)/bin/ruff check engine tests benchmarks mutation-audit docs_site
	$(VENV)/bin/ruff format --check engine tests benchmarks mutation-audit docs_site

typecheck: setup
	$(VENV)/bin/mypy

# Every test, on every core (pytest-xdist; each test is safe in parallel: temp dirs, free ports,
# one throwaway PostgreSQL cluster per worker). The slowest start first (worksteal balances).
unit: setup postgresql
	$(CHROMIUM) $(VENV)/bin/pytest -n auto --dist worksteal

# The inner loop: no servers, browsers, PostgreSQL or process storms (tests marked `slow`).
unit-fast: setup
	$(VENV)/bin/pytest -n auto --dist worksteal -m "not slow"

# The README's diagram of the example workflow.
EXAMPLE_DIAGRAM := examples/document_review.yaml --view reader --file-types svg --out examples/diagrams

# The definitions are valid, the committed diagrams and docs match them, the scenarios cover
# every transition and guard outcome and notice every mistake `mutate` makes (or it is justified).
check: setup
	$(LINKFLOW) validate workflows examples tests/scenarios
	$(LINKFLOW) render --check
	$(LINKFLOW) render $(EXAMPLE_DIAGRAM) --check
	$(LINKFLOW) docs --check
	$(LINKFLOW) coverage tests/scenarios --fail-under 100
	$(LINKFLOW) mutate workflows --scenarios tests/scenarios --fail-under 100

# Regenerate the committed diagrams and docs after changing a workflow; docs_site/generate.py
# writes the reference pages (CLI, language, HTTP API, Python API) after a change to the
# command line, the schemas, the service's routes or linkflow.__all__.
generate: setup
	$(LINKFLOW) render
	$(LINKFLOW) render $(EXAMPLE_DIAGRAM)
	$(LINKFLOW) docs
	$(PY) docs_site/generate.py
	$(LINKFLOW) coverage examples/scenarios examples/supplier_order/scenarios --diagrams examples/coverage
	$(CHROMIUM) $(PY) -m tests.studio_browser docs/screenshots

# The docs site, built strictly (a broken link, a missing page or a bad API reference fails)
# into site/ (git-ignored); open site/index.html. mkdocs.yml lists the pages.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site

test: lint typecheck check docs unit

# Lint, types and the fast tests: under a minute, for the edit-test loop. `make test` is CI's.
check-fast: lint typecheck unit-fast

# A long fuzz run (tests/fuzz and the property tests, hypothesis profile `fuzz`: random seeds,
# many more cases); `make test` runs a bounded one. FUZZ_MUTATIONS and FUZZ_GENERATED resize it.
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest tests/fuzz tests/test_properties.py -s -p no:cacheprovider

# Benchmarks: linkflow against raw transitions, python-statemachine, sismic and a dict machine;
# the durable figures against bare commits and django-fsm-2 on SQLite and on a throwaway
# PostgreSQL cluster (fsync on), whose binaries `postgresql` installs.
bench: setup postgresql
	$(PY) -m benchmarks
	$(PY) -m benchmarks.readme_table

# Mutation testing of the engine itself (issue 23): the runtime, the store, the service's access
# check and the scenario runner, against their fast unit tests. Slow (a few thousand mutants), so
# not part of `make test`. Writes mutation-audit/REPORT.md: per-module kill rates and every
# survivor as file:line and the mutation. Sample with MUTATION_ARGS, e.g. "--every 3" or
# "--max-per-module 40 --seed 23"; the full set is the default.
# Tool: mutmut 3, not cosmic-ray 8 (both tried on runtime/choices.py): mutmut mutates a copy
# (under mutation-audit/work/, git-ignored; engine/ is never written), where cosmic-ray rewrites
# the module in place and an interrupted run leaves it mutated; and mutmut runs only the tests
# that reach the mutated function, forked from a warm pytest, where cosmic-ray starts the whole
# test command per mutant (about 5 s each here). mutmut knows only a src/ layout, so the audit
# stages the checkout with engine/ as src/; the reasons in full: mutation-audit/audit.py.
# Low priority and two workers: the machine is shared.
MUTATION_ARGS ?=
audit-tools: setup
	$(PY) -m pip install --progress-bar off -c constraints.txt -e '.[audit]'

mutation-audit: audit-tools
	nice -n 15 $(PY) mutation-audit/audit.py --restage --max-children 2 $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) $(ST_VENV) .pytest_cache .mypy_cache .ruff_cache mutation-audit/work site \
	  interop/xstate/node_modules
