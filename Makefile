# grok: build, test, bench and set-up.  One static library (build/libgrok.a)
# holds every module; the `grok` binary and each tests/test_*.c link it.
#
#   make            build ./grok (installs missing Debian packages first)
#   make run        build and run the default experiment into runs/nanda2023_mod_add
#   make test       build and run every test (prints "P passed, F failed");
#                   with CI=true also the unit tests under ASan+UBSan (SAN_TESTS)
#   make bench      the performance table (grok bench)
#   make valgrind   the suite and every grok command under valgrind memcheck
#                   (tests/memcheck.sh; about half an hour)
#   make torture    the kill torture: 100 SIGKILLs of a run, 20 of a sweep
#                   (pool and mpirun), each resumed and compared byte for byte
#   make deps       apt-get install the packages the project needs
#   make asan | make ubsan | make SANITIZER=address|undefined|address,undefined ...
#   make fuzz       run each libFuzzer harness of tests/fuzz/ for FUZZ_SECONDS
#                   (default 60) with ASan+UBSan (clang-14; tests/fuzz/README.md)
#   make check-deps check every #include against the module map (tests/layering.txt)
#   make clean
#
# Variables: CI=true or WERROR=1 turns warnings into errors; SANITIZER as above.

CC      ?= gcc
BUILD   := build
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(CI),true)
WERROR  ?= 1
endif
ifeq ($(WERROR),1)
WARN    += -Werror
endif
# -ffp-contract=off: no silent FMA contraction, so two builds of the same
# source give the same bits whatever the compiler decides to fuse.
OPT     ?= -O3
CFLAGS  := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) -g -fopenmp -ffp-contract=off $(WARN) \
           -Imodel -Imeasures -Iplots -Inotebooks_export -Iexperiments -MMD -MP
# GSL's BLAS layer binds to BLIS's CBLAS: never -lgslcblas (see docs/formats.md, BLIS).
LDLIBS  := -lconfig -ljansson -lgsl -lblis -lzip -lz -lm -fopenmp
TESTLIBS := -lcmocka
# glibc's vector math library (GROK_VECTOR_EXP in model/grok.h)
ifeq ($(shell uname -sm),Linux x86_64)
CFLAGS  += -DGROK_HAVE_LIBMVEC
LDLIBS  := $(filter-out -lm,$(LDLIBS)) -lmvec -lm
endif

SANITIZER ?=
comma   := ,
ifeq ($(SANITIZER),)
else ifeq ($(SANITIZER),address)
CFLAGS  += -fsanitize=address -fno-omit-frame-pointer
LDLIBS  += -fsanitize=address
BUILD   := build-asan
else ifeq ($(SANITIZER),fuzz)
# the library as `make fuzz` links it: clang, coverage for libFuzzer, ASan and
# UBSan (clang's, with float-cast-overflow), every report fatal
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow \
           -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS  += -fsanitize=address,undefined
BUILD   := build-fuzz
else ifeq ($(SANITIZER),undefined)
# float-cast-overflow: a double cast to an int it does not fit (not part of
# GCC's -fsanitize=undefined)
CFLAGS  += -fsanitize=undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow
LDLIBS  += -fsanitize=undefined
BUILD   := build-ubsan
else ifeq ($(SANITIZER),address$(comma)undefined)
# both in one build (the sanitizer part of `make test` under CI=true)
CFLAGS  += -fsanitize=address,undefined,float-cast-overflow \
           -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer
LDLIBS  += -fsanitize=address,undefined
BUILD   := build-san
else
$(error SANITIZER=$(SANITIZER) is not valid; use SANITIZER=address, undefined, address$(comma)undefined or fuzz)
endif
# What the test binaries and the grok they start read under the sanitizers:
# every report fatal, libconfig 1.5's known leak suppressed (tests/lsan.supp).
SAN_ENV := ASAN_OPTIONS=detect_leaks=1 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# BASELINE=1: the element-wise kernels for the x86-64 baseline only (no
# AVX-512/AVX2 clones, GROK_VECTOR_CLONES in model/grok.h), in build-baseline/;
# `make test` checks that it writes the same bytes as the ordinary build.
BASELINE ?=
ifneq ($(BASELINE),)
CFLAGS  += -DGROK_NO_CLONES
BUILD   := build-baseline
endif

