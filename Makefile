# The two commands of this repository (see README.md). Both bootstrap their tools into .tools/.
TOOLS := .tools
NOX := $(TOOLS)/bin/nox
PYTHON ?= python3

.PHONY: demo test
demo: $(NOX) ## Render the default project into build/demo and run its whole lifecycle
	$(NOX) -s demo

test: $(NOX) ## Run the whole test suite: lint, plugin tests, render tests, end-to-end tests, docs
	$(NOX) -s lint plugin tests e2e docs

$(NOX): requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $@
