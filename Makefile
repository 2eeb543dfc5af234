# multiarch-controller: build, tests, checks and the local sandbox.
#
#   make              build bin/multiarch-controller and the kubectl plugin bin/kubectl-mab
#   make test         everything CI runs (installs missing tools when root)
#   make demo         the local end-to-end sandbox
#   make check        unit tests under valgrind
#   make lint         clang-tidy, cppcheck and the banned-call check
#   make bench        the benchmarks against peer tools (build/bench/)
#   make chaos        the chaos soak: 200 builds under kills, restarts and registry faults
#   make fuzz         every libFuzzer target for FUZZ_SECONDS each (make test: FUZZ_TEST_RUNS from a fixed seed)
#   make release VERSION=x.y.z   the controller image built by itself on the local cluster, and the release
#                                artifacts pinned to its digest (build/dist/x.y.z/, docs/release.md)
#   make cluster-up / cluster-down   the local test cluster and registry

# VERSION on the command line names a release (make release); what this tree builds is the VERSION file's
ifeq ($(origin VERSION),command line)
RELEASE_VERSION := $(VERSION)
override VERSION := $(shell cat VERSION)
else
VERSION := $(shell cat VERSION)
endif
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
export PATH := /usr/local/go/bin:$(PATH)

PKGS := libcurl yaml-0.1 libcjson libwebsockets libcrypto libssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SYS_LIBS := -lpthread -lm

CC ?= cc
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Wpointer-arith \
	-Wundef -Wnull-dereference -Wimplicit-fallthrough
