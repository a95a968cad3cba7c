# The LVS appliance kit. `make help` lists the targets.
# Everything a target needs is fetched by the target itself (crates, rust targets),
# so that a fresh clone builds and tests with nothing installed by hand.

CARGO  ?= cargo
MUSL   := x86_64-unknown-linux-musl
GNU    := x86_64-unknown-linux-gnu
OUT    := out
CONFIG    ?= examples/001-dr-wrr-director.ron
IMAGE_OUT ?= $(OUT)/img
# make run: the operator's pki (made by `lvs-agent pki init` if absent) and the
# port of 127.0.0.1 forwarded to the VM's management API (a free one if taken).
PKI       ?= $(OUT)/pki
RUN_PORT  ?= 9443

.PHONY: help setup build static size tools image run image-lock lab-lock boot-table test disk-check lint unit fuzz fuzz-short fuzz-tool bench demo clean

# A fresh clone builds once: incremental caches would only take disk (0.8 GB).
ifneq ($(CI),)
export CARGO_INCREMENTAL := 0
endif

help:
	@echo "make setup   fetch crates and the musl target (falls back to static glibc later if it cannot)"
	@echo "make build   build lvs-agent and lvs-image (release)"
	@echo "make static  build a static x86_64 lvs-agent into $(OUT)/lvs-agent"
	@echo "make size    that agent's size, then what takes the room by crate and by symbol (cargo-bloat; not a gate)"
	@echo "make image   build a bootable image for CONFIG=file.ron into $(IMAGE_OUT) (kernel, initramfs, UKI, disk.img)"
	@echo "make run     build that image with the management API on and boot it under qemu, console on this terminal;"
	@echo "             prints the lvs-agent command that reaches the API from 127.0.0.1 (DISK=1: disk.img under OVMF)"
	@echo "make test    lint, then unit, host and lab tests (the lab needs root; it fetches qemu and the kernel)"
	@echo "make boot-table  the boot timings from the last make test's lab logs"
	@echo "make fuzz    run every fuzz target (tests/fuzz) for FUZZ_SECONDS in all (default 600), then report executions and crashes"
	@echo "make bench   time lvs-agent apply against ipvsadm -R and one ipvsadm per rule in one VM, then probe 10,000 backends for 60 s (root; minutes)"
	@echo "make image-lock / lab-lock  re-pin the Debian kernel / the lab's qemu, OVMF and busybox"
	@echo "make demo    check every example, then boot seed 001's DR lab: the client's answers and the director's table (root; ~1 min)"
	@echo "make clean   remove build output"

setup:
	$(CARGO) fetch
	-rustup target add $(MUSL)

build:
	$(CARGO) build --release --workspace

# A static agent: musl when rustup can add the target, else glibc with crt-static.
# Both are static-pie, rustc's default for a static binary on these targets, so
# the agent's own code is at a random address too (docs/SIZE.md).
GNU_STATIC_RUSTFLAGS := -C target-feature=+crt-static
# ring (rustls' crypto) compiles C and assembly for the target. Without a musl
# cross compiler, cc-rs looks for x86_64-linux-musl-gcc and fails; the host's
# gcc builds ring's self-contained C for musl (it includes no libc headers
# that differ), so it is the default. Point it at musl-gcc if you have one.
export CC_x86_64_unknown_linux_musl ?= gcc
static:
	@mkdir -p $(OUT)
	@if rustup target add $(MUSL) >/dev/null 2>&1; then \
		echo "static: building for $(MUSL)"; \
		$(CARGO) build --release -p lvs-agent --target $(MUSL) --target-dir target/static && \
		cp target/static/$(MUSL)/release/lvs-agent $(OUT)/lvs-agent; \
	else \
		echo "static: $(MUSL) cannot be had; building $(GNU) with crt-static"; \
		RUSTFLAGS='$(GNU_STATIC_RUSTFLAGS)' $(CARGO) build --release -p lvs-agent --target $(GNU) && \
		cp target/$(GNU)/release/lvs-agent $(OUT)/lvs-agent; \
	fi
	@ls -l $(OUT)/lvs-agent

