# memc_load -- load gzipped installed-apps logs into memcached.
# `make` builds ./memc_load; `make test` installs what is missing, then runs
# the whole suite on the normal and the sanitizer build. See README.md.

VERSION    = 1.0.0
PREFIX    ?= /usr/local
DESTDIR   ?=
PKG_CONFIG ?= pkg-config
PROTOC_C  ?= protoc-c
PYTHON    ?= /usr/bin/python3
PKGS       = zlib libmemcached libprotobuf-c

BUILD     ?= build
BIN       ?= memc_load
GEN        = $(BUILD)/gen
OBJ        = $(BUILD)/obj
# Made from completion/memc_load.in, never committed.
COMPLETION = $(BUILD)/completion/memc_load

CFLAGS    ?= -O2 -g
WARNINGS   = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla
# Evaluated when a recipe runs, so `make test` can install packages first.
# ISA-L inflates about twice as fast as zlib; it is used when present.
HAVE_ISAL  = $(shell $(PKG_CONFIG) --exists libisal && echo yes)
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
             $(if $(HAVE_ISAL),-DHAVE_ISAL $(shell $(PKG_CONFIG) --cflags libisal))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS)) \
             $(if $(HAVE_ISAL),$(shell $(PKG_CONFIG) --libs libisal))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DMEMC_LOAD_VERSION='"$(VERSION)"' \
             -Isrc -I$(GEN) $(PKG_CFLAGS) $(WARNINGS) $(CFLAGS)
LIBS       = $(PKG_LIBS) -lm

# The program's own files at the top of src/; its libraries in folders of
# their own: mc/ (the memcached client), line/ (the line codec), gz/ (gzip
# to lines), keys/ (which keys a file must re-send, so the newest file's
# record of a key wins). Every list below follows the folders.
SRCS       = $(wildcard src/*.c src/*/*.c)
HDRS       = $(wildcard src/*.h src/*/*.h)
PROTO_OBJ  = $(OBJ)/appsinstalled.pb-c.o
OBJS       = $(SRCS:src/%.c=$(OBJ)/%.o) $(PROTO_OBJ)
LIB_OBJS   = $(filter-out $(OBJ)/main.o,$(OBJS))

