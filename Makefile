# The two commands of the README: `make demo` and `make test`.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test test-fast bench model clean

setup:
	@bash scripts/setup.sh

# Set up, then harvest the bundled demo site once and check the CSVs against its true values.
demo: setup
	$(BIN)/robot run-once --config config.yaml --check-demo

# Set up, then run the whole test suite (unit + end-to-end in headless Chromium).
test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

bench: setup
	$(BIN)/python bench/bench_recognizer.py

# Rebuild the shipped model from scratch (see README: Training the shipped model).
model: setup
	bash scripts/train-shipped-model.sh

clean:
	rm -rf $(VENV) *.egg-info build