# Not a gate: what the static agent weighs and what takes the room, for
# docs/SIZE.md. The first figure is the binary that ships (stripped). A stripped
# binary has no symbols to attribute bytes to, so cargo-bloat then builds the
# same agent again with its symbols (it turns the profile's strip off) in a
# target dir of its own, target/size, and reads that. cargo-bloat is pinned and
# installed by this target into .cache/, never system-wide.
BLOAT_VERSION := 0.12.1
BLOAT_ROOT    := .cache/cargo-bloat-$(BLOAT_VERSION)
SIZE_LINES    ?= 25
size: static
	@test -x $(BLOAT_ROOT)/bin/cargo-bloat || \
		$(CARGO) install --locked --quiet --root $(BLOAT_ROOT) --version $(BLOAT_VERSION) cargo-bloat
	@echo "== $(OUT)/lvs-agent as shipped: $$(stat -c %s $(OUT)/lvs-agent) bytes"
	@export PATH="$(CURDIR)/$(BLOAT_ROOT)/bin:$$PATH"; \
	if rustup target add $(MUSL) >/dev/null 2>&1; then target=$(MUSL); \
	else target=$(GNU); export RUSTFLAGS='$(GNU_STATIC_RUSTFLAGS)'; fi; \
	bloat="$(CARGO) bloat --release -p lvs-agent --bin lvs-agent --target $$target --target-dir target/size -n $(SIZE_LINES)"; \
	echo "== by crate (cargo-bloat $(BLOAT_VERSION), $$target, unstripped build in target/size)"; \
	$$bloat --crates && \
	echo "== by symbol" && \
	$$bloat

# What the lab tests boot: the static agent and the image builder, built side
# by side. Cargo builds one thing at a time in a target dir, so the static agent
# has its own (target/static); each build leaves a core idle for long stretches
# (its last crate, its link), which the other fills: a fresh clone's make demo
# went from 3 min 14 s of building to 2 min 45 s in all.
tools:
	@$(MAKE) --no-print-directory static & static=$$!; \
	$(CARGO) build --release -p lvs-image; host=$$?; \
	wait $$static && exit $$host

image: tools
	./target/release/lvs-image build --config $(CONFIG) --agent $(OUT)/lvs-agent --out $(IMAGE_OUT)

# The image is CONFIG plus the management API (lvs_tests::make_run), written to
# $(IMAGE_OUT).ron, with $(PKI) on it; see docs/LAB.md.
run: tools
	$(CARGO) run -q --release -p lvs-tests --bin lab-run -- --config $(CONFIG) --out $(IMAGE_OUT) \
		--pki $(PKI) --agent $(OUT)/lvs-agent --image-tool target/release/lvs-image --port $(RUN_PORT) $(if $(DISK),--disk)

image-lock:
	$(CARGO) run --release -p lvs-image -- lock

lab-lock:
	$(CARGO) run -p lvs-tests --bin lab-lock

boot-table:
	$(CARGO) run -q -p lvs-tests --bin boot-table

lint:
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path tests/fuzz/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit: tools
	$(CARGO) test --workspace

test: disk-check lint unit fuzz-short

# A fresh clone's make test writes 5.9 GB of build output, lab
# images and downloads under target/ and .cache/ (docs/ARCHITECTURE.md, Disk).
# A disk that fills up midway shows as a compiler's I/O error minutes in, so
# this says it first, in GB.
TEST_DISK_GB ?= 7
disk-check:
	@have=$$(du -sk target .cache 2>/dev/null | awk '{s+=$$1} END {print int(s/1048576)}'); \
	free=$$(df -Pk . | awk 'NR==2 {print int($$4/1048576)}'); \
	if [ $$((free + have)) -lt $(TEST_DISK_GB) ]; then \
		echo "make test: $$free GB free on the disk holding $$(pwd), and target/ and .cache/ hold $$have GB;"; \
		echo "make test writes about $(TEST_DISK_GB) GB there in all. Free $$(( $(TEST_DISK_GB) - free - have )) GB or more and run it again."; \
		exit 1; \
	fi