UNIT_SRCS  = $(wildcard tests/unit/test_*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

SAN_FLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all

.PHONY: all deps test check unit e2e asan-check demo bench install uninstall clean

all: $(BIN) $(COMPLETION)

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

# The bash completion: its template with the options of the table in
# src/options.c, which the binary just built prints (--list-options). So
# the build runs what it built: no cross-compiling.
$(COMPLETION): completion/memc_load.in scripts/completion.sh $(BIN)
	@mkdir -p $(dir $@)
	scripts/completion.sh $(abspath $(BIN)) completion/memc_load.in >$@.tmp
	mv $@.tmp $@

# protoc-c output is generated here, never committed. One run writes both
# files: a grouped target (&:), so make -j never runs protoc-c twice at once.
$(GEN)/appsinstalled.pb-c.c $(GEN)/appsinstalled.pb-c.h &: proto/appsinstalled.proto
	@mkdir -p $(GEN)
	$(PROTOC_C) --proto_path=proto --c_out=$(GEN) proto/appsinstalled.proto

$(PROTO_OBJ): $(GEN)/appsinstalled.pb-c.c
	@mkdir -p $(OBJ)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/%.o: src/%.c $(GEN)/appsinstalled.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit -DFIXTURES='"tests/fixtures"' -o $@ $< \
		$(filter $(TEST_PEER) $(TEST_REF),$^) $(LIB_OBJS) $(LDFLAGS) $(LIBS) -lcmocka

# The scripted server behind the tests of connection code (tests/unit/peer.h).
TEST_PEER  = $(BUILD)/testobj/peer.o
$(BUILD)/tests/test_pipeline $(BUILD)/tests/test_verify $(BUILD)/tests/test_conn: $(TEST_PEER) tests/unit/peer.h

$(TEST_PEER): tests/unit/peer.c tests/unit/peer.h
	@mkdir -p $(BUILD)/testobj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The line parser as it was, the reference of test_encode and the fuzzer.
TEST_REF   = $(BUILD)/testobj/record_ref.o
$(BUILD)/tests/test_encode: $(TEST_REF) tests/unit/record_ref.h

$(TEST_REF): tests/unit/record_ref.c tests/unit/record_ref.h src/line/record.h
	@mkdir -p $(BUILD)/testobj
	$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

-include $(OBJS:.o=.d)

# Install what the build and the tests need (Debian packages), if missing.
deps:
	@scripts/deps.sh

# The README's test command: everything, on a fresh machine too: the unit
# and end-to-end suites on the normal and the sanitizer build, the linters,
# and a bounded fuzzing run.
test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory asan-check
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	@$(MAKE) --no-print-directory deb-test

TEST_FUZZ_SECONDS ?= 30

check: unit e2e

# Every unit binary runs, so one failure does not hide the others. The
# parser's tests run again on its portable kernel (see src/line/simd.h).
SIMD_NONE_TESTS = test_record test_pack test_encode
unit: $(UNIT_BINS)
	@failed=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || failed=1; done; \
	for t in $(SIMD_NONE_TESTS); do echo "== MEMC_LOAD_SIMD=none $(BUILD)/tests/$$t"; \
		MEMC_LOAD_SIMD=none $(BUILD)/tests/$$t || failed=1; done; exit $$failed

e2e: $(BIN) $(COMPLETION)
	MEMC_LOAD=$(abspath $(BIN)) MEMC_LOAD_COMPLETION=$(abspath $(COMPLETION)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

# The same suite against an AddressSanitizer + UndefinedBehaviorSanitizer build.
asan-check:
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/memc_load \
		CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" check

# The README's first command: load the sample data into local memcached.
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh ./$(BIN)

# Speed against the serial version, on generated data; see README.md.
bench: deps
	@$(MAKE) --no-print-directory all
	$(PYTHON) scripts/bench --binary ./$(BIN) $(BENCH_ARGS)

# bash-completion 2 looks for completions/memc_load under each of
# XDG_DATA_DIRS (/usr/local/share:/usr/share), on the first Tab after memc_load.
COMPLETIONSDIR = $(PREFIX)/share/bash-completion/completions

install: $(BIN) $(COMPLETION)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(COMPLETIONSDIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/memc_load
	install -m 644 man/memc_load.1 $(DESTDIR)$(PREFIX)/share/man/man1/memc_load.1
	install -m 644 $(COMPLETION) $(DESTDIR)$(COMPLETIONSDIR)/memc_load

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/memc_load $(DESTDIR)$(PREFIX)/share/man/man1/memc_load.1 \
		$(DESTDIR)$(COMPLETIONSDIR)/memc_load

clean:
	rm -rf build $(BIN)

# ---- fuzz: libFuzzer over the line parser and the reply matching (tests/fuzz/README) ----
# `make fuzz` runs each target over a copy of its committed seed corpus
# (build/fuzz/corpus-run and corpus-replies-run, which keep growing until
# `make clean`) for a share of FUZZ_SECONDS, two thirds to the line parser,
# and fails on any crash, leaving the input in build/fuzz/artifacts/. Needs
# clang with compiler-rt (Debian: clang libclang-rt-14-dev).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_BIN      = $(FUZZ_DIR)/fuzz_record
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -Isrc -Itests/unit -I$(GEN) \
                $(shell $(PKG_CONFIG) --cflags libprotobuf-c) $(WARNINGS) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -g -O1
# The line codec whole, and the wire format its records go out in.
FUZZ_SRCS     = tests/fuzz/fuzz_record.c $(wildcard src/line/*.c) src/mc/mcproto.c \
                tests/unit/record_ref.c $(GEN)/appsinstalled.pb-c.c
FUZZ_HDRS     = $(wildcard src/line/*.h) src/mc/mcproto.h src/errkind.h tests/unit/record_ref.h
FUZZ_REPLIES_BIN  = $(FUZZ_DIR)/fuzz_replies
# The memcached client's pure parts: the wire format, the window, the acks.
FUZZ_REPLIES_SRCS = tests/fuzz/fuzz_replies.c src/mc/mcproto.c src/mc/window.c src/mc/acks.c src/log.c
FUZZ_REPLIES_SECONDS = $(shell echo $$(( ($(FUZZ_SECONDS) + 2) / 3 )))
FUZZ_RECORD_SECONDS  = $(shell echo $$(( $(FUZZ_SECONDS) * 2 / 3 > 0 ? $(FUZZ_SECONDS) * 2 / 3 : 1 )))

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_BIN) $(FUZZ_REPLIES_BIN)

$(FUZZ_BIN): $(FUZZ_SRCS) $(FUZZ_HDRS) $(GEN)/appsinstalled.pb-c.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) \
		$(shell $(PKG_CONFIG) --libs libprotobuf-c) -lm

$(FUZZ_REPLIES_BIN): $(FUZZ_REPLIES_SRCS) src/mc/mcproto.h src/mc/window.h src/mc/acks.h src/log.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_REPLIES_SRCS)

# $(call fuzz_run,BINARY,SECONDS,CORPUS,RUN-CORPUS,DICTIONARY,LOG): one
# bounded run, summed up in a line, or the crash shown.
define fuzz_run
	@mkdir -p $(4) $(FUZZ_DIR)/artifacts
	@cp $(3)/* $(4)/
	@echo "fuzz: $(1) for $(2) s, log in $(6)"
	@if $(1) -max_total_time=$(2) -max_len=16384 -timeout=10 -print_final_stats=1 \
		-dict=$(5) -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(4) >$(6) 2>&1; then \
		awk '/ cov: /{cov=$$0} /number_of_executed_units/{runs=$$2} \
		/average_exec_per_sec/{eps=$$2} END{sub(/.*cov: /,"",cov); \
		split(cov,c," "); printf "fuzz: ok, %s runs, %s exec/s, cov %s ft %s corpus %s\n", \
		runs, eps, c[1], c[3], c[5]}' $(6); \
	else \
		tail -n 40 $(6); \
		echo "fuzz: FAILED, input in $(FUZZ_DIR)/artifacts/, log in $(6)"; \
		exit 1; \
	fi
endef

fuzz: $(FUZZ_BIN) $(FUZZ_REPLIES_BIN)
	$(call fuzz_run,$(FUZZ_BIN),$(FUZZ_RECORD_SECONDS),tests/fuzz/corpus,$(FUZZ_DIR)/corpus-run,tests/fuzz/record.dict,$(FUZZ_DIR)/fuzz.log)
	$(call fuzz_run,$(FUZZ_REPLIES_BIN),$(FUZZ_REPLIES_SECONDS),tests/fuzz/corpus-replies,$(FUZZ_DIR)/corpus-replies-run,tests/fuzz/replies.dict,$(FUZZ_DIR)/fuzz-replies.log)
# ---- end fuzz ----

# ---- lint: cppcheck, clang-tidy (.clang-tidy), gcc -fanalyzer, file size ----
# Each must report nothing; all of them run, so one pass shows every finding.
# A source file over MAX_SRC_LINES is doing more than one job: split it.
# clang-tidy gets one file per process: LLVM 14's valist checker reports a
# false "uninitialized va_list" in any file after the first (LLVM #40656).
# The analyzer runs at -O0: at -O2 GCC deletes an unused leaked malloc()
# before the analyzer sees it.
# cppcheck reads no system headers, so it is given the compiler's and
# protobuf-c's values of the few macros that src/ and the generated header
# test: without them that header's #error would skip pack.c silently.
# Findings in generated code are not ours to fix.
MAX_SRC_LINES = 350
CPPCHECK    ?= cppcheck
CLANG_TIDY  ?= clang-tidy
LINT_MACROS  = $(shell $(CC) $(PKG_CFLAGS) -dM -E -include protobuf-c/protobuf-c.h - </dev/null | \
               sed -n 's/^.define \(__BYTE_ORDER__\|__ORDER_[A-Z]*_ENDIAN__\|PROTOBUF_C_VERSION_NUMBER\|PROTOBUF_C_MIN_COMPILER_VERSION\) \(.*\)$$/-D\1=\2/p')
CPPCHECK_FLAGS = --quiet --std=c11 --library=posix --enable=warning,style,performance,portability \
               --error-exitcode=1 --inline-suppr --suppress=missingIncludeSystem \
               --suppress='*:$(GEN)/*' -Isrc -I$(GEN) -D_GNU_SOURCE \
               $(if $(HAVE_ISAL),-DHAVE_ISAL) $(LINT_MACROS)

.PHONY: lint
lint: $(GEN)/appsinstalled.pb-c.h
	@failed=0; \
	echo "lint: cppcheck src/"; \
	$(CPPCHECK) $(CPPCHECK_FLAGS) src || failed=1; \
	echo "lint: clang-tidy src/*.c"; \
	for f in $(SRCS); do \
		out=$$($(CLANG_TIDY) --quiet $$f -- $(ALL_CFLAGS) 2>&1) || failed=1; \
		printf '%s\n' "$$out" | grep -v -e '^[0-9]* warnings\? generated\.$$' -e '^$$'; \
	done; \
	echo "lint: gcc -fanalyzer src/*.c"; \
	for f in $(SRCS); do $(CC) $(ALL_CFLAGS) -O0 -fanalyzer -c -o /dev/null $$f || failed=1; done; \
	echo "lint: no file in src/ over $(MAX_SRC_LINES) lines"; \
	for f in $(SRCS) $(HDRS); do n=$$(wc -l < $$f); \
		if [ $$n -gt $(MAX_SRC_LINES) ]; then echo "$$f: $$n lines"; failed=1; fi; done; \
	exit $$failed
# ---- end lint ----

# ---- deb: the Debian package (debian/), built by dpkg-buildpackage ----
# `make deb` builds the source and binary packages in a copy of this tree
# (all of it but .git, build/, ./memc_load and results/) under
# build/deb/src: the package's clean step then leaves this tree's build
# alone, and nothing is written beside the tree, where dpkg-buildpackage
# puts its output. The .deb (memc-load_VERSION_ARCH.deb), its -dbgsym, the
# source package, .buildinfo and .changes end up in build/deb/.
# `make deb-test` checks them (tests/package): files, maintainer scripts,
# the installed binary, lintian, systemd-analyze verify.
DEB_OUT  = build/deb
DEB_SRC  = $(DEB_OUT)/src/memc-load-$(VERSION)

.PHONY: deb deb-test
deb:
	rm -rf $(DEB_OUT)
	mkdir -p $(DEB_SRC)
	tar -cf - --anchored --exclude=./.git --exclude=./build --exclude=./memc_load \
		--exclude=./results . | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc
	find $(DEB_OUT)/src -maxdepth 1 -type f -exec mv -t $(DEB_OUT) {} +
	rm -rf $(DEB_OUT)/src
	@ls -1 $(DEB_OUT)

deb-test: deb
	MEMC_LOAD_DEB_DIR=$(abspath $(DEB_OUT)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/package
# ---- end deb ----
