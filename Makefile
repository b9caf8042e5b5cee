# nubo — the two commands that matter: `make up` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Debian packages the tests need (OpenLDAP for the LDAP identity back end; qemu-img
# for image format inspection)
TEST_APT := slapd ldap-utils qemu-utils

.PHONY: up down status test lint unit functional conformance bench-identity bench-compute sys-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## up: install what is needed and start the all-in-one cloud in the background
up: $(STAMP)
	$(BIN)/nubo up

down: $(STAMP)
	$(BIN)/nubo down

status: $(STAMP)
	$(BIN)/nubo status

sys-deps:
	@missing=""; for p in $(TEST_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check nubo tests bench
	$(BIN)/mypy nubo

## test: install what is needed and run the whole suite (lint, types, unit, functional, integration)
test: $(STAMP) sys-deps lint
	$(BIN)/pytest -q -ra

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

functional: $(STAMP)
	$(BIN)/pytest -q -ra tests/functional

## conformance: Tempest's API tests against a fresh `nubo up`, per service with a list
conformance: $(STAMP)
	@set -e; for list in tests/conformance/*.txt; do \
	    bash tests/conformance/run.sh $$(basename $$list .txt); done

## bench-identity: nubo and the reference Keystone, same client, one run
bench-identity: $(STAMP)
	bash bench/identity/run.sh

## bench-compute: boots, deletes and server lists on 50 fake hosts (bench/compute/README.md)
bench-compute: $(STAMP)
	bash bench/compute/run.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
