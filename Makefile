# OrderTalk — the quick start is `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ORDERTALK_DATABASE_URL ?= sqlite:///var/ordertalk.db

.PHONY: install install-dev demo serve test lint fonts browser clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'

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

clean:
	rm -rf $(VENV) var
