# Courier — build, test, sanitizers, fuzz, bench.
# Build variants live in their own folders (build/release, build/asan, build/tsan) so objects
# never mix. Each room is a static library; tests are one CUnit runner per room.

SAN     ?=
ifeq ($(SAN),asan)
BUILD   ?= build/asan
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),tsan)
BUILD   ?= build/tsan
SANFLAGS = -O1 -g -fsanitize=thread
else
BUILD   ?= build/release
SANFLAGS = -O2 -g
endif

CC      ?= gcc
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wimplicit-fallthrough -Wconversion
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) -MMD -MP -I. -I$(BUILD)/gen
LDFLAGS += $(SANFLAGS)
LIBS     = -lpthread -lm
# The RecordBatch codecs (protocol/kw_compress.c): gzip, lz4, zstd through pkg-config; snappy
# has no .pc file in Debian.
COMPRESS_LIBS = $(shell pkg-config --libs zlib liblz4 libzstd 2>/dev/null || echo -lz -llz4 -lzstd) -lsnappy
LIBS    += $(COMPRESS_LIBS)

PKGS_LIBS = $(shell pkg-config --libs libcjson ncursesw 2>/dev/null || echo -lcjson -lncursesw)
CUNIT     = -lcunit
RDKAFKA   = $(shell pkg-config --libs rdkafka 2>/dev/null || echo -lrdkafka)

