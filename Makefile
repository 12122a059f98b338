# Thin wrapper over CMake: `make demo` and `make test` are the README's two commands.
# Both install missing Debian packages first (tools/deps.sh), so they work on a fresh machine.
JOBS ?= $(shell nproc)
DEMO_PCAP ?= pcaps/errors.pcap

.PHONY: all deps release debug asan demo test bench clean

all: release

deps:
	@bash tools/deps.sh

release: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DOSLOTRACE_TESTS=OFF >/dev/null
	cmake --build build/release -j $(JOBS)

debug: deps
	cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build/debug -j $(JOBS)

asan: deps
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DOSLOTRACE_SANITIZE=ON >/dev/null
	cmake --build build/asan -j $(JOBS)

demo: release
	./build/release/oslotrace -r $(DEMO_PCAP) --report

test: debug asan
	ctest --test-dir build/debug --output-on-failure -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/asan --output-on-failure -j $(JOBS)
	bash tools/fuzz.sh all 15

bench: deps
	bash bench/run

clean:
	rm -rf build