# Fuzzing with cargo-fuzz (libFuzzer), pinned and installed into .cache/ like
# cargo-bloat. Without a sanitizer, so that the stable toolchain builds it:
# the targets look for panics (overflows included: the fuzz build has
# debug assertions) and broken round trips, not for memory errors, which
# safe Rust does not make. Every run first executes each input kept in
# tests/fuzz/regressions/<target>/ (reproducers and seeds), then fuzzes from
# there; new corpus entries go to target/fuzz-corpus, crashes to
# target/fuzz-artifacts (the make target fails and names the file).
FUZZ_VERSION := 0.13.2
FUZZ_ROOT    := .cache/cargo-fuzz-$(FUZZ_VERSION)
FUZZ_TARGETS := config ipvsadm state netlink http_head manage_request
# make fuzz: this many seconds in all, shared by the targets (docs/FUZZ.md).
FUZZ_SECONDS ?= 600
# make test: this many seconds for each target.
FUZZ_SHORT_SECONDS ?= 5

fuzz-tool:
	@test -x $(FUZZ_ROOT)/bin/cargo-fuzz || \
		$(CARGO) install --locked --quiet --root $(FUZZ_ROOT) --version $(FUZZ_VERSION) cargo-fuzz

fuzz: fuzz-tool
	@$(MAKE) --no-print-directory fuzz-run FUZZ_EACH=$$(( $(FUZZ_SECONDS) / $(words $(FUZZ_TARGETS)) ))

fuzz-short: fuzz-tool
	@$(MAKE) --no-print-directory fuzz-run FUZZ_EACH=$(FUZZ_SHORT_SECONDS)

fuzz-run:
	@export PATH="$(CURDIR)/$(FUZZ_ROOT)/bin:$$PATH"; \
	echo "== fuzz: building the targets (cargo fuzz $(FUZZ_VERSION), target/fuzz-cov)"; \
	cargo fuzz build --fuzz-dir tests/fuzz --target-dir target/fuzz-cov --sanitizer none --debug-assertions >target/fuzz-build.log 2>&1 \
		|| { cat target/fuzz-build.log; exit 1; }; \
	failed=0; \
	for t in $(FUZZ_TARGETS); do \
		rm -rf target/fuzz-artifacts/$$t; mkdir -p target/fuzz-corpus/$$t target/fuzz-artifacts/$$t target/fuzz-logs; \
		log=target/fuzz-logs/$$t.log; \
		cargo fuzz run --fuzz-dir tests/fuzz --target-dir target/fuzz-cov --sanitizer none --debug-assertions \
			$$t target/fuzz-corpus/$$t tests/fuzz/regressions/$$t -- \
			-max_total_time=$(FUZZ_EACH) -artifact_prefix=target/fuzz-artifacts/$$t/ -print_final_stats=1 >$$log 2>&1; \
		rc=$$?; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -1); \
		crashes=$$(ls target/fuzz-artifacts/$$t | wc -l); \
		printf '%-15s %10s executions in %s s, %s crash files in target/fuzz-artifacts/%s (exit %s)\n' \
			$$t "$${runs:-?}" $(FUZZ_EACH) $$crashes $$t $$rc; \
		if [ $$rc -ne 0 ] || [ $$crashes -ne 0 ]; then failed=1; grep -m1 -A12 'panicked\|ERROR' $$log; fi; \
	done; \
	exit $$failed

# Not a test: prints times and ratios (BENCH_SERVICES, BENCH_DESTS scale it),
# then the probe engine's cost against 10,000 backends (BENCH_PROBE_SECONDS, BENCH_PROBE_TARGETS).
bench: tools
	$(CARGO) run -q --release -p lvs-tests --bin bench
	$(CARGO) run -q --release -p lvs-tests --bin probe_bench

# Seed 001's DR setup in the qemu lab (tests/src/bin/demo.rs). Root first: the
# lab needs a network namespace, and building for nothing would waste minutes.
demo:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make demo needs root: it boots three qemu VMs on a bridge in a network namespace of its own."; \
		echo "Run it as root, e.g. sudo make demo"; exit 1; fi
	@echo "== building the static agent the VMs boot, lvs-image and the demo (side by side, as tools)"
	@$(MAKE) --no-print-directory static & static=$$!; \
	$(CARGO) build -q --release -p lvs-image -p lvs-tests --bin lvs-image --bin demo; host=$$?; \
	wait $$static && exit $$host
	@echo "== lvs-agent check examples/*.ron (the 8099 example is refused on purpose)"
	@./$(OUT)/lvs-agent check examples/*.ron; test $$? -eq 2
	@echo "== seed 001 in the lab: director ds1, real servers rs1 and rs2, and a client VM"
	@./target/release/demo

clean:
	$(CARGO) clean
	rm -rf $(OUT)
