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
