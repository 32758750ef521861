# The README's two commands: `make demo` and `make test`. Both set up everything they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MERMAID := site/assets/javascripts/vendor/mermaid.min.js
# ddddocr's OCR model (54 MB), detector (20 MB) and logo (MIT): fetched once from its pinned
# PyPI wheel for the tests.
DDDDOCR := build/downloads/ddddocr_common.onnx build/downloads/ddddocr_det.onnx \
	build/downloads/ddddocr_logo.png

.PHONY: demo test lint setup browser serve clean magika

demo: setup ## build every engine in specs/, render the pages, check deploy.yaml, build the HTML site
	$(BIN)/trtdoc build    # the paths come from trtdoc.yml
	$(BIN)/trtdoc compat
	$(BIN)/mkdocs build --strict --site-dir public
	@echo "Site built in public/. Browse it with: $(BIN)/mkdocs serve"

test: setup browser lint ## the whole test suite (CI runs exactly this): lint first, then pytest
	$(BIN)/python -m pytest -q -ra

lint: setup ## mypy and ruff, as CI runs them
	$(BIN)/mypy trtdoc
	$(BIN)/ruff check trtdoc tests bench models

serve: setup
	$(BIN)/mkdocs serve

setup: $(STAMP) $(MERMAID) $(DDDDOCR)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Mermaid comes from the npm package at setup and is served from the site itself, so pages work
# with no network at view time. It is never committed. `trtdoc render`/`build` copy the same
# file (trtdoc/render/assets.py); this copy is for the tests, which build sites without them.
$(MERMAID): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(dir $@)
	cp node_modules/mermaid/dist/mermaid.min.js $@

# Headless Chromium for the browser tests, from Debian's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "install chromium (apt-get install chromium) for the browser tests"; fi; }

# Rebuild the magika example's checked-in model and data from pinned PyPI files and compare them
# byte for byte (models/README.md). Needs PyPI; neither demo nor test runs it.
magika: setup
	$(BIN)/python models/fetch_magika.py verify

clean:
	rm -rf $(VENV) node_modules build public

$(DDDDOCR) &: models/fetch_ddddocr.py models/pinned_wheel.py | $(STAMP)
	$(BIN)/python models/fetch_ddddocr.py
