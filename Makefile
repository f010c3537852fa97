# previewd — developer entry points. `make run` and `make test` work on a fresh Debian machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCHES := bench/webhook_to_commit.py bench/push_to_commit.py bench/resync_cost.py bench/release_latency.py

.PHONY: run test deps system-deps node-deps lint typecheck layers bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

## run: start previewd on its embedded defaults (state under ./.previewd/)
run: $(STAMP)
	$(BIN)/previewd serve $(if $(CONFIG),--config $(CONFIG),)

## system-deps: Debian packages the tests use (git, libseccomp2, registry, skopeo, node, postgresql)
system-deps:
	@./scripts/install-system-deps.sh

## node-deps: Prism and GitHub's OpenAPI description for contract tests
node-deps:
	@./scripts/install-node-deps.sh

deps: system-deps $(STAMP) node-deps

## test: install everything the tests need, then run lint, types and the whole suite
test: deps
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

## layers: check the import-linter contracts (pyproject.toml [tool.importlinter])
layers: $(STAMP)
	$(BIN)/lint-imports

## bench: run every benchmark and print its figures beside the targets
bench: deps
	@rc=0; for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b || rc=1; done; exit $$rc

clean:
	rm -rf $(VENV) .previewd .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
