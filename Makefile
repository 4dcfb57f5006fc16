# Set-up is part of every target: a fresh machine needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SRC    := qoder_tui tests bench scripts

.PHONY: bytecode demo test lint typecheck unit bench soak screenshots simulate clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

# An editable install leaves our modules uncompiled, and with PYTHONDONTWRITEBYTECODE set
# (as on this machine) every launch compiled them again: ~60 ms.  A wheel's install
# compiles them; this does the same for the checkout (a no-op when nothing changed).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q qoder_tui

demo: bytecode  ## the app on the embedded simulator's live multi-agent session
	$(BIN)/qoder-tui --demo

test: lint typecheck unit  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: $(STAMP)
	$(BIN)/mypy qoder_tui

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: bytecode  ## side-by-side performance ratios (not a test)
	$(BIN)/python bench/run.py

soak: $(STAMP)  ## the live follower through 1,000+ faults, with the figures (not a test)
	$(BIN)/python bench/soak.py

screenshots: $(STAMP)  ## regenerate the SVGs in screenshots/
	$(BIN)/python scripts/screenshots.py

simulate: $(STAMP)  ## serve the simulator on 127.0.0.1:8765
	$(BIN)/qoder-tui simulate

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
