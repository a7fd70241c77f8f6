# bulwark — the two commands a newcomer needs are `make run` and `make test`.
# Both install what they need first (scripts/bootstrap.sh, Debian packages).

BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
RELEASE    := $(BUILD)/release
ASAN       := $(BUILD)/asan
FUZZ       := $(BUILD)/fuzz

.PHONY: all run test build bootstrap sanitize fuzz-build fuzz-smoke fuzz bench format clean

all: build

bootstrap:
	@scripts/bootstrap.sh

PGO_GEN    := $(BUILD)/pgo-generate
PGO_DATA   := $(abspath $(BUILD))/pgo-data

# The release build is profile-guided (GCC; docs/DECISIONS.md): on the first build an
# instrumented `bulwark` is built and trained (scripts/pgo-train.sh, ~15 s), and the release
# build uses its profile from then on (a function changed since is optimised as without one;
# `rm -rf $(PGO_DATA) $(RELEASE)` trains and builds afresh). PGO=0: no profile.
PGO        ?= 1
ifeq ($(PGO),1)
RELEASE_PGO := -DBULWARK_PGO=use -DBULWARK_PGO_DIR=$(PGO_DATA)
else
RELEASE_PGO := -DBULWARK_PGO= -DBULWARK_PGO_DIR=
endif

$(PGO_GEN)/build.ninja: | bootstrap
	cmake -S . -B $(PGO_GEN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DBULWARK_TESTS=OFF \
	  -DBULWARK_BENCH=OFF -DBULWARK_PGO=generate -DBULWARK_PGO_DIR=$(PGO_DATA)

$(RELEASE)/build.ninja: | bootstrap
	cmake -S . -B $(RELEASE) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release $(RELEASE_PGO)

$(PGO_DATA)/trained: | bootstrap $(PGO_GEN)/build.ninja
	cmake --build $(PGO_GEN) -j $(JOBS) --target bulwark_cli
	scripts/pgo-train.sh $(PGO_GEN)/bulwark $(PGO_DATA)
	touch $@

ifeq ($(PGO),1)
build: $(PGO_DATA)/trained
endif
build: bootstrap $(RELEASE)/build.ninja
	cmake -S . -B $(RELEASE) $(RELEASE_PGO) >/dev/null
	cmake --build $(RELEASE) -j $(JOBS)

# The main job (see README.md).
run: build
	@scripts/run.sh $(RELEASE)/bulwark

# The whole test suite; exits non-zero on any failure.
test: build
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) --timeout 300

# Unit and command tests under AddressSanitizer + UndefinedBehaviorSanitizer, built with
# clang (so this also proves that clang builds the library, the tests and the command).
sanitize: bootstrap
	CXX=clang++ cmake -S . -B $(ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DBULWARK_SANITIZE=ON \
	  -DBULWARK_BENCH=OFF
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

# libFuzzer targets (clang): the library, the unit tests and fuzz/*.cpp.
fuzz-build: bootstrap
	CXX=clang++ cmake -S . -B $(FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBULWARK_FUZZ=ON -DBULWARK_APPS=OFF -DBULWARK_BENCH=OFF -DBULWARK_TESTS=OFF
	cmake --build $(FUZZ) -j $(JOBS)

# Every fuzz target for FUZZ_SECONDS each (seed corpora from fuzz/corpus/<target>), failing on
# the first crash. `make fuzz TARGET=fuzz_tls_server SECONDS=600` runs one target longer.
FUZZ_SECONDS ?= 15
fuzz-smoke: fuzz-build
	@scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ) $(SECONDS) $(TARGET)

# Benchmark programs: they print figures, never fail on them. bench_tls is a plain program
# (side-by-side ratios against libssl, see bench/README.md); the others are Google Benchmark;
# bench/serve_vs_nginx.sh runs bulwark serve and nginx side by side.
bench: build
	@for b in $(RELEASE)/bench_*; do echo "== $$b"; \
	  case $$b in */bench_tls) $$b ;; *) $$b --benchmark_min_time=0.2 ;; esac; done
	@if [ -x bench/serve_vs_nginx.sh ]; then echo "== bench/serve_vs_nginx.sh"; \
	  bench/serve_vs_nginx.sh $(RELEASE)/bulwark; fi

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
