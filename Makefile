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

SRCS       = $(wildcard src/*.c)
PROTO_OBJ  = $(OBJ)/appsinstalled.pb-c.o
OBJS       = $(SRCS:src/%.c=$(OBJ)/%.o) $(PROTO_OBJ)
LIB_OBJS   = $(filter-out $(OBJ)/main.o,$(OBJS))

UNIT_SRCS  = $(wildcard tests/unit/test_*.c)
UNIT_BINS  = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

SAN_FLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all

.PHONY: all deps test check unit e2e asan-check demo bench install uninstall clean

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

# protoc-c output is generated here, never committed.
$(GEN)/appsinstalled.pb-c.c $(GEN)/appsinstalled.pb-c.h: proto/appsinstalled.proto
	@mkdir -p $(GEN)
	$(PROTOC_C) --proto_path=proto --c_out=$(GEN) proto/appsinstalled.proto

$(PROTO_OBJ): $(GEN)/appsinstalled.pb-c.c
	@mkdir -p $(OBJ)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/%.o: src/%.c $(GEN)/appsinstalled.pb-c.h
	@mkdir -p $(OBJ)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit -DFIXTURES='"tests/fixtures"' -o $@ $< $(LIB_OBJS) \
		$(LDFLAGS) $(LIBS) -lcmocka

-include $(OBJS:.o=.d)

# Install what the build and the tests need (Debian packages), if missing.
deps:
	@scripts/deps.sh

# The README's test command: everything, on a fresh machine too.
test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory asan-check

check: unit e2e

# Every unit binary runs, so one failure does not hide the others.
unit: $(UNIT_BINS)
	@failed=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || failed=1; done; exit $$failed

e2e: $(BIN)
	MEMC_LOAD=$(abspath $(BIN)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

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
	$(PYTHON) scripts/bench.py --binary ./$(BIN) $(BENCH_ARGS)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/memc_load
	install -m 644 man/memc_load.1 $(DESTDIR)$(PREFIX)/share/man/man1/memc_load.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/memc_load $(DESTDIR)$(PREFIX)/share/man/man1/memc_load.1

clean:
	rm -rf build $(BIN)
