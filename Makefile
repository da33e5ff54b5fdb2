# Vaultaire: `make run` and `make test` work on a fresh Debian 12 machine.
#
#   make deps    install the Debian packages that are missing (a quick no-op when all are there)
#   make build   configure and build into build/ (binaries in build/bin/)
#   make run     build and start `vaultaire serve` on 127.0.0.1:8080 (S3) and :8081 (admin)
#   make test    build and run every test: unit (ctest) and end-to-end (pytest)
#   make bench   build and run the benchmarks (results go to docs/benchmarks.md by hand)
#   make bench-replay   only the log replay and export benchmark (REPLAY_EVENTS=10000000)
#   make asan    build with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/

BUILD       ?= build
BUILD_TYPE  ?= Release
JOBS        ?= $(shell nproc)
PYTHON      ?= /usr/bin/python3
DATA_DIR    ?= ./data

# Everything the build, the tests and the benchmarks use, as Debian 12 packages.
DEB_PACKAGES := \
  cmake ninja-build g++ make pkg-config ccache git \
  libboost1.81-dev librocksdb-dev libprotobuf-dev protobuf-compiler libpqxx-dev libssl-dev \
  liblz4-dev libspdlog-dev libcli11-dev libtomlplusplus-dev libpugixml-dev nlohmann-json3-dev \
  zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev \
  python3 python3-pytest python3-pytest-xdist python3-boto3 awscli rclone s3cmd curl procps \
  nginx-light postgresql python3-psycopg2

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build run test unit e2e bench bench-replay asan clean format

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${db:Status-Status}' "$$p" 2>/dev/null | grep -qx installed || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
# Node.js for the AWS SDK for JavaScript v3 tests (tests/e2e/js): any node >= 20 on PATH will
# do (the SDK requires it; Debian 12's own nodejs is 18), else Debian's nodejs and npm.
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "installing: nodejs npm"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; \
	fi
	@if [ ! -d tests/e2e/js/node_modules ] || \
	   [ tests/e2e/js/package-lock.json -nt tests/e2e/js/node_modules ]; then \
	  echo "npm ci in tests/e2e/js"; \
	  cd tests/e2e/js && npm ci --no-audit --no-fund && touch node_modules; \
	fi

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

ROOT_ACCESS_KEY ?= $(or $(VAULTAIRE_ROOT_ACCESS_KEY),vaultaire)
ROOT_SECRET_KEY ?= $(or $(VAULTAIRE_ROOT_SECRET_KEY),vaultaire-secret)

run: build
	@mkdir -p $(DATA_DIR)
	@echo "S3 endpoint  http://127.0.0.1:8080  (region us-east-1, path-style)"
	@echo "credentials  AWS_ACCESS_KEY_ID=$(ROOT_ACCESS_KEY) AWS_SECRET_ACCESS_KEY=$(ROOT_SECRET_KEY)"
	@echo "admin        http://127.0.0.1:8081/health /ready /metrics"
	@echo "data         $(DATA_DIR)   events: $(BUILD)/bin/vaultctl events tail --data-dir $(DATA_DIR)"
	VAULTAIRE_ROOT_ACCESS_KEY=$(ROOT_ACCESS_KEY) VAULTAIRE_ROOT_SECRET_KEY=$(ROOT_SECRET_KEY) \
	  $(BUILD)/bin/vaultaire serve --data-dir $(DATA_DIR) \
	  --s3-listen 127.0.0.1:8080 --admin-listen 127.0.0.1:8081

unit: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure

e2e: build
	VAULTAIRE_BIN=$(abspath $(BUILD))/bin $(PYTHON) -m pytest -n $(JOBS) -q tests/e2e

test: unit e2e

bench: build
	$(BUILD)/bin/event_log_bench --seconds 3
	$(BUILD)/bin/micro_bench
	bench/run_s3_bench.sh $(BUILD)/bin 5 3
	$(PYTHON) bench/put_memory.py --bin $(BUILD)/bin --gib 5
	bench/run_list_bench.sh $(BUILD)/bin 1000000 10
	$(PYTHON) bench/auth_bench.py --bin $(BUILD)/bin --rounds 6
	$(PYTHON) bench/auth_bench.py --bin $(BUILD)/bin --rounds 6 --tenants 1 --keys 1
	set -e; for f in zipf reports backups reborn; do $(BUILD)/bin/tiering_sim --generate $$f --seed 1; done
	$(PYTHON) bench/migration_bench.py --bin $(BUILD)/bin
	$(REPLAY_BENCH)

# Replay and export of a REPLAY_EVENTS-event log, next to a raw RocksDB iteration of it; the
# PostgreSQL export (a throwaway cluster) is timed for its first 120 s.
REPLAY_EVENTS ?= 10000000
REPLAY_BENCH = bench/replay/run_replay_bench.sh $(BUILD)/bin --events $(REPLAY_EVENTS) --pg-seconds 120

bench-replay: build
	$(REPLAY_BENCH)

asan:
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVAULTAIRE_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)

format:
	find src tools tests bench -name '*.h' -o -name '*.cc' | xargs clang-format-16 -i

clean:
	rm -rf $(BUILD) build-asan
