# qbitrr-sweep — plain Makefile.  `make`, `make check`, `make demo`,
# `make install PREFIX=/usr DESTDIR=...`, `make clean`.

PROG	 = qbitrr-sweep
VERSION	 = 0.1.0
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man

CC	?= cc
CFLAGS	?= -O2 -g
# The sanitizer build: -O1 as ASan advises; the unit tests' own sources at -O0,
# where their big case tables compile in a second instead of a minute.
SAN_OPT	?= -O1 -g
UNIT_OPT ?= -O0 -g
JOBS	?= $(shell nproc 2>/dev/null || echo 2)
WERROR	?= -Werror
WARNINGS = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wpointer-arith \
	   -Wundef -Wvla
PKGS	 = libcurl jansson sqlite3 libpcre2-8
# Read when a recipe runs, not when make starts: the targets below install
# pkg-config and the libraries first (tests/deps.sh), then build in a
# sub-make that sees them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -DQBITRR_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(ALL_CPPFLAGS) $(WARNINGS) $(PKG_CFLAGS) $(CFLAGS)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRCS = $(filter-out src/main.c,$(wildcard src/*.c))
REL_OBJS = $(LIB_SRCS:src/%.c=build/rel/%.o)
SAN_OBJS = $(LIB_SRCS:src/%.c=build/san/%.o)
HOOK_OBJS = $(LIB_SRCS:src/%.c=build/hooks/%.o)
# QBITRR_TEST_NOW and QBITRR_TEST_KILL_AT act only in these test builds.
TEST_HOOKS = -DQBITRR_TEST_HOOKS
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/san/%)

SUBMAKE	 = $(MAKE) --no-print-directory -j$(JOBS)

.PHONY: all check unit integration lint deps demo install uninstall clean fuzz bench valgrind \
	bench-reads bench-sessions soak \
	build-check build-unit

all: $(PROG)

$(PROG): build/rel/main.o build/rel/libqbitrr.a
	@test -n "$(PKG_LIBS)" || { echo "missing build dependencies: run 'make deps' (as root: installs them)" >&2; exit 1; }
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ build/rel/main.o build/rel/libqbitrr.a $(PKG_LIBS)

build/rel/libqbitrr.a: $(REL_OBJS)
	rm -f $@
	$(AR) rcs $@ $(REL_OBJS)

build/rel/%.o: src/%.c
	@mkdir -p build/rel
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The test build: same code under AddressSanitizer + UndefinedBehaviorSanitizer.
build/san/$(PROG): build/san/main.o build/san/libqbitrr.a
	$(CC) $(SAN_OPT) $(SANFLAGS) $(LDFLAGS) -o $@ build/san/main.o build/san/libqbitrr.a $(PKG_LIBS)

build/san/libqbitrr.a: $(SAN_OBJS)
	rm -f $@
	$(AR) rcs $@ $(SAN_OBJS)

build/san/%.o: src/%.c
	@mkdir -p build/san
	$(CC) $(ALL_CFLAGS) $(TEST_HOOKS) $(SAN_OPT) $(SANFLAGS) -MMD -MP -c -o $@ $<

# The release code with the test hooks, without sanitizers: for valgrind,
# the demo and the benchmark, which move the clock.  Never installed.
build/hooks/$(PROG): build/hooks/main.o build/hooks/libqbitrr.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ build/hooks/main.o build/hooks/libqbitrr.a $(PKG_LIBS)

build/hooks/libqbitrr.a: $(HOOK_OBJS)
	rm -f $@
	$(AR) rcs $@ $(HOOK_OBJS)

build/hooks/%.o: src/%.c
	@mkdir -p build/hooks
	$(CC) $(ALL_CFLAGS) $(TEST_HOOKS) -MMD -MP -c -o $@ $<

build/san/test_%: tests/unit/test_%.c tests/unit/unit.c tests/unit/unit.h build/san/libqbitrr.a
	$(CC) $(ALL_CFLAGS) $(UNIT_OPT) $(SANFLAGS) -Isrc -o $@ $< tests/unit/unit.c \
	    build/san/libqbitrr.a $(PKG_LIBS) -lcmocka

