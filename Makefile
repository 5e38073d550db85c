# evalh: `make run` and `make test` are all a fresh clone needs.
SWIFT ?= swift
SUITE ?= suites/example.yaml
EVALH_ARGS ?=

.PHONY: build run test bench format lint deps pyenv clean report-preview

# libsqlite3-dev provides the SQLite headers GRDB compiles against; install it when missing.
deps:
	@if ! [ -f /usr/include/sqlite3.h ]; then \
	  echo "installing libsqlite3-dev"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libsqlite3-dev; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq libsqlite3-dev; fi; \
	fi

build: deps
	$(SWIFT) build

# Builds, runs the example suite against the bundled example agent, prints the summary.
run: build
	.build/debug/evalh run $(SUITE) $(EVALH_ARGS)

# The official MCP Python SDK in a virtual environment under .build/: the tests drive evalh's tool
# server with clients nobody here wrote (and LangGraph, for suites/agents/langgraph_agent.py).
# Pinned, so every machine tests against the same clients.
PY_REQUIREMENTS = mcp==1.30.0 langgraph==1.2.24 langchain-openai==1.7.4 langchain-mcp-adapters==0.3.2
PYENV = .build/py
$(PYENV)/.installed: Makefile
	python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check $(PY_REQUIREMENTS)
	@touch $@
pyenv: $(PYENV)/.installed

# Builds everything (the end-to-end tests run the built binaries), then runs every test.
test: build pyenv
	$(SWIFT) test --parallel

# Release build, then evalh's figures beside floors measured in the same run (docs/performance.md).
# wrk is the HTTP floor's load generator when it can be installed; else a built-in one is used.
bench: deps
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } || true
	$(SWIFT) build -c release --product evalh
	$(SWIFT) build -c release --product evalh-bench
	.build/release/evalh-bench $(BENCH_ARGS)

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

# The house rules (.swift-format): formatted as `make format` leaves it, no force unwraps or try! in Sources/.
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

clean:
	rm -rf .build

# Renders the latest run's HTML report and screenshots it with headless Chromium (installed when missing).
PREVIEW_DB ?= results/evalh.sqlite
report-preview: build
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	@mkdir -p docs/preview
	@[ -f $(PREVIEW_DB) ] || .build/debug/evalh run $(SUITE) --db $(PREVIEW_DB) --no-progress > /dev/null
	.build/debug/evalh report latest --db $(PREVIEW_DB) --format html --output docs/preview/report.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1240,4000 \
	  --screenshot=$(CURDIR)/docs/preview/report.png file://$(CURDIR)/docs/preview/report.html 2>/dev/null
	@echo "wrote docs/preview/report.html and docs/preview/report.png"
