# The two commands of the README, and a few more. PRESET picks the build:
# default (g++), clang, asan (g++ with ASan+UBSan).
PRESET ?= default
BUILD_DIR := $(if $(filter default,$(PRESET)),build,build-$(PRESET))
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test conform unit integration clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake --preset $(PRESET)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build --preset $(PRESET) -j $(JOBS)

# The whole suite: labels unit, integration, conformance.
test: build
	ctest --preset $(PRESET)

# The conformance report for the reference implementation.
conform: build
	$(BUILD_DIR)/bin/netconform run

unit: build
	ctest --preset $(PRESET) -L unit

integration: build
	ctest --preset $(PRESET) -L integration

clean:
	rm -rf build build-*

# Every fuzz target for FUZZ_SECONDS (default 60) each, on the fuzz preset (clang).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# Regenerates docs/RESULTS.md: benchmarks against the raw limit, Tornado and
# asyncio, load and fault figures, fuzz speed, suite time by label and the
# bad-input table, all measured in this one run (tools/bench/make_results.sh,
# which builds what it can: a target broken elsewhere does not stop the figures).
BENCH_FUZZ_SECONDS ?= 20
.PHONY: bench
bench: deps configure
	FUZZ_SECONDS=$(BENCH_FUZZ_SECONDS) tools/bench/make_results.sh $(BUILD_DIR)
