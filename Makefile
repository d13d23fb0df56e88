# The one entry point: install, run, test, lint, bench.
PYTHON ?= python3
VENV := .venv
CORE_VENV := .venv-core
PY := $(VENV)/bin/python
PLUGINS := docker aws gcp k8s slurm console
EDITABLES := -e ./core[postgres] $(foreach p,$(PLUGINS),-e ./plugins/redun-$(p))

.PHONY: install run test test-fast test-core test-k8s-other lint bytecode bench bench-compare bench-aws clean image

$(VENV)/.installed: core/pyproject.toml $(foreach p,$(PLUGINS),plugins/redun-$(p)/pyproject.toml) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=25.1"
	$(PY) -m pip install -q --group dev $(EDITABLES)
	touch $@

install: $(VENV)/.installed

run: install
	cd examples/hello_world && ../../$(VENV)/bin/redun run hello_world.py main

# pytest's exit code 5 (no tests collected) is a failure, like any other non-zero code.
test: install
	$(PY) -m pytest tests; rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests" >&2; [ $$rc -eq 0 ]

# The quick loop: everything but the tests marked slow or needing containers.
test-fast: install
	$(PY) -m pytest tests -m "not slow and not container" -q; rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests" >&2; [ $$rc -eq 0 ]

$(CORE_VENV)/.installed: core/pyproject.toml pyproject.toml
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install -q --upgrade "pip>=25.1"
	$(CORE_VENV)/bin/python -m pip install -q --group test -e ./core
	touch $@

test-core: $(CORE_VENV)/.installed
	$(CORE_VENV)/bin/python -m pytest tests/core; rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests" >&2; [ $$rc -eq 0 ]

# redun-k8s against the other supported kubernetes client (.venv has 37.0.x): a short
# run on the image `make test` built, without building it again, and without the
# emulator's own tests (the emulator does not depend on the client's version).
K8S_OTHER_VENV := .venv-k8s-other
$(K8S_OTHER_VENV)/.installed: core/pyproject.toml plugins/redun-k8s/pyproject.toml pyproject.toml
	$(PYTHON) -m venv $(K8S_OTHER_VENV)
	$(K8S_OTHER_VENV)/bin/python -m pip install -q --upgrade "pip>=25.1"
	$(K8S_OTHER_VENV)/bin/python -m pip install -q --group test --group k8s-client-other \
	  -e ./core -e ./plugins/redun-k8s
	touch $@

test-k8s-other: install $(K8S_OTHER_VENV)/.installed
	REDUN_K8S_REUSE_IMAGE=1 $(K8S_OTHER_VENV)/bin/python -m pytest tests/plugins/k8s -m "not slow" -q \
	  --ignore tests/plugins/k8s/emulator; \
	  rc=$$?; [ $$rc -ne 5 ] || echo "pytest collected no tests" >&2; [ $$rc -eq 0 ]

# Container image for container executors, built locally without a registry.
# IMAGE_PLUGINS="aws" builds one with redun-aws (and boto3) for AWS Batch.
IMAGE ?= localhost/redun:dev
IMAGE_PLUGINS ?=
image: install
	IMAGE_PLUGINS="$(IMAGE_PLUGINS)" bash images/build.sh $(IMAGE)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Benchmarks (bench/README.md). BENCH_ONLY=fanout,chain picks workflows;
# BENCH_SIZES="2000,10000" sets every task-count size, "fanout:100000 values:1" one each.
BENCH_ONLY ?=
BENCH_SIZES ?=
BENCH_FLAGS = --only "$(BENCH_ONLY)" --sizes "$(BENCH_SIZES)"
REDUN044_VENV := .venv-redun044

# Bytecode of the editable sources, as pip writes it for an installed wheel: without it
# (PYTHONDONTWRITEBYTECODE=1) every `redun` process compiles ~80 modules, ~70 ms of startup.
bytecode: install
	$(PY) -m compileall -q core/src $(foreach p,$(PLUGINS),plugins/redun-$(p)/src)

bench: bytecode
	$(PY) bench/run.py --engine ours=$(VENV)/bin/redun $(BENCH_FLAGS)

# The same workflows through both CLIs, alternating, each on a fresh SQLite file.
bench-compare: bytecode
	[ -f $(REDUN044_VENV)/.installed ] || { $(PYTHON) -m venv $(REDUN044_VENV) && \
	  $(REDUN044_VENV)/bin/python -m pip install -q redun==0.44.1 && \
	  touch $(REDUN044_VENV)/.installed; }
	$(PY) bench/run.py --compare --engine ours=$(VENV)/bin/redun \
	  --engine redun-0.44.1=$(REDUN044_VENV)/bin/redun $(BENCH_FLAGS)

# AWS Batch on moto + podman: API calls per job, scheduler CPU per job against docker
# (plugins/redun-aws/bench/batch_bench.py; figures in plugins/redun-aws/README.md).
BENCH_AWS_FLAGS ?=
bench-aws: install
	$(PY) plugins/redun-aws/bench/batch_bench.py $(BENCH_AWS_FLAGS)

clean:
	rm -rf $(VENV) $(CORE_VENV) $(K8S_OTHER_VENV)
