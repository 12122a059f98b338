# Thin wrapper over CMake: `make demo` and `make test` are the README's two commands.
# Both install missing Debian packages first (tools/deps.sh), so they work on a fresh machine.
JOBS ?= $(shell nproc)
DEMO_PCAP ?= pcaps/errors.pcap

.PHONY: all deps deps-test release debug asan demo test bench clean install deb deb-smoke

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

# The tests also need the lab's broker, oslo.messaging, pika and Prometheus.
deps-test:
	@bash tools/deps.sh test

test: deps-test debug asan
	ctest --test-dir build/debug --output-on-failure -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/asan --output-on-failure -j $(JOBS)
	bash tools/fuzz.sh all 15

# Installs the binary, the man page and the systemd unit under PREFIX.
PREFIX ?= /usr/local
install: deps
	cmake -S . -B build/install -DCMAKE_BUILD_TYPE=Release -DOSLOTRACE_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build/install -j $(JOBS)
	cmake --install build/install

# A Debian package (CPack) of the same files under /usr: build/deb/oslotrace_*.deb.
deb: deps
	cmake -S . -B build/deb -DCMAKE_BUILD_TYPE=Release -DOSLOTRACE_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	cmake --build build/deb -j $(JOBS)
	cd build/deb && cpack -G DEB
	@ls build/deb/*.deb

# Installs the package, checks --version, man and the unit, purges it (root; throwaway).
deb-smoke:
	bash tools/deb_smoke.sh

bench: deps
	bash bench/run

clean:
	rm -rf build