# Open MPI, optional: with Open MPI's mpicc present, experiments/sweep_mpi.c is
# built with MPI (GROK_HAVE_MPI) and `grok sweep` under mpirun uses it; without
# it the build still works (the ranks then come from mpirun's environment).
# The stamp rebuilds sweep_mpi.o when mpicc appears or goes.
MPICC     := $(shell command -v mpicc 2>/dev/null)
MPI_INC   := $(if $(MPICC),$(shell $(MPICC) -showme:compile 2>/dev/null))
MPI_STAMP := $(BUILD)/.mpi-$(if $(MPI_INC),on,off)
ifneq ($(MPI_INC),)
MPI_CFLAGS := -DGROK_HAVE_MPI $(patsubst -I%,-isystem %,$(MPI_INC))
LDLIBS    += $(shell $(MPICC) -showme:link)
endif

# Debian packages: headers the build needs, and tools the tests need.
DEB_BUILD := libblis-openmp-dev libgsl-dev libconfig-dev libjansson-dev libcmocka-dev zlib1g-dev libzip-dev gnuplot-nox libopenmpi-dev
DEB_TEST  := python3-numpy openmpi-bin python3-nbformat jupyter-nbconvert python3-ipykernel python3-pandas python3-matplotlib python3-torch chromium valgrind
HEADERS   := blis.h gsl/gsl_rng.h libconfig.h jansson.h cmocka.h zlib.h zip.h

