# ccmgr — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UI := app/ui
UI_DEPS := $(UI)/node_modules/.ci-done
UI_BUILT := app/ccmgr/webui/index.html
UI_SOURCES := $(shell find $(UI)/src -type f 2>/dev/null) $(UI)/index.html $(UI)/vite.config.ts $(UI)/tsconfig.json

.PHONY: help venv host-deps lint test test-fast demo demo-stop wheel deb lab-up lab-down lab-status lab-ssh clean

help:
	@echo "make demo   - bring up the demo deployment"
	@echo "make test   - create .venv, install everything, lint, run the whole suite"

$(STAMP): requirements/runtime.txt requirements/dev.txt pyproject.toml app/sim/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e . -e app/sim
	touch $(STAMP)

venv: $(STAMP) $(UI_BUILT)

# The web dashboard (app/ui, docs/ui.md): npm ci when the lock changes, a build into
# app/ccmgr/webui/ when a source changes (index.html is the build's own stamp).
$(UI_DEPS): $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_BUILT): $(UI_DEPS) $(UI_SOURCES)
	cd $(UI) && npx vite build --logLevel warn

# OS packages the tests and the lab need (Debian); a no-op when all are present.
host-deps:
	@bash tools/host-deps.sh

lint: venv
	$(VENV)/bin/ruff check .
	cd $(UI) && npx eslint . && npx tsc --noEmit

test: venv host-deps lint
	cd $(UI) && npx vitest run
	$(VENV)/bin/pytest

test-fast: venv
	$(VENV)/bin/pytest -m "not lab and not slow"

demo: venv
	@bash tools/demo.sh

demo-stop:
	@bash tools/demo.sh stop

# Packages: the wheel and sdist, and the .deb with a bundled virtual environment.
wheel: venv
	bash packaging/build-wheel.sh

deb: venv
	bash packaging/build-deb.sh

# The multi-host lab (systemd-nspawn hosts on a private bridge); needs root.
lab-up: venv
	$(PY) lab/labctl.py up

lab-down:
	$(PYTHON) lab/labctl.py down

lab-status:
	$(PYTHON) lab/labctl.py status

lab-ssh:
	$(PYTHON) lab/labctl.py ssh $(HOST)

clean:
	rm -rf $(VENV) build dist demo $(UI)/node_modules app/ccmgr/webui

# haproxy/haproxy.cfg is the haproxy role's render (haproxy/render.yml); a test checks it.
.PHONY: haproxy-example
haproxy-example: venv
	ANSIBLE_CONFIG=ansible/ansible.cfg $(VENV)/bin/ansible-playbook -i lb1, haproxy/render.yml \
	    -e render_output=$(CURDIR)/haproxy/haproxy.cfg
