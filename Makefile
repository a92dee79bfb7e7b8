# Two commands do all set-up on a fresh Debian machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages: Chromium + Xvfb for the end-to-end tests, the X/Qt libraries that Qt WebEngine
# (pywebview's Linux backend) loads, imagemagick for screenshots; node/npm (for the bench's sharp
# peer) only when no node is installed, since NodeSource's nodejs bundles its own npm;
# libjxl-devtools gives bench/quality.py libjxl's own butteraugli; gcc, libc6-dev and
# libjpeg62-turbo-dev (jpeglib.h) build the jpegli shim (backend/core/formats/jpegli_build.py).
APT_PACKAGES := chromium xvfb xauth x11-utils xdotool libjxl-devtools imagemagick libgs-common \
	gcc libc6-dev libjpeg62-turbo-dev \
	fonts-dejavu-core \
	libxcb-cursor0 libxkbcommon-x11-0 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 \
	libegl1 libgl1 libxkbfile1 libasound2 libxshmfence1 libxcb-icccm4 libxcb-image0 \
	libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
	libfontconfig1 libdbus-1-3

.PHONY: install system-deps run serve test lint bench clean

install: system-deps $(STAMP)

# Only as root on Debian, and only what is missing, so a second run costs a dpkg query.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	  command -v node >/dev/null || missing="$$missing nodejs npm"; \
	  if [ -n "$$missing" ]; then \
	    echo "apt-get install: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: install
	$(VENV)/bin/image-optimizer

serve: install
	$(VENV)/bin/image-optimizer serve --open

lint: install
	$(VENV)/bin/ruff check .

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
