# OrderTalk — the quick start is `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ORDERTALK_DATABASE_URL ?= sqlite:///var/ordertalk.db

.PHONY: install install-dev demo serve test lint fonts browser clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Install with uv when it can be had — a uv on the PATH, else pip installs it into the venv (one wheel) — because
# it resolves and installs the ~60 packages in seconds where pip takes minutes; plain pip when neither works.
# uv does not read pip's config files; PIP_FIND_LINKS / PIP_INDEX_URL / PIP_EXTRA_INDEX_URL are passed on.
define pip_install
	@UV=$$(command -v uv || true); \
	if [ -z "$$UV" ] && { [ -x $(BIN)/uv ] || $(BIN)/pip install -q uv >/dev/null 2>&1; }; then UV=$(BIN)/uv; fi; \
	if [ -n "$$UV" ] && UV_FIND_LINKS="$${UV_FIND_LINKS:-$$PIP_FIND_LINKS}" UV_INDEX_URL="$${UV_INDEX_URL:-$$PIP_INDEX_URL}" \
	   UV_EXTRA_INDEX_URL="$${UV_EXTRA_INDEX_URL:-$$PIP_EXTRA_INDEX_URL}" $$UV pip install -q --python $(BIN)/python $(1); then \
	  echo "installed with uv: $(1)"; \
	else echo "installing with pip: $(1)"; $(BIN)/pip install -q $(1); fi
endef

install: $(BIN)/python
	$(call pip_install,-e .)

install-dev: $(BIN)/python
	$(call pip_install,-e '.[dev]')

# CJK font for PDFs (delivery notes, statements); best effort: needs root and Debian's apt.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || \
	  (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	   (apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-wqy-microhei >/dev/null 2>&1))) || \
	  echo "note: install fonts-wqy-microhei (or set ORDERTALK_CJK_FONT) for Chinese PDFs"

demo: install fonts
	$(BIN)/ordertalk db upgrade
	$(BIN)/ordertalk demo-data --if-empty
	ORDERTALK_SANDBOX=1 $(BIN)/ordertalk serve

test: install-dev fonts
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
