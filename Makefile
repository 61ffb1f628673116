# offheap — plain Makefile; everything is built into build/.
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS; our warnings live in WARN (with -Werror when CI=true).

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wvla
ifeq ($(CI),true)
WARN += -Werror
endif
# src/ is layered, lowest first (docs/ARCHITECTURE.md); headers are included by bare name.
LAYERS := lib source model store analysis render cmd
STD_CPPFLAGS := -std=gnu11 -D_GNU_SOURCE
BASE_CPPFLAGS := $(STD_CPPFLAGS) $(addprefix -Isrc/,$(LAYERS))
LIBS := -lsqlite3 -ldw -lelf -lunwind-ptrace -lunwind-generic -lunwind -lz -lprotobuf-c -lpthread -lm
# offheap serve's HTTP side (src/cmd/serve.c): its header at build time; the library is
# dlopen'ed by serve alone, so that no other command pays GnuTLS's start-up.
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := -ldl

B := build
SRC_LIB := $(foreach l,$(filter-out cmd,$(LAYERS)),$(wildcard src/$(l)/*.c))
SRC_CMD := $(wildcard src/cmd/*.c)
OBJ_LIB := $(SRC_LIB:src/%.c=$(B)/obj/%.o) $(B)/obj/gen/profile.pb-c.o
OBJ_CMD := $(SRC_CMD:src/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(B)/helpers/%)
# the attach test's helper again, bound at load under full RELRO, and lazily without RELRO
HELPER_BIN += $(B)/helpers/attacher-relro $(B)/helpers/attacher-lazy
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

ALL_CFLAGS = $(BASE_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) $(WARN)

.PHONY: all deps test-deps test check demo bench asan clean tidy format layers
.PHONY: programs install uninstall deb
all: $(B)/offheap $(B)/liboffheap.so $(B)/liboffheap-check.so $(UNIT_BIN) $(HELPER_BIN) $(BENCH_BIN)

# --wrap: `offheap --list-options CMD` reads CMD's own getopt_long table (src/cmd/complete.c).
$(B)/offheap: $(OBJ_CMD) $(B)/obj/gen/alloctemplate.o $(B)/liboffheap-core.a
	$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--wrap=getopt_long -o $@ $^ $(LIBS) $(MHD_LIBS)

# record's empty recording (allocdb_template, src/store/allocdb.h), made by SQLite from the
# core's own schema at build time, so that a recording starts as a copy, not as executed SQL.
$(B)/tools/mktemplate: tools/mktemplate.c $(B)/liboffheap-core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liboffheap-core.a $(LIBS)

$(B)/gen/alloctemplate.c: $(B)/tools/mktemplate
	@mkdir -p $(dir $@)
	$(B)/tools/mktemplate $@

$(B)/obj/gen/alloctemplate.o: $(B)/gen/alloctemplate.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj/cmd/serve.o: ALL_CFLAGS += $(MHD_CFLAGS)

# The tracker preloaded into targets (preload/): exports only the interposed symbols.
# Never built with ASan (its runtime cannot be preloaded into arbitrary targets);
# PRELOAD_SAN may add UBSan in trap mode, which needs no runtime (docs/RELIABILITY.md).
PRELOAD_SAN ?=
$(B)/liboffheap.so: $(wildcard preload/*.c preload/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD_CPPFLAGS) $(CPPFLAGS) $(filter-out -fsanitize%,$(CFLAGS)) $(PRELOAD_SAN) $(WARN) -fPIC -shared \
		-fvisibility=hidden -ftls-model=initial-exec $(filter-out -fsanitize%,$(LDFLAGS)) \
		-Wl,-z,nodelete -o $@ $(wildcard preload/*.c) -ldl

# The same tracker checking its own unwinder against libunwind's on every stack (the
# tests' referee, stackwalk.c): the only build that links libunwind.
$(B)/liboffheap-check.so: $(wildcard preload/*.c preload/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(STD_CPPFLAGS) $(CPPFLAGS) $(filter-out -fsanitize%,$(CFLAGS)) $(WARN) -fPIC -shared \
		-fvisibility=hidden -ftls-model=initial-exec -DOFFHEAP_CHECK_WALK \
		$(filter-out -fsanitize%,$(LDFLAGS)) -o $@ $(wildcard preload/*.c) -lunwind -ldl

# pprof's profile.proto → C with protoc-c, generated into build/gen (src/render/pprof.c includes it).
$(B)/gen/profile.pb-c.c $(B)/gen/profile.pb-c.h &: proto/profile.proto
	@mkdir -p $(B)/gen
	protoc-c --proto_path=proto --c_out=$(B)/gen $<

$(B)/obj/gen/profile.pb-c.o: $(B)/gen/profile.pb-c.c $(B)/gen/profile.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) -I$(B)/gen -c -o $@ $<

$(B)/obj/render/pprof.o: $(B)/gen/profile.pb-c.h
$(B)/obj/render/pprof.o: ALL_CFLAGS += -I$(B)/gen

$(B)/liboffheap-core.a: $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/test-%: tests/unit/test-%.c tests/unit/tap.h $(B)/liboffheap-core.a
	@mkdir -p $(dir $@) $(B)/dep
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF $(B)/dep/$(@F).d -Itests/unit $(LDFLAGS) -o $@ $< $(UNIT_EXTRA) $(B)/liboffheap-core.a $(LIBS)

# test-allocdb compares a recording made from the template with one made by SQL.
$(B)/tests/test-allocdb: $(B)/obj/gen/alloctemplate.o
$(B)/tests/test-allocdb: UNIT_EXTRA := $(B)/obj/gen/alloctemplate.o

# Helpers are the processes offheap observes, not offheap: they stay plain glibc
# programs in a sanitizer build too (ASan's allocator has no arenas to find).
# -MMD: attacher reads the tracker's file through preload/trackshm.h, whose layout changes.
$(B)/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@) $(B)/dep
	$(CC) $(STD_CPPFLAGS) $(CPPFLAGS) $(filter-out -fsanitize%,$(CFLAGS)) $(WARN) \
		-MMD -MP -MF $(B)/dep/$(@F).d \
		$(filter-out -fsanitize%,$(LDFLAGS)) -o $@ $< -lpthread -lm $(HELPER_LIBS)

# zchurn makes and ends real zlib streams, as a JVM's Inflaters and Deflaters do.
$(B)/helpers/zchurn: HELPER_LIBS := -lz

$(B)/helpers/attacher-relro: LINK_MODE := -Wl,-z,relro,-z,now
$(B)/helpers/attacher-lazy: LINK_MODE := -Wl,-z,lazy,-z,norelro
$(B)/helpers/attacher-relro $(B)/helpers/attacher-lazy: tests/helpers/attacher.c
	@mkdir -p $(dir $@) $(B)/dep
	$(CC) $(STD_CPPFLAGS) $(CPPFLAGS) $(filter-out -fsanitize%,$(CFLAGS)) $(WARN) \
		-MMD -MP -MF $(B)/dep/$(@F).d \
		$(filter-out -fsanitize%,$(LDFLAGS)) $(LINK_MODE) -o $@ $< -lpthread -lm

$(B)/bench/%: bench/%.c $(B)/liboffheap-core.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liboffheap-core.a $(LIBS)

# What `make install` and the Debian package ship: the binary and the tracker.
programs: $(B)/offheap $(B)/liboffheap.so

# The installed tree keeps the binary's view of it: offheap finds its tracker at
# ../lib/offheap/ from its own directory (src/source/selfpath.c), so the layout
# below PREFIX is fixed and a tree installed with DESTDIR can be moved as a whole.
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL ?= install
bindir := $(PREFIX)/bin
pkglibdir := $(PREFIX)/lib/offheap
man1dir := $(PREFIX)/share/man/man1
bashcompdir := $(PREFIX)/share/bash-completion/completions
zshcompdir := $(PREFIX)/share/zsh/vendor-completions
MAN_PAGES := $(wildcard docs/*.1)

install: programs
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkglibdir) $(DESTDIR)$(man1dir) \
		$(DESTDIR)$(bashcompdir) $(DESTDIR)$(zshcompdir)
	$(INSTALL) -m 755 $(B)/offheap $(DESTDIR)$(bindir)/offheap
	$(INSTALL) -m 644 $(B)/liboffheap.so $(DESTDIR)$(pkglibdir)/liboffheap.so
	$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(man1dir)/
	$(INSTALL) -m 644 contrib/completion/offheap.bash $(DESTDIR)$(bashcompdir)/offheap
	$(INSTALL) -m 644 contrib/completion/_offheap $(DESTDIR)$(zshcompdir)/_offheap

uninstall:
	rm -f $(DESTDIR)$(bindir)/offheap $(DESTDIR)$(pkglibdir)/liboffheap.so \
		$(addprefix $(DESTDIR)$(man1dir)/,$(notdir $(MAN_PAGES))) \
		$(DESTDIR)$(bashcompdir)/offheap $(DESTDIR)$(zshcompdir)/_offheap
	-rmdir $(DESTDIR)$(pkglibdir)

# The .deb (debian/), built by dpkg-buildpackage from a copy of the tree without
# any build folder, so that it proves the package builds from clean sources;
# the package lands in $(B)/deb/.
deb:
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/src
	tar -c --exclude-vcs --exclude='./build*' --exclude='./tests/out' . | tar -x -C $(B)/deb/src
	# the package's own make must not inherit this one's variables (B=...)
	cd $(B)/deb/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	rm -rf $(B)/deb/src

deps:
	@scripts/setup-deps

test-deps:
	@scripts/setup-deps --test

# Includes point one way only: down the layers of src/ (docs/ARCHITECTURE.md).
layers:
	@scripts/check-layers

# The whole suite: unit tests (C, TAP) and end-to-end tests (shell, TAP), run by prove.
test: test-deps layers
	@$(MAKE) --no-print-directory all
	@if command -v clang >/dev/null 2>&1; then $(MAKE) --no-print-directory fuzz-build; fi
	@tests/run

check: test

demo:
	@scripts/setup-deps --demo
	@$(MAKE) --no-print-directory all
	@scripts/demo

bench: test-deps
	@$(MAKE) --no-print-directory all
	@bench/run

# The suite again under AddressSanitizer and UndefinedBehaviorSanitizer, in build-asan/.
asan: test-deps
	@$(MAKE) --no-print-directory B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" PRELOAD_SAN="-fsanitize=undefined -fsanitize-undefined-trap-on-error" all
	@OFFHEAP_BUILD=build-asan tests/run

# libFuzzer harnesses (fuzz/fuzz-NAME.c) against the core built by clang with ASan and UBSan,
# in build-fuzz/ (docs/RELIABILITY.md, "Fuzzing"). fuzz-smoke: each a few seconds on its seeds
# and regressions; fuzz: the long run, FUZZ_TIME seconds each, corpus kept in build-fuzz/corpus/.
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
FUZZ_BIN := $(patsubst fuzz/%.c,build-fuzz/%,$(wildcard fuzz/fuzz-*.c))
FUZZ_SMOKE ?= 3
FUZZ_TIME ?= 600
.PHONY: fuzz-build fuzz-smoke fuzz
fuzz-build:
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" LDFLAGS= CI= $(FUZZ_BIN)

$(B)/fuzz-%: fuzz/fuzz-%.c fuzz/fuzz.h $(B)/liboffheap-core.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/liboffheap-core.a $(LIBS)

fuzz-smoke: fuzz-build
	@fuzz/run smoke $(FUZZ_SMOKE)

fuzz: fuzz-build
	@fuzz/run long $(FUZZ_TIME)

format:
	clang-format -i src/*/*.c src/*/*.h

clean:
	rm -rf build build-asan build-fuzz

-include $(OBJ_LIB:.o=.d) $(OBJ_CMD:.o=.d) $(wildcard $(B)/dep/*.d)