# Every target that runs something first installs what it needs (as root;
# otherwise it prints the apt-get line), then builds in a sub-make.
deps:
	@sh tests/deps.sh check

# Unit tests alone: quick, no servers, only the build libraries and cmocka.
unit:
	@sh tests/deps.sh unit
	@$(SUBMAKE) build-unit
	@sh tests/run-tests.sh unit $(UNIT_BINS)

build-unit: $(UNIT_BINS)

# Everything CI runs: lint, unit tests and the integration suite against
# real qbittorrent-nox instances, all with the sanitizer build.
check:
	@sh tests/deps.sh check
	@$(SUBMAKE) build-check
	@sh tests/run-tests.sh all $(UNIT_BINS)

build-check: $(PROG) build/san/$(PROG) build/hooks/$(PROG) $(UNIT_BINS) build/rel/policy-alone

# policy decides on records, config and the clock: it links without the
# clients, the state file or their libraries (PCRE2 only, for the regexes).
POLICY_OBJS = policy records config config_keys config_value config_msg config_read util log
build/rel/policy-alone: tests/unit/policy_alone.c $(POLICY_OBJS:%=build/rel/%.o)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(POLICY_OBJS:%=build/rel/%.o) \
	    $$(pkg-config --libs libpcre2-8)

integration:
	@sh tests/deps.sh check
	@$(SUBMAKE) build-check
	@sh tests/run-tests.sh integration

lint:
	@sh tests/lint.sh

demo:
	@sh tests/deps.sh demo
	@$(SUBMAKE) build/hooks/$(PROG)
	@sh tests/demo.sh

# Fuzz the config parser and the JSON readers (libFuzzer, clang), each for
# FUZZ_SECONDS (default 60).
fuzz:
	@sh tests/deps.sh fuzz
	@sh tests/fuzz/run.sh

valgrind:
	@sh tests/deps.sh check
	@$(SUBMAKE) $(PROG) build/hooks/$(PROG)
	@sh tests/run-tests.sh valgrind

# Performance benchmark (issue 8): fake and real qBittorrent servers, the
# tool against a curl | jq loop; prints a table, writes build/bench/results.md.
bench:
	@sh tests/deps.sh bench
	@$(SUBMAKE) build/hooks/$(PROG)
	@python3 tests/bench/bench.py

# Read commands on a big state (issue 16): 50,000 tracked torrents, 500,000
# audit rows; about a minute.
bench-reads:
	@sh tests/deps.sh bench
	@$(SUBMAKE) build/hooks/$(PROG)
	@python3 tests/bench/reads.py

# Logins, logouts and server CPU per steady sweep against a real
# qbittorrent-nox with 2,000 torrents (issue 11); about 30 seconds.
bench-sessions:
	@sh tests/deps.sh bench
	@$(SUBMAKE) $(PROG)
	@python3 tests/bench/sessions.py

# A simulated year of daily sweeps with churn (issue 16), not part of check:
# 5 x 10,000 torrents, 2,500 new a day; state size, rows, sweep and read
# times at days 1, 90, 180 and 365; about 15 minutes.
soak:
	@sh tests/deps.sh bench
	@$(SUBMAKE) build/hooks/$(PROG)
	@python3 tests/bench/soak.py

install: $(PROG)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/$(PROG)
	install -m 644 man/qbitrr-sweep.1 $(DESTDIR)$(MANDIR)/man1/qbitrr-sweep.1
	install -m 644 man/qbitrr.ini.5 $(DESTDIR)$(MANDIR)/man5/qbitrr.ini.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(PROG) $(DESTDIR)$(MANDIR)/man1/qbitrr-sweep.1 \
	    $(DESTDIR)$(MANDIR)/man5/qbitrr.ini.5

clean:
	rm -rf build $(PROG)

-include $(wildcard build/rel/*.d build/san/*.d build/hooks/*.d)
