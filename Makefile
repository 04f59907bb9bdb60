# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv with everything Between needs, on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean messages compile-messages

$(BIN)/between: pyproject.toml tests/example_plugin/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# Between was once installed under the name `between`, which on the package index is an
	# unrelated project: a .venv made then must not keep both.
	$(BIN)/pip uninstall --quiet --yes between 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[test]"
	# The example plugin distribution the tests discover through its entry point.
	$(BIN)/pip install --quiet --no-deps -e tests/example_plugin
	touch $(BIN)/between

demo: $(BIN)/between
	$(BIN)/between demo

test: $(BIN)/between
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: $(BIN)/between
	$(BIN)/python -m bench.run --clients 200

# Client-facing words (docs/translating.md): `make messages` finds them in the sources and brings
# each catalog up to date; translate the new entries, then `make compile-messages`.
POT := $(VENV)/between.pot
messages: $(BIN)/between
	$(BIN)/pybabel --quiet extract -F babel.cfg --no-location --sort-output --omit-header -o $(POT) .
	$(BIN)/pybabel --quiet update --ignore-obsolete --no-fuzzy-matching -i $(POT) -d language/locales -D between

compile-messages: $(BIN)/between
	$(BIN)/pybabel compile --statistics -d language/locales -D between

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
