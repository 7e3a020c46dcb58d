# The two commands of README.md: `make demo` (the main job) and `make test` (the suite).
# Each creates or reuses .venv and installs only what is missing.
PY := .venv/bin/python
export FIFTYONE_DO_NOT_TRACK := true
export FIFTYONE_DATABASE_VALIDATION := false

.PHONY: install demo test benchmark

install:
	@bash scripts/bootstrap.sh

demo: install
	$(PY) -m petturtle.demo $(DEMO_ARGS)

test: install
	bash scripts/with-mongod.sh bash scripts/run-tests.sh $(TEST_ARGS)

benchmark: install
	$(PY) benchmarks/bench_engine.py
