# Tramite — the two commands of the README:
#   make run    install what is missing, build (Release), run
#   make test   install what is missing, build (test build: warnings as errors, ASan+UBSan;
#               plus the clang libFuzzer build), run every test through CTest, including a
#               bounded fuzzing run of the parser, then clang-tidy (make lint)
# Other targets: make lint, make bench, make fuzz, make format, make clean.

JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
TEST_DIR := build/test
BENCH_DIR := build/bench
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 20

.PHONY: run test lint build-release build-test build-fuzz bench fuzz format clean

build-release:
	bash scripts/install-deps.sh build
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DTRAMITE_BUILD_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build-release
	bash scripts/run.sh $(RELEASE_DIR)

build-test: build-fuzz
	cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DTRAMITE_WERROR=ON -DTRAMITE_SANITIZE=ON \
	  -DTRAMITE_FUZZER=$(CURDIR)/$(FUZZ_DIR)/tests/fuzz/fuzz_parser -DTRAMITE_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(TEST_DIR) -j $(JOBS)

test: build-test
	cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS)
	bash scripts/lint.sh $(TEST_DIR)

# clang-tidy with the checks of .clang-tidy over the product's sources (needs the test
# build's compile_commands.json).
lint:
	@[ -f $(TEST_DIR)/compile_commands.json ] || $(MAKE) build-test
	bash scripts/lint.sh $(TEST_DIR)

bench:
	bash scripts/install-deps.sh bench
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release -DTRAMITE_BUILD_TESTS=OFF \
	  -DTRAMITE_BUILD_BENCH=ON
	cmake --build $(BENCH_DIR) -j $(JOBS)
	bash bench/run.sh $(BENCH_DIR)

build-fuzz:
	bash scripts/install-deps.sh test
	CXX=clang++ CC=clang cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTRAMITE_BUILD_TESTS=OFF -DTRAMITE_BUILD_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_parser
	# The clang build also checks group commit's locking annotations (-Werror=thread-safety).
	$(MAKE) -C $(FUZZ_DIR)/engine/runtime src/group_commit.cpp.o

fuzz: build-fuzz
	bash tests/fuzz/run.sh $(FUZZ_DIR)/tests/fuzz/fuzz_parser $(FUZZ_SECONDS)

format:
	find engine storage api programs tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