# warnings are errors under CI and in `make test`
WERROR ?= $(if $(CI),-Werror,)
CPPFLAGS := -I. -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DMAC_VERSION='"$(VERSION)"' -DMAC_COMMIT='"$(GIT_COMMIT)"'
CFLAGS ?= -O2 -g
BASE_CFLAGS = -std=c17 $(WARNINGS) $(WERROR) $(PKG_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer

LIB_SRCS := $(sort $(wildcard util/*.c registry/*.c kube/*.c controller/*.c))
CMD_SRCS := $(sort $(wildcard cmd/*.c))
PLUGIN_SRCS := $(sort $(wildcard plugin/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
ALL_SRCS := $(LIB_SRCS) $(CMD_SRCS)

BIN := bin/multiarch-controller
# the kubectl plugin (kubectl mab) and the helper kubectl runs to complete its words
PLUGIN := bin/kubectl-mab
PLUGIN_COMPLETE := bin/kubectl_complete-mab
REL_OBJS := $(patsubst %.c,build/release/%.o,$(ALL_SRCS))
REL_LIB_OBJS := $(patsubst %.c,build/release/%.o,$(LIB_SRCS))
PLUGIN_OBJS := $(patsubst %.c,build/release/%.o,$(PLUGIN_SRCS))
ASAN_LIB_OBJS := $(patsubst %.c,build/asan/%.o,$(LIB_SRCS))
DBG_LIB_OBJS := $(patsubst %.c,build/debug/%.o,$(LIB_SRCS))
FUZZ_LIB_OBJS := $(patsubst %.c,build/fuzz/%.o,$(LIB_SRCS))
UNIT_ASAN := $(patsubst tests/unit/%.c,build/asan/tests/unit/%,$(UNIT_SRCS))
UNIT_DBG := $(patsubst tests/unit/%.c,build/debug/tests/unit/%,$(UNIT_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/tests/fuzz/%,$(FUZZ_SRCS))
# the integration tests' driver of kube/, built with the sanitizers
KUBE_PROBE := build/asan/tests/integration/kube-probe
# the benchmark's raw multiplexed writer (bench/capacity.sh), built like the controller
WRITE_CAPACITY := build/release/bench/write-capacity
# the controller for the integration tests: AddressSanitizer + UBSan, and ThreadSanitizer
ASAN_BIN := build/asan/bin/multiarch-controller
TSAN_BIN := build/tsan/bin/multiarch-controller
FUZZ_SECONDS ?= 20
FUZZ_TEST_RUNS ?= 50000
FUZZ_CC ?= clang

.SECONDARY:

.PHONY: release bench chaos manifests all deps test unit check lint fuzz demo demo-down cluster-up cluster-down tools integration cli-test clean

all: $(BIN) $(PLUGIN) $(PLUGIN_COMPLETE)

$(BIN): $(REL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

$(PLUGIN): $(PLUGIN_OBJS) $(REL_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

$(PLUGIN_COMPLETE): plugin/kubectl_complete-mab
	@mkdir -p $(@D)
	install -m 0755 $< $@

build/release/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) -MMD -MP -c $< -o $@

build/tsan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -O1 -g $(TSAN_FLAGS) -MMD -MP -c $< -o $@

$(ASAN_BIN): $(patsubst %.c,build/asan/%.o,$(ALL_SRCS))
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

$(TSAN_BIN): $(patsubst %.c,build/tsan/%.o,$(ALL_SRCS))
	@mkdir -p $(@D)
	$(CC) $(TSAN_FLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

build/debug/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -O0 -g -MMD -MP -c $< -o $@

build/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -MMD -MP -c $< -o $@

build/asan/tests/unit/%: build/asan/tests/unit/%.o $(ASAN_LIB_OBJS)
	$(CC) $(SAN_FLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -lcmocka -o $@

$(KUBE_PROBE): build/asan/tests/integration/kube_probe.o $(ASAN_LIB_OBJS)
	$(CC) $(SAN_FLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

$(WRITE_CAPACITY): build/release/bench/write_capacity.o $(REL_LIB_OBJS)
	$(CC) $(CFLAGS) $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

build/debug/tests/unit/%: build/debug/tests/unit/%.o $(DBG_LIB_OBJS)
	$(CC) $^ $(PKG_LIBS) $(SYS_LIBS) -lcmocka -o $@

build/fuzz/tests/fuzz/%: build/fuzz/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $^ $(PKG_LIBS) $(SYS_LIBS) -o $@

-include $(shell find build -type f -name '*.d' 2>/dev/null)

# Installs what the build and the tests need (Debian packages; Go tools are built by tools).
deps:
	@tests/env/install-deps.sh

# Builds the pinned control plane, kubectl and kwok from their Go modules (cached outside the repo).
tools: deps
	@tests/env/build-tools.sh >/dev/null

unit: $(UNIT_ASAN)
	@tests/unit/run.sh asan $(UNIT_ASAN)

check: $(UNIT_DBG)
	@tests/unit/run.sh valgrind $(UNIT_DBG)

lint:
	@tests/lint.sh $(CPPFLAGS) $(PKG_CFLAGS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh seconds $(FUZZ_SECONDS) $(FUZZ_BINS)

cli-test: $(BIN) $(PLUGIN) $(PLUGIN_COMPLETE)
	@tests/cli.sh $(BIN)

integration: $(BIN) $(ASAN_BIN) $(TSAN_BIN) $(KUBE_PROBE) tools
	@tests/integration/run.sh

# The benchmarks against peer tools (not part of make test); results in build/bench/.
bench: deps tools $(BIN) $(WRITE_CAPACITY)
	@bench/index.sh
	@gnuplot -e "dir='build/bench'" bench/index.gp
	@bench/scale.sh

# The chaos soak at full size on a cluster of its own; the figures go to build/results/chaos-report.md.
chaos: $(BIN) $(TSAN_BIN) tools
	@mkdir -p build/results
	@MAC_CHAOS_BUILDS=200 MAC_CHAOS_KILLS=60 MAC_CHAOS_DEADLINE=1800 MAC_CHAOS_REPORT=build/results/chaos-report.md \
		tests/integration/run.sh tests/integration/test_chaos.sh

# the compiles of each step run on every core (the steps, and the tests in them, still one after another)
JOBS ?= $(shell nproc)

test: deps
	@rm -rf build/results
	$(MAKE) --no-print-directory -j$(JOBS) WERROR=-Werror all
	$(MAKE) --no-print-directory -j$(JOBS) WERROR=-Werror unit
	$(MAKE) --no-print-directory -j$(JOBS) WERROR=-Werror check
	$(MAKE) --no-print-directory WERROR=-Werror lint
	$(MAKE) --no-print-directory -j$(JOBS) WERROR=-Werror $(FUZZ_BINS)
	@tests/fuzz/run.sh runs $(FUZZ_TEST_RUNS) $(FUZZ_BINS)
	$(MAKE) --no-print-directory cli-test
	$(MAKE) --no-print-directory -j$(JOBS) WERROR=-Werror $(BIN) $(ASAN_BIN) $(TSAN_BIN) $(KUBE_PROBE)
	$(MAKE) --no-print-directory integration
	@tests/summary.sh

# Regenerates deploy/crd.yaml and the rendered deploy/install.yaml from crds/ and deploy/*.yaml.
manifests: tools
	@tests/env/manifests.sh

cluster-up: tools
	@tests/env/cluster-up.sh

cluster-down:
	@tests/env/cluster-down.sh

demo: deps tools $(BIN)
	@tests/demo.sh

demo-down: cluster-down

release: deps tools $(BIN)
	@deploy/release.sh "$(RELEASE_VERSION)"

clean:
	rm -rf build bin