MODULES  := model measures plots notebooks_export experiments
LIB_SRC  := $(filter-out experiments/main.c,$(wildcard $(addsuffix /*.c,$(MODULES))))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
SUPPORT_SRC := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(BUILD)/%.o)
DEPS_OK  := $(BUILD)/.deps-ok

.PHONY: all run test bench torture deps deps-fuzz fuzz fuzz-build asan ubsan san-build valgrind clean check-deps FORCE
# The binary: ./grok, or build-asan/grok and build-ubsan/grok for the
# sanitizer builds (so they never replace the ordinary one).
GROK := $(if $(SANITIZER)$(BASELINE),$(BUILD)/grok,grok)
# The baseline build the ordinary test run compares against (none under the
# sanitizers).
GROK_BASELINE := $(if $(SANITIZER)$(BASELINE),,build-baseline/grok)

all: $(GROK)

$(GROK): $(BUILD)/experiments/main.o $(BUILD)/libgrok.a
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/libgrok.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/experiments/sweep_mpi.o: CFLAGS += $(MPI_CFLAGS)
$(BUILD)/experiments/sweep_mpi.o: $(MPI_STAMP)
$(MPI_STAMP): | $(DEPS_OK)
	@rm -f $(BUILD)/.mpi-on $(BUILD)/.mpi-off
	@touch $@

$(BUILD)/tests/%: tests/%.c $(SUPPORT_OBJ) $(BUILD)/libgrok.a | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(SUPPORT_OBJ) $(BUILD)/libgrok.a $(TESTLIBS) $(LDLIBS)

# Probe the headers once per build directory; install what is missing.
$(DEPS_OK):
	@mkdir -p $(BUILD)
	@missing=0; for h in $(HEADERS); do \
	  if echo "#include <$$h>" | $(CC) -E -x c - >/dev/null 2>&1; then echo "  ✓ $$h"; \
	  else echo "  ✗ $$h (make deps will install it)"; missing=1; fi; done; \
	  command -v gnuplot >/dev/null && echo "  ✓ gnuplot" || { echo "  ✗ gnuplot"; missing=1; }; \
	  if [ $$missing = 1 ]; then $(MAKE) --no-print-directory deps || exit 1; fi
	@touch $@

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
deps:
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $(DEB_BUILD) $(DEB_TEST)

# A second `make run` continues (or reports) the run instead of refusing to
# overwrite it.
RUN_DIR := runs/nanda2023_mod_add
run: grok
	@if [ -f $(RUN_DIR)/state.safetensors ]; then ./grok resume $(RUN_DIR); \
	else ./grok train experiments/nanda2023_mod_add.cfg --out $(RUN_DIR); fi

# The sanitizer part of `make test` (on with CI=true; SAN_CI=0 or 1 says
# otherwise): the unit-test binaries of SAN_TESTS built with ASan + UBSan
# (SANITIZER=address,undefined, in build-san/) and run after the ordinary
# suite.  The heavy end-to-end binaries are left out (minutes under the
# sanitizers); `make asan` and `make ubsan` run every binary.
SAN_TESTS := test_algo test_cfg test_fileio test_filters test_fuzz test_golden test_irrep \
             test_loss test_mlp test_optim test_progress test_rng test_rundir test_safetensors \
             test_task test_tfm test_verify
SAN_CI    ?= $(if $(filter true,$(CI)),$(if $(SANITIZER)$(BASELINE),0,1),0)
SAN_BIN   := $(if $(filter 1,$(SAN_CI)),$(SAN_TESTS:%=build-san/tests/%))

test: $(GROK) $(TEST_BIN) $(GROK_BASELINE) $(if $(SAN_BIN),san-build)
	@/usr/bin/python3 -c 'import numpy, nbformat, nbconvert, ipykernel, pandas, matplotlib' 2>/dev/null && command -v mpirun >/dev/null || $(MAKE) --no-print-directory deps
	@command -v chromium >/dev/null || $(MAKE) --no-print-directory deps || echo "note: chromium could not be installed; tests/test_view.c skips its browser check"
	@pass=0; fail=0; if sh tests/check_layering.sh; then pass=1; else echo "!! tests/check_layering.sh failed"; fail=1; fi; \
	  for t in $(TEST_BIN) $(SAN_BIN); do \
	  case $$t in build-san/*) g=$(CURDIR)/build-san/grok; b=; env="$(SAN_ENV)"; echo "# ASan+UBSan: $$t";; \
	  *) g=$(CURDIR)/$(GROK); b=$(if $(GROK_BASELINE),$(CURDIR)/$(GROK_BASELINE)); env="$(if $(SANITIZER),$(SAN_ENV))";; esac; \
	  out=$$(env $$env GROK_BIN=$$g GROK_BIN_BASELINE=$$b $$t 2>&1); rc=$$?; echo "$$out" | grep -E '^\[ *(RUN|OK|FAILED|SKIPPED|ERROR|LINE|PASSED) *\]|^#' ; \
	  n=$$(echo "$$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p'); pass=$$((pass + $${n:-0})); \
	  if [ $$rc -ne 0 ]; then echo "$$out" | grep -E -A12 'ERROR: [A-Za-z]*Sanitizer|runtime error' | head -40; \
	    echo "!! $$t exited with $$rc"; fail=$$((fail + ($$rc > 0 ? $$rc : 1))); fi; done; \
	  echo "$$pass passed, $$fail failed"; test $$fail -eq 0

san-build:
	@$(MAKE) --no-print-directory SANITIZER=address,undefined build-san/grok $(SAN_TESTS:%=build-san/tests/%)

# The kill torture (tests/torture.py): SIGKILL at KILLS random instants of a
# run (default 100) and SWEEP_KILLS of a sweep under the pool and mpirun
# (default 20), each resumed and compared byte for byte with an
# uninterrupted one.  Minutes, so not part of `make test`.
KILLS ?= 100
SWEEP_KILLS ?= 20
torture: $(GROK)
	/usr/bin/python3 tests/torture.py --grok ./$(GROK) --kills $(KILLS) --sweep-kills $(SWEEP_KILLS)

# valgrind memcheck (tests/memcheck.sh, tests/valgrind.supp): every test
# binary of VALGRIND_TESTS (default all; names such as test_cfg), then grok
# itself over one short session of every command (tests/memcheck_grok.sh;
# VALGRIND_GROK=0 leaves it out).  Logs in build-valgrind/.  About half an hour
# on 2 cores, so not part of `make test`.
VALGRIND_TESTS ?= $(TEST_SRC:tests/%.c=%)
VALGRIND_GROK  ?= 1
valgrind: $(GROK) $(VALGRIND_TESTS:%=$(BUILD)/tests/%)
	@command -v valgrind >/dev/null || $(MAKE) --no-print-directory deps
	@bad=0; sh tests/memcheck.sh ./$(GROK) build-valgrind/tests $(VALGRIND_TESTS:%=$(BUILD)/tests/%) || bad=1; \
	  if [ "$(VALGRIND_GROK)" = 1 ]; then sh tests/memcheck_grok.sh ./$(GROK) build-valgrind/grok || bad=1; fi; \
	  if [ $$bad = 0 ]; then echo "valgrind: clean"; else echo "!! valgrind found errors (build-valgrind/)"; exit 1; fi

bench: grok
	./grok bench

ifneq ($(GROK_BASELINE),)
$(GROK_BASELINE): FORCE
	@$(MAKE) --no-print-directory BASELINE=1 $(GROK_BASELINE)
endif

# ---- fuzzing (tests/fuzz/README.md) ---------------------------------------
# Each tests/fuzz/fuzz_<target>.c is one libFuzzer binary build-fuzz/fuzz/<target>,
# linked against a clang ASan+UBSan build of the library.  `make fuzz` runs
# each for FUZZ_SECONDS on its committed corpus tests/fuzz/corpus/<target>/;
# new inputs go to build-fuzz/corpus/<target>/ and crashes to
# build-fuzz/crash-<target>-*: fix the bug, then commit the crash input into the
# corpus (`make test` replays the corpora without clang: tests/test_fuzz.c).
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -timeout=10 -rss_limit_mb=2048 -max_len=65536
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
DEB_FUZZ     := clang-14 libfuzzer-14-dev

deps-fuzz:
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $(DEB_FUZZ)

fuzz:
	@if ! command -v $(FUZZ_CC) >/dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' | \
	  $(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then \
	  echo "make fuzz needs $(FUZZ_CC) with libFuzzer (Debian: $(DEB_FUZZ)); installing them (make deps-fuzz)"; \
	  $(MAKE) --no-print-directory deps-fuzz || exit 1; fi
	@$(MAKE) --no-print-directory SANITIZER=fuzz CC=$(FUZZ_CC) OPT=-O1 fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p build-fuzz/corpus/$$t; \
	  echo "== fuzz $$t: $(FUZZ_SECONDS) s"; \
	  LSAN_OPTIONS=print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  build-fuzz/fuzz/$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/crash-$$t- build-fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    2>build-fuzz/$$t.log; rc=$$?; \
	  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE|cov:' build-fuzz/$$t.log | tail -2; \
	  if [ $$rc -ne 0 ]; then echo "!! fuzz $$t failed (rc $$rc): see build-fuzz/$$t.log"; exit 1; fi; done

ifeq ($(SANITIZER),fuzz)
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(BUILD)/libgrok.a | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(BUILD)/libgrok.a $(LDLIBS)
endif

asan:
	$(MAKE) SANITIZER=address test
ubsan:
	$(MAKE) SANITIZER=undefined test

# The module map (docs/design.md, "Module map"): every #include "x.h" against
# the allow-list tests/layering.txt.
check-deps:
	@sh tests/check_layering.sh

clean:
	rm -rf build build-asan build-ubsan build-san build-baseline build-fuzz build-valgrind grok

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