PROTO_SRC = $(wildcard protocol/*.c)
PROD_SRC  = $(wildcard producer/*.c)
MB_SRC    = $(wildcard mockbroker/*.c)
SIM_SRC   = $(filter-out sim/main.c,$(wildcard sim/*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBKW = $(BUILD)/libkw.a
LIBKP = $(BUILD)/libkp.a
LIBMB = $(BUILD)/libmb.a
LIBSIM = $(BUILD)/libsim.a
COURIER = $(BUILD)/courier

ROOMS = protocol producer mockbroker sim
RUNNERS = $(foreach r,$(ROOMS),$(BUILD)/tests/$(r)_tests)

# No built-in rules: they would try to 'remake' the .d dependency files.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
.SECONDARY:
%.d: ;

.PHONY: all test demo asan tsan deps clean format lint fuzz fuzz-smoke bench \
        man install uninstall dist version-header labs-check recordings docs-numbers docs-captures \
        test-build $(foreach r,$(ROOMS),test-$(r))

all: $(COURIER) courier


# --- version: `git describe` at build time, or the VERSION file of a source tarball (make
# dist writes it). The generated header changes only when the version or PREFIX does.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell cat VERSION 2>/dev/null || git describe --tags --dirty 2>/dev/null || \
             { c=$$(git rev-list --count HEAD 2>/dev/null) && h=$$(git rev-parse --short HEAD) && \
               d=$$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty) && echo "0.0-$$c-g$$h$$d"; } || \
             echo unknown)
VERSION_H = $(BUILD)/gen/courier_version.h

version-header:
	@mkdir -p $(BUILD)/gen
	@printf '#define COURIER_VERSION "%s"\n#define COURIER_DATADIR "%s"\n' \
	  '$(VERSION)' '$(PREFIX)/share/courier' > $(VERSION_H).tmp
	@cmp -s $(VERSION_H).tmp $(VERSION_H) || mv $(VERSION_H).tmp $(VERSION_H); rm -f $(VERSION_H).tmp
$(VERSION_H): version-header
$(BUILD)/sim/version.o $(BUILD)/sim/labs.o: $(VERSION_H)

# ./courier is a link to the release binary, so README commands stay short.
courier: $(COURIER)
	@if [ "$(BUILD)" = build/release ]; then ln -sf $(COURIER) courier; fi

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBKW): $(call obj,$(PROTO_SRC))
$(LIBKP): $(call obj,$(PROD_SRC))
$(LIBMB): $(call obj,$(MB_SRC))
$(LIBSIM): $(call obj,$(SIM_SRC))
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(COURIER): $(call obj,sim/main.c) $(LIBSIM) $(LIBKP) $(LIBMB) $(LIBKW)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGS_LIBS) $(LIBS)

# --- tests: tests/test_<room>_<topic>.c each define `void suite_<room>_<topic>(void)`;
# the registry of a room's runner is generated from the file names.
TEST_SRC = $(wildcard tests/test_*.c)
room_tests = $(wildcard tests/test_$(1)_*.c)
TESTLIB_SRC = tests/runner.c tests/tu.c

$(BUILD)/tests/reg_%.c: $(wildcard tests/test_*.c) Makefile
	@mkdir -p $(dir $@)
	@{ for f in $(call room_tests,$*); do n=$$(basename $$f .c); n=$${n#test_}; \
	     echo "void suite_$$n(void);"; done; \
	   echo "void tu_register_all(void);"; echo "void tu_register_all(void) {"; \
	   for f in $(call room_tests,$*); do n=$$(basename $$f .c); n=$${n#test_}; \
	     echo "    suite_$$n();"; done; echo "}"; } > $@.tmp && \
	  (cmp -s $@.tmp $@ || mv $@.tmp $@); rm -f $@.tmp

$(BUILD)/tests/reg_%.o: $(BUILD)/tests/reg_%.c
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(BUILD)/tests/protocol_tests: $(call obj,$(call room_tests,protocol) $(TESTLIB_SRC)) \
		$(BUILD)/tests/reg_protocol.o $(LIBKW)
	$(CC) $(LDFLAGS) -o $@ $^ $(CUNIT) $(LIBS)
$(BUILD)/tests/producer_tests: $(call obj,$(call room_tests,producer) $(TESTLIB_SRC)) \
		$(BUILD)/tests/reg_producer.o $(LIBKP) $(LIBMB) $(LIBKW)
	$(CC) $(LDFLAGS) -o $@ $^ $(CUNIT) $(RDKAFKA) $(LIBS)
$(BUILD)/tests/mockbroker_tests: $(call obj,$(call room_tests,mockbroker) $(TESTLIB_SRC)) \
		$(BUILD)/tests/reg_mockbroker.o $(LIBMB) $(LIBKW) $(COURIER)
	$(CC) $(LDFLAGS) -o $@ $(filter-out $(COURIER),$^) $(CUNIT) $(RDKAFKA) $(LIBS)
$(BUILD)/tests/sim_tests: $(call obj,$(call room_tests,sim) $(TESTLIB_SRC)) \
		$(BUILD)/tests/reg_sim.o $(LIBSIM) $(LIBKP) $(LIBMB) $(LIBKW) $(COURIER)
	$(CC) $(LDFLAGS) -o $@ $(filter-out $(COURIER),$^) $(CUNIT) $(PKGS_LIBS) $(RDKAFKA) $(LIBS)

# One room's runner: `make test-protocol` (TEST=name runs one suite).
$(foreach r,$(ROOMS),test-$(r)): test-%: deps $(BUILD)/tests/%_tests
	COURIER=$(abspath $(COURIER)) $(BUILD)/tests/$*_tests $(TEST)

# The whole suite: every room's runner (sim's, the longest, beside the others: see
# tests/run-rooms.sh), then the fuzz smoke run. Fails if any test failed.
test: deps $(RUNNERS) $(COURIER) courier
	@COURIER=$(abspath $(COURIER)) sh tests/run-rooms.sh $(BUILD) "$(ROOMS)" $(TEST)
	@if [ -z "$(SAN)" ] && [ -z "$(TEST)" ]; then $(MAKE) --no-print-directory fuzz-smoke; fi
	@echo "make test: all suites passed"

demo: deps $(COURIER) courier
	$(COURIER) demo

asan:
	$(MAKE) SAN=asan test
tsan:
	$(MAKE) SAN=tsan test

deps:
	@.ci/deps.sh

# --- man pages, generated by the program from its own option tables (courier --man CMD), so
# they cannot drift from --help; every command in sim_commands[] gets one.
MAN_DIR = $(BUILD)/man
man: $(COURIER)
	@mkdir -p $(MAN_DIR) && rm -f $(MAN_DIR)/*.1
	$(COURIER) --man > $(MAN_DIR)/courier.1
	@set -e; for c in $$($(COURIER) --commands); do \
	  echo "$(COURIER) --man $$c > $(MAN_DIR)/courier-$$c.1"; \
	  $(COURIER) --man $$c > $(MAN_DIR)/courier-$$c.1; done

# --- install: PREFIX (default /usr/local) and DESTDIR (staging) as usual. The binary finds its
# scenarios next to itself (BIN/../share/courier), so a staged or moved tree works too.
BINDIR  = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/courier
MANDIR  = $(PREFIX)/share/man/man1
COMPDIR = $(PREFIX)/share/bash-completion/completions
DOCDIR  = $(PREFIX)/share/doc/courier

install: all man
	@test -n "$(PREFIX)" || { echo "make install: PREFIX is empty" >&2; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/scenarios/more $(DESTDIR)$(MANDIR) \
	  $(DESTDIR)$(COMPDIR) $(DESTDIR)$(DOCDIR)/docs
	install -m 755 $(COURIER) $(DESTDIR)$(BINDIR)/courier
	install -m 644 scenarios/*.json $(DESTDIR)$(DATADIR)/scenarios/
	install -m 644 scenarios/more/*.json $(DESTDIR)$(DATADIR)/scenarios/more/
	install -m 644 $(MAN_DIR)/*.1 $(DESTDIR)$(MANDIR)/
	install -m 644 completion/courier.bash $(DESTDIR)$(COMPDIR)/courier
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	@cd docs && find . -type f | while read -r f; do \
	  install -D -m 644 "$$f" "$(DESTDIR)$(DOCDIR)/docs/$$f" || exit 1; done

uninstall:
	@test -n "$(PREFIX)" || { echo "make uninstall: PREFIX is empty" >&2; exit 1; }
	rm -f $(DESTDIR)$(BINDIR)/courier $(DESTDIR)$(COMPDIR)/courier
	rm -f $(DESTDIR)$(MANDIR)/courier.1 $(DESTDIR)$(MANDIR)/courier-*.1
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

# --- dist: a source tarball of HEAD named with its version; its VERSION file stands in for
# git describe, so it builds and tests outside git.
DIST_VERSION = $(shell git describe --tags 2>/dev/null || \
                 echo "0.0-$$(git rev-list --count HEAD)-g$$(git rev-parse --short HEAD)")
dist:
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: needs a git checkout" >&2; exit 1; }
	@git diff --quiet HEAD -- || echo "make dist: note: uncommitted changes are not in the tarball" >&2
	@rm -rf build/dist && mkdir -p build/dist/courier-$(DIST_VERSION)
	git archive --format=tar --prefix=courier-$(DIST_VERSION)/ HEAD > build/dist/courier.tar
	echo "$(DIST_VERSION)" > build/dist/courier-$(DIST_VERSION)/VERSION
	tar -C build/dist -rf build/dist/courier.tar courier-$(DIST_VERSION)/VERSION
	gzip -9n < build/dist/courier.tar > courier-$(DIST_VERSION).tar.gz
	@rm -rf build/dist
	@echo "make dist: courier-$(DIST_VERSION).tar.gz"

# --- fuzzing: one libFuzzer target per decoder (tests/fuzz/fuzz_<name>.c), clang only.
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -I.
FUZZ_FLAGS = $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined
# The codec is compiled once (instrumented for the fuzzer, not linked with its main) and every
# target links it: one compile per source, not one per source and target.
FUZZ_LIB = build/fuzz/libkw_fuzz.a
FUZZ_LIB_OBJ = $(patsubst protocol/%.c,build/fuzz/obj/%.o,$(PROTO_SRC))

build/fuzz/obj/%.o: protocol/%.c $(wildcard protocol/*.h)
	@mkdir -p build/fuzz/obj
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(wildcard protocol/*.h tests/fuzz/*.h)
	@mkdir -p build/fuzz
	clang $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB) $(COMPRESS_LIBS)

fuzz: $(FUZZ_BIN)
	@echo "fuzz targets in build/fuzz/; run one: build/fuzz/fuzz_frame -max_total_time=60 tests/fuzz/corpus/frame"

# Everything `make test` runs, built (CI builds it with -j first: `make -j2 test-build`).
test-build: $(RUNNERS) $(COURIER) courier $(if $(SAN),,$(FUZZ_BIN))

# A short run of every fuzz target on its seed corpus: no crash, no leak, no UB.
fuzz-smoke: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); n=$${n#fuzz_}; \
	  mkdir -p build/fuzz/work-$$n; \
	  echo "fuzz smoke: $$n"; \
	  $$f -runs=20000 -max_len=4096 -seed=1 build/fuzz/work-$$n tests/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 \
	    || { tail -40 build/fuzz/$$n.log; exit 1; }; done

# --- benchmarks: bench/bench_<name>.c, each a program linked with every room and librdkafka;
# bench/run.sh runs them in one go and prints the ratios.
BENCH_SRC = $(wildcard bench/bench_*.c)
BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBSIM) $(LIBKP) $(LIBMB) $(LIBKW)
	$(CC) $(LDFLAGS) -o $@ $^ $(RDKAFKA) $(PKGS_LIBS) $(LIBS)

bench: deps $(COURIER) $(BENCH_BIN)
	@if [ -x bench/run.sh ]; then bench/run.sh $(BUILD); else echo "bench: not built yet"; exit 1; fi

# --- the labs of docs/labs/ (issue 19; the list is tests/labs/labs.txt). labs-check, not part of
# `make test`: LABS_RUNS (10) live headless runs of every lab and "Try this" variation at its
# page's speed, LABS_JOBS (2) at once, min / median / max of every number of the audit, then
# each recording checked against its page's ranges. LABS_WRITE=1: the runs are recorded, the
# pages' "From run to run" tables are written from them, and each lab's most typical run (the
# closest to the medians) becomes its shipped recording; follow with docs-numbers and
# docs-captures. recordings: one recorded run of each into scenarios/recordings/NAME.rec (rerun
# whenever the recording format or the view model changes: tests/test_sim_labs.c says so);
# docs-numbers: the pages' audit blocks and prose figures (<!-- lab:NAME EXPR -->) from the
# recordings; docs-captures: the screen captures of tests/labs/captures.txt (tmux). jq and
# tmux come with .ci/deps.sh.
LABS_RUNS ?= 10
LABS_JOBS ?= 2
labs-check: $(COURIER)
	COURIER=$(abspath $(COURIER)) python3 tests/labs/labs.py check --runs $(LABS_RUNS) \
	    -j $(LABS_JOBS) $(if $(LABS_WRITE),--write) $(LABS)
recordings: $(COURIER)
	COURIER=$(abspath $(COURIER)) python3 tests/labs/labs.py recordings $(LABS)
docs-numbers: $(COURIER)
	COURIER=$(abspath $(COURIER)) python3 tests/labs/labs.py docs-numbers
docs-captures: $(COURIER)
	COURIER=$(abspath $(COURIER)) python3 tests/labs/labs.py captures

# --- soak: courier broker with retention under mixed load (SOAK_S seconds, default 1200);
# not part of make test. Samples go to soak.csv; see docs/performance.md.
SOAK_S ?= 1200
.PHONY: soak
soak: $(COURIER)
	OUT=soak.csv bench/soak.sh $(SOAK_S) $(COURIER)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --std=c11 -I. -D_GNU_SOURCE --suppress=missingIncludeSystem \
	  protocol producer mockbroker sim

clean:
	rm -rf build courier courier-*.tar.gz

-include $(shell find $(BUILD) -name "*.d" 2>/dev/null)
