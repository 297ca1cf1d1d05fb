# sessiond. GNU make; flags from pkg-config; local overrides in config.mk.
#
#   make            release build into build/
#   make run        the whole stack on http://127.0.0.1:8080 (foreground)
#   make stop       stop a stack that make run left behind
#   make test       unit, integration and end-to-end tests (sanitizer build)
#   make bench      the benchmark report
#   make install    PREFIX=/usr/local DESTDIR= ...
#   make fuzz       each fuzzer for FUZZ_SECONDS (default 600)
#   make lint       banned functions, clang-format, cppcheck, clang-tidy
#   make fresh      make run and make test in a fresh Debian 12 (root)
#   make deb        the Debian package into build/deb/
#   make deploy-test  the package installed and run under systemd in a
#                   Debian 12 container, following docs/deploy.md (root)

-include config.mk

PREFIX		?= /usr/local
DESTDIR		?=
BINDIR		?= $(PREFIX)/bin
DATADIR		?= $(PREFIX)/share/sessiond
SYSCONFDIR	?= /etc
UNITDIR		?= $(PREFIX)/lib/systemd/system
HTTP_PORT	?= 8080
FUZZ_SECONDS	?= 600

CC		?= cc
PKGS		:= json-c libpq openssl fcgi pwquality libmaxminddb libcurl
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl (the alert mail) is linked into the notifier alone.
PKG_LIBS	:= $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
CURL_LIBS	:= $(shell pkg-config --libs libcurl 2>/dev/null)
WARN		:= -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		   -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
		   -Wno-format-nonliteral
# -MMD -MP: each object records the headers it read (build/**/*.d).
BASE_CFLAGS	:= -std=c17 -D_GNU_SOURCE $(WARN) -Iinclude $(PKG_CFLAGS) -MMD -MP

# SAN=1: AddressSanitizer + UndefinedBehaviorSanitizer, one malloc per
# arena allocation, into build/asan. This is what make test runs.
ifeq ($(SAN),1)
O		:= build/asan
MODE_CFLAGS	:= -O1 -g -fno-omit-frame-pointer \
		   -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -DARENA_MALLOC
MODE_LDFLAGS	:= -fsanitize=address,undefined
# FUZZ=1: the same sanitizers with libFuzzer's coverage, built by clang into
# build/fuzz; scripts/fuzz builds build/fuzz/fuzz_NAME from
# tests/fuzz/fuzz_NAME.c and runs it.
else ifeq ($(FUZZ),1)
CC		:= $(or $(FUZZ_CC),clang)
O		:= build/fuzz
MODE_CFLAGS	:= -O1 -g -fno-omit-frame-pointer \
		   -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all -DARENA_MALLOC
MODE_LDFLAGS	:= -fsanitize=fuzzer,address,undefined
else
O		:= build
MODE_CFLAGS	:= -O2 -g -fPIE -fstack-protector-strong -D_FORTIFY_SOURCE=2
MODE_LDFLAGS	:= -pie -Wl,-z,relro,-z,now
endif

