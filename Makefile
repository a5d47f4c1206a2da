# SPDX-License-Identifier: BSD-2-Clause
# perfbpf build: BPF objects and skeletons, the userspace binary, the demo engine and the tests.
# Quiet by default; V=1 shows commands. Build outputs go to $(OUT), never into the sources.

OUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
VERSION := 0.1.0

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

WARN := -Wall -Wextra -Werror
CFLAGS ?= -g -O2
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
# libFuzzer instrumentation (with CC=clang): coverage + AddressSanitizer + UndefinedBehaviorSanitizer
ifeq ($(SAN),fuzz)
CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP -DPERFBPF_VERSION='"$(VERSION)"' \
	-I. -Iinclude -I$(OUT)
LDLIBS := -lbpf -lelf -lz -ljson-c -lmicrohttpd -lgnutls -lcurl -lcrypto -lyaml -lcrypt -lcap -lm -lpthread

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Ivmlinux/$(ARCH) -Ibpf -Iinclude -idirafter /usr/include/$(shell uname -m)-linux-gnu

# --- BPF objects and skeletons ------------------------------------------------------------------
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

$(OUT)/%.tmp.bpf.o: bpf/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/%.tmp.bpf.o: tools/bench/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- userspace ----------------------------------------------------------------------------------
# The pure stages (no libbpf, no network): what the unit tests and fuzzers link.
CORE_SRCS := $(wildcard user/lib/*.c user/model/*.c user/aggregate/*.c user/gate/*.c) \
	$(filter-out user/attach/usdt_multi.c,$(wildcard user/attach/*.c)) user/collect/record.c \
	user/collect/batch_decoder.c user/collect/tsc_clock.c $(wildcard exporters/report/*.c exporters/events/*.c exporters/trace/*.c) exporters/prometheus/prometheus.c \
	exporters/prometheus/web_config.c \
	exporters/otlp/otlp_span.c exporters/otlp/otlp_proto.c exporters/otlp/otlp_json.c \
	exporters/otlp/otlp_config.c exporters/otlp/otlp_sampler.c exporters/otlp/otlp_grpc.c \
	exporters/otlp/otlp_resource.c exporters/otlp/otlp_metrics.c
# The commands and what talks to the kernel (libbpf), libcurl or libmicrohttpd.
CLI_SRCS := $(wildcard user/cli/*.c user/cmd/*.c) user/collect/tracer.c user/collect/tracer_attach.c \
	user/collect/tracer_counters.c user/collect/khist_reader.c user/collect/ring_consumer.c \
	user/collect/consumer_yield.c \
	user/attach/usdt_multi.c \
	exporters/prometheus/metrics_server.c exporters/otlp/otlp_trace.c \
	exporters/otlp/otlp_exporter.c
CORE_OBJS := $(patsubst %.c,$(OUT)/%.o,$(CORE_SRCS)) $(OUT)/exporters/report/html/assets.o
CLI_OBJS := $(patsubst %.c,$(OUT)/%.o,$(CLI_SRCS))

$(OUT)/user/collect/tracer.o $(OUT)/user/collect/tracer_attach.o \
	$(OUT)/user/collect/tracer_counters.o $(OUT)/user/collect/khist_reader.o: $(BPF_SKELS)

$(OUT)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The HTML report's assets, built in (exporters/report/html/assets.S): Chart.js from Debian's
# libjs-chart.js (tools/install-deps.sh), the page's own script and style
CHARTJS := /usr/share/javascript/chart.js/chart.min.js
HTML_ASSETS := $(CHARTJS) exporters/report/html/report.js exporters/report/html/report.css
$(OUT)/exporters/report/html/assets.o: exporters/report/html/assets.S $(HTML_ASSETS)
	$(call msg,AS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -c -DCHARTJS_FILE='"$(CHARTJS)"' \
		-DREPORT_JS_FILE='"exporters/report/html/report.js"' \
		-DREPORT_CSS_FILE='"exporters/report/html/report.css"' $< -o $@

$(OUT)/libperfbpf-core.a: $(CORE_OBJS) Makefile
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $(CORE_OBJS)

$(OUT)/perfbpf: $(CLI_OBJS) $(OUT)/libperfbpf-core.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- demo engine and test programs (built with the probe header as an engine would) -------------
ENGINE_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -MMD -MP -Iinclude

DEMO_SRCS := $(wildcard tools/demo/*.c)
$(OUT)/backtest: $(DEMO_SRCS) tools/demo/demo.h include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) -fPIE -pie $(DEMO_SRCS) -o $@ -lm -lpthread

# the demo with its span notes as per-event probe hits only (an ABI v3 object without a notes
# site, as the header built before notes were recorded in the buffer): the compatibility tests
$(OUT)/tests/backtest_notes_as_probes: $(DEMO_SRCS) tools/demo/demo.h include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENGINE_CFLAGS) -DPERFBPF_SPAN_NOTES_AS_PROBES -fPIE -pie $(DEMO_SRCS) -o $@ -lm \
		-lpthread

$(OUT)/ctxswitch: tools/bench/ctxswitch.c include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) $< -o $@ -lpthread

$(OUT)/probe_loop: tools/bench/probe_loop.c include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) $< -o $@ -lpthread

$(OUT)/tick_engine: tools/bench/tick_engine.c include/perfbpf/probe.h include/perfbpf/recorder.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) $< -o $@ -lpthread

# the same engine with the per-event probes only (the probe ABI before v3)
$(OUT)/tick_engine_v2: tools/bench/tick_engine.c include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) -DPERFBPF_PROBE_ABI_V2 $< -o $@ -lpthread

# a C++ engine: the header must build as C++ (clang++, with the warnings as errors)
$(OUT)/tests/cxx_target: tests/targets/cxx_target.cc include/perfbpf/probe.h include/perfbpf/recorder.h | $(OUT)
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang++ -std=c++17 -O2 -g -Wall -Wextra -Werror -Iinclude $< -o $@

# the same loop without probes (PERFBPF_DISABLE_PROBES): what a probe site costs when detached
$(OUT)/probe_loop_none: tools/bench/probe_loop.c include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) -DPERFBPF_DISABLE_PROBES $< -o $@ -lpthread

$(OUT)/many_sites: tools/bench/many_sites.c include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) $< -o $@

# the same loop with the plain 1-byte nop site (the probe-site study in `make bench`)
$(OUT)/probe_loop_nop1: tools/bench/probe_loop.c include/perfbpf/probe.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) -DPERFBPF_PROBE_SITE_NOP1 $< -o $@ -lpthread

# perfbpf's consumer alone (decoding and aggregation), in process
$(OUT)/consumer_cost: tools/bench/consumer_cost.c $(OUT)/libperfbpf-core.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(OUT)/libperfbpf-core.a $(LDLIBS) $(LDFLAGS) -o $@

# benchmark floor: an empty BPF program on the same probes, attached as perfbpf attaches
$(OUT)/floor: tools/bench/floor.c $(OUT)/floor.skel.h $(OUT)/user/attach/usdt_multi.o \
		$(OUT)/libperfbpf-core.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(OUT)/user/attach/usdt_multi.o $(OUT)/libperfbpf-core.a $(LDLIBS) \
		$(LDFLAGS) -o $@

$(OUT)/tests/libprobelib.so: tests/targets/probelib.c include/perfbpf/probe.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENGINE_CFLAGS) -fPIC -shared $< -o $@

# loaded by probe_target with dlopen() after perfbpf has attached
$(OUT)/tests/libprobelate.so: tests/targets/probelate.c include/perfbpf/probe.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENGINE_CFLAGS) -fPIC -shared $< -o $@

$(OUT)/tests/libprobelate2.so: tests/targets/probelate.c include/perfbpf/probe.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENGINE_CFLAGS) -DLATE_OP='"late.ox"' -fPIC -shared $< -o $@

$(OUT)/tests/probe_target: tests/targets/probe_target.c $(OUT)/tests/libprobelib.so \
		$(OUT)/tests/libprobelate.so $(OUT)/tests/libprobelate2.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(ENGINE_CFLAGS) -fPIE -pie $< -o $@ -L$(OUT)/tests -lprobelib \
		-Wl,-rpath,'$$ORIGIN' -lpthread -ldl

$(OUT)/tests/noprobe_target: tests/targets/noprobe_target.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ENGINE_CFLAGS) $< -o $@

# --- bindings ------------------------------------------------------------------------------------
# perfbpf's Python package, importable with PYTHONPATH=$(OUT)/bindings/python: the C extension
# (built against Debian's python3-dev, whichever python3 is first on PATH) and its modules
PYTHON_CONFIG ?= /usr/bin/python3-config
PY_EXT := $(shell $(PYTHON_CONFIG) --extension-suffix 2>/dev/null)
PY_INC := $(shell $(PYTHON_CONFIG) --includes 2>/dev/null)
PY_PKG := $(OUT)/bindings/python/perfbpf
# never sanitized: the module is loaded into an uninstrumented interpreter (SAN=1 too; the Node
# addon too)
PY_CFLAGS := -g -O2 $(WARN) -std=gnu11 -MMD -MP -Iinclude
PY_MODULES := $(patsubst bindings/python/perfbpf/%,$(PY_PKG)/%,$(wildcard bindings/python/perfbpf/*.py \
	bindings/python/perfbpf/_hook/*.py))
PY_BINDING := $(PY_PKG)/_perfbpf$(PY_EXT) $(PY_MODULES)

$(PY_PKG)/_perfbpf$(PY_EXT): bindings/python/perfbpf/_perfbpf.c include/perfbpf/probe.h \
		include/perfbpf/recorder.h include/perfbpf/record_abi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PY_CFLAGS) $(PY_INC) -fPIC -shared $< -o $@ -lpthread

$(PY_PKG)/%.py: bindings/python/perfbpf/%.py
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# perfbpf's Node package, loadable with require('$(OUT)/bindings/node'): the N-API addon (built
# against Debian's Node headers) and its JavaScript and TypeScript files
NODE_INC ?= /usr/include/node
NODE_PKG := $(OUT)/bindings/node
NODE_FILES := $(patsubst bindings/node/%,$(NODE_PKG)/%,$(wildcard bindings/node/*.js \
	bindings/node/*.d.ts bindings/node/package.json))
NODE_BINDING := $(NODE_PKG)/perfbpf.node $(NODE_FILES)

$(NODE_PKG)/perfbpf.node: bindings/node/perfbpf.c include/perfbpf/probe.h \
		include/perfbpf/recorder.h include/perfbpf/record_abi.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PY_CFLAGS) -I$(NODE_INC) -fPIC -shared $< -o $@ -lpthread

$(NODE_PKG)/%: bindings/node/%
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# --- tests --------------------------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(patsubst tests/integration/%.c,$(OUT)/tests/%,$(INTEG_SRCS))

$(OUT)/tests/test_%: tests/unit/test_%.c $(OUT)/libperfbpf-core.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(OUT)/libperfbpf-core.a -lcmocka -lelf -lz -ljson-c -lcrypto -lyaml -lcrypt -lcap -lm $(LDFLAGS) -o $@

TEST_HELPERS := tests/helpers/harness.c tests/helpers/otlp_receiver.c
$(OUT)/tests/test_%: tests/integration/test_%.c $(TEST_HELPERS) tests/helpers/harness.h \
		tests/helpers/otlp_receiver.h $(OUT)/libperfbpf-core.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/helpers $< $(TEST_HELPERS) \
		$(OUT)/libperfbpf-core.a -lcmocka -lelf -lz -ljson-c -lcrypto -lyaml -lcrypt -lcap -lm $(LDFLAGS) -o $@

# libFuzzer targets: one per parser of untrusted input (tests/fuzz/README.md)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(OUT)/libperfbpf-core.a
	$(call msg,FUZZER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $< $(OUT)/libperfbpf-core.a -lelf -lz -ljson-c -lm \
		$(LDFLAGS) -o $@

fuzzers: $(FUZZ_BINS)

TEST_PROGS := $(OUT)/tests/probe_target $(OUT)/tests/noprobe_target $(OUT)/backtest \
	$(OUT)/tests/backtest_notes_as_probes \
	$(OUT)/ctxswitch $(OUT)/probe_loop $(OUT)/probe_loop_nop1 $(OUT)/probe_loop_none $(OUT)/floor \
	$(OUT)/consumer_cost \
	$(OUT)/tick_engine $(OUT)/tick_engine_v2 $(OUT)/tests/cxx_target \
	$(OUT)/many_sites

$(OUT):
	$(Q)mkdir -p $@

.PHONY: all deps compile demo test unit unit-bins mutation layout integration asan valgrind bench clean vmlinux install \
	fuzz fuzzers fuzz-short

all: $(OUT)/perfbpf $(OUT)/backtest $(TEST_PROGS) $(UNIT_BINS) $(INTEG_BINS) $(PY_BINDING) $(NODE_BINDING)

deps:
	$(Q)tools/install-deps.sh

# deps first, then a fresh make so that the build sees what deps installed
compile: deps
	$(Q)$(MAKE) --no-print-directory all

demo: compile
	$(Q)tools/demo/run-demo.sh $(OUT)

# the unit tests alone (no BPF, no libbpf): what the mutation check rebuilds for every mutant
unit-bins: $(UNIT_BINS)

unit: all
	$(Q)tests/run-tests.sh $(OUT) unit

integration: all
	$(Q)tests/run-tests.sh $(OUT) integration

test: compile
	$(Q)tests/layout/check_deps.py --self-check
	$(Q)tests/run-tests.sh $(OUT) all
	$(Q)$(MAKE) --no-print-directory mutation
	$(Q)$(MAKE) --no-print-directory fuzz-short

# The dependency rule of the layout (tests/layout/check_deps.py; README "How the code is laid out")
layout:
	$(Q)tests/layout/check_deps.py --self-check

# Every mutant of tests/mutation/mutants.txt must fail a unit test (a scratch copy is mutated and
# rebuilt for each); the planted survivor must be reported as one. Prints the table.
mutation:
	$(Q)tests/mutation/check.py --self-check tests/mutation/planted.txt

# Every fuzzer over its corpus (tests/fuzz/corpus) and FUZZ_SECONDS of new inputs; `make fuzz`
# runs longer and merges what it finds into the corpus kept in the repository.
FUZZ_BUILD := $(MAKE) --no-print-directory OUT=build-fuzz CC=$(CLANG) SAN=fuzz fuzzers
fuzz-short:
	$(Q)$(FUZZ_BUILD)
	$(Q)tests/run-fuzz.sh build-fuzz $(or $(FUZZ_SECONDS),10)

fuzz: deps
	$(Q)$(FUZZ_BUILD)
	$(Q)tests/run-fuzz.sh build-fuzz $(or $(FUZZ_SECONDS),300) --merge

# AddressSanitizer + UndefinedBehaviorSanitizer build of the userspace code, with every test.
asan: deps
	$(Q)$(MAKE) --no-print-directory OUT=build-asan SAN=1 all
	$(Q)tests/run-tests.sh build-asan all

# Benchmarks (root); writes docs/BENCHMARKS.md. Not part of `make test`.
bench:
	$(Q)tools/install-deps.sh --bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/bench/run.sh $(OUT)

valgrind: compile
	$(Q)tests/run-valgrind.sh $(OUT)

# perfbpf, the probe header and the perfbpf-monitor systemd service (root; PREFIX=/usr/local)
install: all
	$(Q)tools/install.sh $(OUT) $(or $(PREFIX),/usr/local)

vmlinux:
	$(Q)tools/gen-vmlinux.sh $(ARCH)

clean:
	$(Q)rm -rf build build-asan build-fuzz

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
