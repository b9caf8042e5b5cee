# nubo — the two commands that matter: `make up` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Debian packages of the real data plane (`make up` and `make test`): the Linux bridge
# network agent (iproute2, dnsmasq's binary only and its dhcp_release, nftables,
# iptables), the libvirt
# compute driver (libvirtd, started by the compute agent, no systemd needed; QEMU;
# qemu-img; genisoimage for config drives; what libvirt-python builds against) and
# the guest image nubo builds (a FAT boot disk with syslinux)
RUN_APT := iproute2 dnsmasq-base dnsmasq-utils nftables iptables qemu-utils qemu-system-x86 genisoimage \
	libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dev \
	pkg-config gcc dosfstools mtools syslinux syslinux-common openssh-client
# and what only the tests need: OpenLDAP for the LDAP identity back end; ping, socat
# and busybox's udhcpc for the data-plane tests
TEST_APT := $(RUN_APT) slapd ldap-utils iputils-ping socat busybox-static
# `make up DATA_PLANE=fake` starts without guests (nubo up --data-plane, docs/compute.md)
DATA_PLANE ?= auto
# libvirt-python (the [libvirt] extra) builds from source once libvirt-dev is there
LIBVIRT_STAMP := $(VENV)/.libvirt-installed

.PHONY: up down status test lint unit functional conformance bench-identity bench-compute bench-dataplane bench-network sys-deps run-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## up: install what is needed and start the all-in-one cloud in the background, with
## real guests and networks when this machine can run them (else fake, saying why)
up: $(STAMP)
	@if [ "$(DATA_PLANE)" != fake ]; then $(MAKE) --no-print-directory $(LIBVIRT_STAMP) || \
	  echo "make up: the data plane's packages could not be installed"; fi
	$(BIN)/nubo up --data-plane $(DATA_PLANE)

down: $(STAMP)
	$(BIN)/nubo down

status: $(STAMP)
	$(BIN)/nubo status

# installs the Debian packages of $(1) that are missing (as root, or through sudo)
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

sys-deps:
	$(call apt_install,$(TEST_APT))

run-deps:
	$(call apt_install,$(RUN_APT))

$(LIBVIRT_STAMP): $(STAMP) pyproject.toml | run-deps
	$(BIN)/pip install -q -e '.[libvirt]'
	touch $(LIBVIRT_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check nubo tests bench
	$(BIN)/mypy nubo

## test: install what is needed and run the whole suite (lint, types, unit, functional, integration)
test: $(STAMP) sys-deps $(LIBVIRT_STAMP) lint
	$(BIN)/pytest -q -ra --durations=25

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

## bench-network: networking API creates at concurrency 1 and 16 (bench/network/README.md)
bench-network: $(STAMP)
	bash bench/network/run.sh

## bench-dataplane: server create to ssh via floating IP, against bare QEMU (as root)
bench-dataplane: $(LIBVIRT_STAMP)
	bash bench/dataplane/run.sh

## bench-compute: boots, deletes and server lists on 50 fake hosts (bench/compute/README.md)
bench-compute: $(STAMP)
	bash bench/compute/run.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
