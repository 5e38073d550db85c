# evalh: `make run` and `make test` are all a fresh clone needs.
SWIFT ?= swift
SUITE ?= suites/example.yaml
EVALH_ARGS ?=

.PHONY: build run test bench format lint deps pyenv clean report-preview

# libsqlite3-dev provides the SQLite headers GRDB compiles against; install it when missing.
# libxml2-utils provides xmllint, which the tests validate evalh's JUnit with; LibreOffice (headless)
# opens the .xlsx export in the tests as a spreadsheet user would; curl asks Arize Phoenix for spans.
APT_NEEDS = $(if $(wildcard /usr/include/sqlite3.h),,libsqlite3-dev) $(if $(shell command -v xmllint),,libxml2-utils) \
  $(if $(shell command -v soffice),,libreoffice-calc-nogui) $(if $(shell command -v curl),,curl)
deps:
	@if [ -n "$(strip $(APT_NEEDS))" ]; then \
	  echo "installing $(strip $(APT_NEEDS))"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(APT_NEEDS); \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq $(APT_NEEDS); fi; \
	fi

build: deps
	$(SWIFT) build

# Builds, runs the example suite against the bundled example agent, prints the summary.
run: build
	.build/debug/evalh run $(SUITE) $(EVALH_ARGS)

# The official MCP Python SDK in a virtual environment under .build/: the tests drive evalh's tool
# server with clients nobody here wrote (and LangGraph, for suites/agents/langgraph_agent.py).
# Pinned, so every machine tests against the same clients. junitparser reads evalh's JUnit as CI
# plugins do; jsonschema holds the example suites and the docs' YAML to `evalh schema`; openpyxl
# reads the .xlsx export back; opentelemetry-proto decodes the OTLP traces evalh sends. Two
# published JUnit schemas come from source releases that carry them, so xmllint can hold the JUnit
# to them without a copy in this repository: the Jenkins xunit plugin's junit-10.xsd (pytest's, MIT)
# and Jenkins' junit-4.xsd (behave's).
PY_REQUIREMENTS = mcp==1.30.0 langgraph==1.2.24 langchain-openai==1.7.4 langchain-mcp-adapters==0.3.2 junitparser==5.0.3 \
  jsonschema==4.26.0 PyYAML==6.0.4 openpyxl==3.1.5 opentelemetry-proto==1.39.1
PYENV = .build/py
$(PYENV)/.installed: Makefile
	python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check $(PY_REQUIREMENTS)
	rm -rf $(PYENV)/sdist && mkdir -p $(PYENV)/xsd
	$(PYENV)/bin/pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d $(PYENV)/sdist \
	  pytest==9.2.0 behave==1.3.3
	tar -xzf $(PYENV)/sdist/pytest-9.2.0.tar.gz -O pytest-9.2.0/testing/example_scripts/junit-10.xsd > $(PYENV)/xsd/junit-10.xsd
	tar -xzf $(PYENV)/sdist/behave-1.3.3.tar.gz -O behave-1.3.3/etc/junit.xml/junit-4.xsd > $(PYENV)/xsd/junit-4.xsd
	@touch $@
# Arize Phoenix, an OTLP receiver nobody here wrote, receives evalh's traces in the tests. In a
# virtual environment of its own: its dependencies are not the MCP clients'.
PHOENIX = .build/phoenix
$(PHOENIX)/.installed: Makefile
	python3 -m venv $(PHOENIX)
	$(PHOENIX)/bin/pip install --quiet --disable-pip-version-check arize-phoenix==20.26.1
	@touch $@
pyenv: $(PYENV)/.installed $(PHOENIX)/.installed

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
