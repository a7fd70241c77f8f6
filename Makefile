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

$(RELEASE)/build.ninja: | bootstrap
	cmake -S . -B $(RELEASE) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: bootstrap $(RELEASE)/build.ninja
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