ALL_CFLAGS	= $(BASE_CFLAGS) $(MODE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS	= $(MODE_LDFLAGS) $(LDFLAGS)

# The modules (fcgi/*.c but the three programs' mains) go into one archive.
MAINS		:= sessiond sessionctl notifier
LIB_MODS	:= $(filter-out $(MAINS),$(basename $(notdir $(wildcard fcgi/*.c))))
LIB_OBJS	:= $(LIB_MODS:%=$(O)/obj/%.o)
LIB		:= $(O)/libsessiond.a
PROGS		:= $(O)/sessiond $(O)/sessionctl $(O)/sessiond-notifier
UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all run stop test unit bench install uninstall fuzz lint clean \
	deps test-deps bench-deps tests-build format valgrind faults check-pkgs netns \
	fresh deb deploy-test

all: check-pkgs $(PROGS)

check-pkgs:
	@pkg-config --exists $(PKGS) || { echo "missing libraries \
	(pkg-config $(PKGS)): run scripts/install-deps, or make run" >&2; \
	exit 1; }

$(O)/obj/%.o: fcgi/%.c | $(O)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The common-password list is built into password.o (.incbin).
$(O)/obj/password.o: fcgi/common-passwords.txt

# The version sessiond_build_info reports.
VERSION		?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(O)/obj/metrics.o: ALL_CFLAGS += -DSESSIOND_VERSION='"$(VERSION)"'

$(O)/obj $(O)/tests:
	mkdir -p $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(O)/sessiond: $(O)/obj/sessiond.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(O)/sessionctl: $(O)/obj/sessionctl.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(O)/sessiond-notifier: $(O)/obj/notifier.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS)

$(O)/tests/%: tests/unit/%.c $(LIB) | $(O)/tests
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka

# The fuzz harnesses (FUZZ=1 only: they need libFuzzer's main).
$(O)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

-include $(wildcard $(O)/obj/*.d $(O)/tests/*.d $(O)/*.d)

# The unit and integration tests' GeoIP database: documentation ranges.
$(O)/tests/geoip-test.mmdb: tests/geoip/make-test-db.pl | $(O)/tests
	perl $< $@

$(O)/tests/test_geoip: ALL_CFLAGS += \
	-DTEST_GEOIP_DB='"$(CURDIR)/$(O)/tests/geoip-test.mmdb"'
$(O)/tests/test_geoip: $(O)/tests/geoip-test.mmdb

tests-build: check-pkgs $(PROGS) $(UNIT_TESTS) $(O)/tests/geoip-test.mmdb

deps:
	scripts/install-deps

test-deps:
	scripts/install-deps test

bench-deps:
	scripts/install-deps bench

# Packages first, then a fresh make: pkg-config's flags are read when make
# starts, and on a new machine the libraries arrive only now.
run: deps
	$(MAKE) all
	HTTP_PORT=$(HTTP_PORT) scripts/stack run

stop:
	scripts/stack stop

# Unit tests, integration and end-to-end tests against a sanitizer build.
test: test-deps
	$(MAKE) SAN=1 tests-build
	$(MAKE) all $(UNIT_TESTS)
	scripts/test

unit:
	$(MAKE) SAN=1 tests-build
	scripts/test unit

bench: bench-deps
	$(MAKE) all
	scripts/bench
	scripts/bench-metrics

fuzz:
	scripts/install-deps fuzz
	scripts/fuzz $(FUZZ_SECONDS)

# The README's two commands in a debootstrapped Debian 12 container (root).
fresh:
	scripts/fresh

# The Debian package (debian/) into build/deb/, checked by lintian.
deb:
	scripts/install-deps deb
	scripts/deb

# The package in a Debian 12 booted under systemd, docs/deploy.md step by
# step (root; minutes, not part of make test).
deploy-test:
	scripts/install-deps deploy-test
	scripts/deb
	tests/deploy/run.sh

# The unit tests under valgrind memcheck (release build).
valgrind: $(UNIT_TESTS)
	scripts/valgrind

# The multi-host topology in network namespaces (root).
netns:
	scripts/install-deps netns
	$(MAKE) all
	tests/netns/run.sh

# The fault tests in their long form, against a throwaway stack.
faults: test-deps
	$(MAKE) SAN=1 tests-build
	$(MAKE) all
	FAULTS_LONG=1 scripts/test faults

lint:
	scripts/install-deps lint
	scripts/lint

format:
	clang-format -i fcgi/*.c include/*.h tests/unit/*.c $(wildcard tests/unit/*.h) tests/fuzz/*.c

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql \
	    $(DESTDIR)$(DATADIR)/monitoring \
	    $(DESTDIR)$(DATADIR)/nginx/errors $(DESTDIR)$(DATADIR)/www \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/sessiond
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 sql/*.sql $(DESTDIR)$(DATADIR)/sql/
	install -m 644 monitoring/sessiond.rules.yml \
	    $(DESTDIR)$(DATADIR)/monitoring/
	install -m 644 nginx/sessiond-*.conf $(DESTDIR)$(DATADIR)/nginx/
	for f in sessiond.conf.example sessiond-cluster.conf.example; do \
	    sed -e 's|@DATADIR@|$(DATADIR)|g' nginx/$$f \
	        > $(DESTDIR)$(DATADIR)/nginx/$$f; \
	    chmod 644 $(DESTDIR)$(DATADIR)/nginx/$$f; \
	done
	install -m 644 nginx/errors/*.json $(DESTDIR)$(DATADIR)/nginx/errors/
	cp -R nginx/www/. $(DESTDIR)$(DATADIR)/www/
	for f in systemd/*.in; do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
	        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$f \
	        > $(DESTDIR)$(UNITDIR)/$$(basename $$f .in); \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename $$f .in); \
	done
	install -m 644 systemd/sessiond.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/sessiond/sessiond.conf.example

uninstall:
	rm -f $(PROGS:$(O)/%=$(DESTDIR)$(BINDIR)/%)
	rm -rf $(DESTDIR)$(DATADIR)
	for f in systemd/*.in; do \
	    rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$f .in); done
	rm -f $(DESTDIR)$(SYSCONFDIR)/sessiond/sessiond.conf.example

clean:
	rm -rf build
