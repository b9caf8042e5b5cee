# nubo — the two commands that matter: `make up` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Debian packages the tests need (OpenLDAP for the LDAP identity back end; qemu-img
# for image format inspection)
TEST_APT := slapd ldap-utils qemu-utils
# the Linux bridge network data plane and its end-to-end tests: dnsmasq (the binary
# only, no system service), nftables, iptables, ping, socat, busybox's udhcpc
TEST_APT += iproute2 dnsmasq-base nftables iptables iputils-ping socat busybox-static
# the guest image (nubo guest-image build: a FAT boot disk with syslinux) and its
# end-to-end boot test (QEMU, a config drive ISO, ssh into the guest)
TEST_APT += dosfstools mtools syslinux syslinux-common qemu-system-x86 genisoimage openssh-client
# the libvirt compute driver and its end-to-end tests: libvirtd (started by the compute
# agent, no systemd needed) and what libvirt-python builds against (QEMU, qemu-img and
# genisoimage for config drives are above)
TEST_APT += libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dev \
	pkg-config gcc
# libvirt-python (the [libvirt] extra) builds from source once libvirt-dev is there
LIBVIRT_STAMP := $(VENV)/.libvirt-installed

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

$(LIBVIRT_STAMP): $(STAMP) pyproject.toml | sys-deps
	$(BIN)/pip install -q -e '.[libvirt]'
	touch $(LIBVIRT_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check nubo tests bench
	$(BIN)/mypy nubo

## test: install what is needed and run the whole suite (lint, types, unit, functional, integration)
test: $(STAMP) sys-deps $(LIBVIRT_STAMP) lint
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
