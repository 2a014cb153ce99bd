# The two commands of the README, and a few more. PRESET picks the build:
# default (g++), clang, asan (g++ with ASan+UBSan), sanitize (clang with
# ASan+UBSan and the fuzz targets), tsan.
PRESET ?= default
BUILD_DIR := $(if $(filter default,$(PRESET)),build,build-$(PRESET))
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test conform deb unit integration clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake --preset $(PRESET)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build --preset $(PRESET) -j $(JOBS)

# The whole suite: labels unit, integration, conformance, property, fidelity,
# sweep, fuzz-replay, report; with PRESET=sanitize (clang, ASan, UBSan, the
# fuzz targets in the same tree) also the fuzz smoke, each libFuzzer target
# ~6 s. `.ci/run` is `make test` then `make test PRESET=sanitize`.
test: build
	ctest --preset $(PRESET)
	$(if $(filter sanitize,$(PRESET)),$(MAKE) fuzz-smoke)

# The conformance report for the reference implementation. Builds only what
# the run needs (netconform, and through its dependencies netutil-adapter,
# libnetfault.so, netutil-trace, libnetutil_quiet_gai.so), not the test
# suite: a fresh clone gets its first verdicts in minutes (README, Install).
conform: deps configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target netconform
	$(BUILD_DIR)/bin/netconform run

# The Debian package of the install (cmake/Package.cmake): builds only what is
# installed, then CPack writes $(BUILD_DIR)/packages/netutil-harness_VERSION_ARCH.deb.
deb: deps configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target netutil_install_targets
	cd $(BUILD_DIR) && cpack

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

# The conformance matrix of the ten implementations (reference, Tornado,
# asyncio, socket.create_server, trio, Twisted, Node, Go, libuv, Rust), each in
# both profiles, in the mode its ctest uses, plus external adapters:
# make report ADAPTERS='--adapter "python3 my_adapter.py" --adapter ./other'.
# $(BUILD_DIR)/report/index.html (columns named by each implementation's hello
# and the profile, with wall times), index.json, JUnit and TAP per run
# (scripts/make-report.sh, from scripts/conformance_results.py's table). Failing
# cases do not stop it; a run that crashed, hung or wrote nothing keeps a column
# that says so, and makes it exit 1. Not part of CI (minutes: 20 runs).
ADAPTERS ?=
.PHONY: report
report: deps configure
	scripts/make-report.sh $(BUILD_DIR) $(ADAPTERS)

# Fuzz smoke test (scripts/fuzz-smoke.sh): builds the fuzz targets of the
# sanitize preset and runs every target FUZZ_SMOKE_SECONDS (default 6) on a
# scratch copy of its corpus, two at a time; fails on a crash, leak or timeout. Without clang and
# libFuzzer it prints SKIPPED and passes. Part of `make test PRESET=sanitize`.
FUZZ_SMOKE_SECONDS ?= 6
.PHONY: fuzz-smoke
fuzz-smoke: deps
	FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) scripts/fuzz-smoke.sh

# Continuous fuzzing (tools/fuzz-continuous): FUZZ_BUDGET seconds (default
# 3600) shared by all targets, -fork=FUZZ_FORK (default nproc); merges new
# inputs into fuzz/corpus/, saves minimized crashes with their reports in
# fuzz/regressions/.
FUZZ_BUDGET ?= 3600
FUZZ_FORK ?= $(shell nproc)
.PHONY: fuzz-continuous
fuzz-continuous: deps
	tools/fuzz-continuous -t $(FUZZ_BUDGET) -j $(FUZZ_FORK)

# Seeds recorded from the tests (fuzz/corpus_recorder.cc: the FakeKernel
# scenarios and their single faults, the conformance cases), merged into
# fuzz/corpus/ where they add coverage (scripts/fuzz-corpus.sh).
.PHONY: fuzz-corpus
fuzz-corpus: deps
	scripts/fuzz-corpus.sh

# Mutation testing (scripts/mutate.py): each realistic bug of tests/mutation/mutants.json is
# applied, one at a time, to a scratch copy of the tree (build/mutate/tree, incremental between
# runs); netconform (--mode fake and inprocess), the unit, property and fuzz-replay tests are
# run against it. Prints which detector caught each mutant and the total time; exits 1 when a
# mutant escapes the conformance catalog. Not part of CI (tens of minutes); ctest
# Mutation.CatalogIsValid keeps the catalog from going stale. MUTATE_ARGS: e.g.
# --only ID,ID  --detectors conformance-fake,conformance-process  --markdown FILE.
MUTATE_ARGS ?=
.PHONY: mutate
mutate: deps
	scripts/mutate.py --jobs $(JOBS) $(MUTATE_ARGS)

# The attack table of docs/RESULTS.md (scripts/attack_table.py): runs the
# ctest tests behind every row of tests/attacks.json and rewrites that section.
.PHONY: attacks
attacks: build
	scripts/attack_table.py $(BUILD_DIR) --write docs/RESULTS.md

# Runs every standalone reproduction of docs/FINDINGS.md and compares what each prints
# with its .out: the Python ones (findings/<impl>/F-*.py, the Debian python3 with its
# tornado, trio and twisted; strace and unshare for some) with scripts/check_findings.py
# --run, the native ones (Go, Node, libuv, Rust: 32 programs, 22 to 29 s of CPU, mostly
# go build and rustc) with scripts/run_findings_native.sh. Not in
# `make test`: the 63 reproductions take about 21 s of CPU, run two at a time (measured:
# 173 s of wall time on a 2-core machine at load 20, most of it waiting for a CPU; the
# Twisted imports are the heaviest). FINDINGS_UPDATE=1 rewrites the .out files.
.PHONY: findings
findings:
	scripts/check_findings.py --run $(if $(FINDINGS_UPDATE),--update)
	scripts/run_findings_native.sh $(if $(FINDINGS_UPDATE),--update)
