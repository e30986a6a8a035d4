# GeoFuse: `make demo` segments the bundled sample; `make test` runs the whole suite against a real QGIS.
SHELL := /bin/bash
QGIS_PYTHON ?= /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
QGIS_PLUGINS := /usr/share/qgis/python/plugins

export QT_QPA_PLATFORM := offscreen

.PHONY: setup test test-backend test-plugin test-setup fuzz lint demo demo-model bench bench-smoke screenshots package \
	install-plugin uninstall-plugin translations

setup:
	@QGIS_PYTHON=$(QGIS_PYTHON) VENV=$(VENV) bash scripts/setup.sh

test: setup lint test-backend test-plugin bench-smoke

lint:
	$(VENV)/bin/ruff check .

test-backend:
	$(PY) -m pytest -p no:pytest_qgis -p no:cacheprovider tests/backend -q

test-plugin:
	@PYTHONPATH=$(QGIS_PLUGINS) $(PY) scripts/run_plugin_tests.py -q

# The property-based attacks of tests/backend/test_fuzz.py with 10x the examples `make test` runs (for a release).
fuzz:
	GEOFUSE_FUZZ_SCALE=10 $(PY) -m pytest -p no:pytest_qgis -p no:cacheprovider tests/backend/test_fuzz.py -q \
		--hypothesis-show-statistics

# Minutes: a fresh QGIS profile installs the runtime with real pip (PyTorch included), then segments.
test-setup: setup
	@GEOFUSE_TEST_SETUP=1 PYTHONPATH=$(QGIS_PLUGINS) $(PY) -m pytest -p no:cacheprovider -q tests/plugin/test_runtime_setup.py

demo: setup
	$(VENV)/bin/geofuse demo --output demo-output

demo-model: setup
	$(PY) scripts/train_demo_model.py

bench: setup
	$(PY) bench/bench_scan.py
	$(PY) bench/bench_fusion.py
	$(PY) bench/bench_model.py

# Every benchmark once on a tiny size, so none of them can rot (part of `make test`). They run side by side
# (BENCH_SMOKE_JOBS at a time, one thread each); a failing one prints its error and fails the target.
BENCH_SMOKE_JOBS ?= 4
ADAPT_SMOKE := --seeds 0 --minutes 0.005 --train-size 256 --test-scenes 1 --test-size 128 --jobs 1 --crop 128 \
	--batch-size 1
bench-smoke: setup
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && printf '%s\n' \
		"bench/bench_model.py --smoke" \
		"bench/bench_scan.py --repeats 1 --lengths 64 --no-reference" \
		"bench/bench_scan_sizes.py --smoke" \
		"bench/bench_fusion.py --grids 8 --channels 8 --dim 8 --d-state 2 --repeats 1 --warmup 0" \
		"bench/bench_inference.py --smoke" \
		"bench/bench_isprs_reading.py --size 256 --window 64 --windows 2 --repeats 1" \
		"bench/bench_ot.py --smoke" \
		"bench/bench_adapt.py $(ADAPT_SMOKE) --workdir $$scratch/adapt" \
		"bench/gpu_check.py" \
	| TMPDIR="$$scratch" OMP_NUM_THREADS=1 xargs -P $(BENCH_SMOKE_JOBS) -I{} sh -c 'err=$$(mktemp) && \
		{ $(PY) {} > /dev/null 2> "$$err" || { echo "bench-smoke: FAILED: {}"; cat "$$err"; exit 1; }; }' \
	&& echo "bench-smoke: every benchmark ran"

screenshots: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/screenshots.py

package:
	$(QGIS_PYTHON) scripts/package.py

install-plugin:
	bash scripts/install_plugin.sh install

uninstall-plugin:
	bash scripts/install_plugin.sh uninstall

translations:
	bash scripts/translations.sh
