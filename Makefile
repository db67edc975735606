# One entry point: `make book` builds the HTML book, `make test` runs every check. Both set up .venv first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
EXECUTED := _build/executed
SRC := _build/src
BENCH := _build/bench
# MathJax ships with the book (no CDN): the npm registry's package, unpacked once into _build/vendor.
MATHJAX_VERSION := 3.2.2
MATHJAX_DIR := _build/vendor/mathjax-$(MATHJAX_VERSION)
MATHJAX := $(MATHJAX_DIR)/es5/tex-mml-chtml.js
# Progress bars are for people at a keyboard; executed and compared notebooks stay quiet.
QUIET := TQDM_DISABLE=1 PYTHONWARNINGS=ignore::DeprecationWarning

.PHONY: venv execute book test lint pairs sync refresh bench clean check-html colab-check replication

venv: $(STAMP)

$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-lock.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Execute every notebook into _build/executed (never in place), as jobs of one torch thread each, two at a time (two
# one-thread jobs on 2 cores get through more than one two-thread job). The chapters that hand each other their
# networks run in order, 01 -> 02 -> ... -> 07; every other job is independent and runs wherever a lane is free:
# chapter 8's chains, one job per seed of $(CHAIN_SEEDS) (python -m symbiote_lite.replication, through a local Dask
# cluster of one worker), and per seed of $(ERASURE_SEEDS) the erasure chapter's references and measurement once that
# seed's networks exist (python -m symbiote_lite.erasure --measure). 08 and 09 follow the chains, 10 (the toy-model
# symbiote) needs only 01's toy models, 11 (erasure) reads the per-seed records. Each job's wall time goes to a table
# the reproducibility page includes.
CHAIN_SEEDS := 1 2 3 4 5 6 7
ERASURE_SEEDS := 0 1 2 3 4 5 6 7
EXECUTED_NBS := $(patsubst notebooks/%,$(EXECUTED)/%,$(NOTEBOOKS))
CHAINS := $(foreach s,$(CHAIN_SEEDS),$(EXECUTED)/.chain-$(s))
ERASURE := $(foreach s,$(ERASURE_SEEDS),$(EXECUTED)/.erasure-$(s))
LANE := OMP_NUM_THREADS=1 $(QUIET)
TIMED = start=$$(date +%s); echo "== $(1)"; $(2) || exit 1; took=$$(( $$(date +%s) - start )); \
	echo "== $(1) took $$took s"; echo "| $(1) | $$took |" > $(EXECUTED)/.times/$(3).md

execute: $(STAMP)
	rm -rf $(EXECUTED) && mkdir -p $(EXECUTED)/.times
	start=$$(date +%s); $(MAKE) -j2 --no-print-directory $(EXECUTED_NBS) || exit 1; \
	took=$$(( $$(date +%s) - start )); \
	{ printf '| notebook | seconds |\n|---|---|\n'; for f in $$(LC_ALL=C ls $(EXECUTED)/.times); do cat $(EXECUTED)/.times/$$f; done; \
	  echo "| **all of the above, two lanes** | **$$took** |"; } > $(EXECUTED)/timings.md
	cat $(EXECUTED)/timings.md

$(EXECUTED)/%.ipynb: notebooks/%.ipynb
	@$(call TIMED,$*,$(LANE) $(PY) -m papermill --cwd notebooks --no-progress-bar $< $@,$*)

$(EXECUTED)/.chain-%:
	@$(call TIMED,chain of seed $* for 08_replication,$(LANE) $(PY) -m symbiote_lite.replication --workers 1 $*,08-chain-$*)
	touch $@

# A seed's erasure record: its retrained and fine-tuned references (20 networks, cached), then the probes and attacks
# on every method's edits of that seed's networks (seed 0's come from chapters 4-6, the others' from their chain).
# The chains run one after another (order-only on the previous seed's) and so do the erasure jobs of seeds 1-7, so a lane
# stays free for the chapters 02 -> 07 (the longest sequence) instead of waiting behind the independent jobs.
$(foreach i,$(wordlist 2,99,$(CHAIN_SEEDS)),$(eval $(EXECUTED)/.chain-$(i): | $(EXECUTED)/.chain-$(word $(i),0 $(CHAIN_SEEDS))))
$(foreach i,$(wordlist 2,99,$(CHAIN_SEEDS)),$(eval $(EXECUTED)/.erasure-$(i): | $(EXECUTED)/.erasure-$(word $(i),0 $(CHAIN_SEEDS))))
$(EXECUTED)/.erasure-0: $(EXECUTED)/06_circuits.ipynb
$(filter-out %-0,$(ERASURE)): $(EXECUTED)/.erasure-%: $(EXECUTED)/.chain-%
$(ERASURE): $(EXECUTED)/.erasure-%:
	@$(call TIMED,erasure of seed $* for 11_erasure,$(LANE) $(PY) -m symbiote_lite.erasure --measure $*,11-erasure-$*)
	touch $@

$(EXECUTED)/02_primary_cnn.ipynb: $(EXECUTED)/01_superposition.ipynb
$(EXECUTED)/03_bimt_pruning.ipynb: $(EXECUTED)/02_primary_cnn.ipynb
$(EXECUTED)/04_symbiote.ipynb: $(EXECUTED)/03_bimt_pruning.ipynb
$(EXECUTED)/05_results.ipynb: $(EXECUTED)/04_symbiote.ipynb
$(EXECUTED)/06_circuits.ipynb: $(EXECUTED)/05_results.ipynb
$(EXECUTED)/07_published_code.ipynb: $(EXECUTED)/06_circuits.ipynb
$(EXECUTED)/08_replication.ipynb: $(EXECUTED)/07_published_code.ipynb $(CHAINS)
$(EXECUTED)/09_universality.ipynb: $(EXECUTED)/06_circuits.ipynb $(CHAINS)
$(EXECUTED)/11_erasure.ipynb: $(ERASURE)
$(EXECUTED)/10_toy_features.ipynb: $(EXECUTED)/01_superposition.ipynb

# Chapter 8 at any number of seeds: the chains of seeds FIRST_SEED .. FIRST_SEED+N_SEEDS-1 in parallel through
# Dask (a local cluster of WORKERS processes with one torch thread each, empty = one per core; or the running
# cluster at SCHEDULER=tcp://host:8786, whose workers must share the data root), then the chapter executed on them
# into _build/replication, e.g. `make replication N_SEEDS=20 WORKERS=8`.
N_SEEDS ?= 5
FIRST_SEED ?= 0
WORKERS ?=
SCHEDULER ?=
REPLICATION := _build/replication

replication: $(STAMP)
	mkdir -p $(REPLICATION)
	$(QUIET) $(PY) -m symbiote_lite.replication $(if $(WORKERS),--workers $(WORKERS)) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $$(seq $(FIRST_SEED) $$(( $(FIRST_SEED) + $(N_SEEDS) - 1 )))
	$(QUIET) $(PY) -m papermill --cwd notebooks --no-progress-bar -p N_SEEDS $(N_SEEDS) -p FIRST_SEED $(FIRST_SEED) \
	  notebooks/08_replication.ipynb $(REPLICATION)/08_replication.ipynb
	@echo "Chapter 8 over $(N_SEEDS) seeds is at $(CURDIR)/$(REPLICATION)/08_replication.ipynb"

# Benchmarks print markdown tables; the reproducibility page includes them.
bench: $(STAMP)
	mkdir -p $(BENCH)
	for b in bench/*.py; do \
	  echo "== benchmark $$b"; $(QUIET) $(PY) $$b > $(BENCH)/$$(basename $$b .py).md || exit 1; cat $(BENCH)/$$(basename $$b .py).md; \
	done

$(MATHJAX):
	rm -rf $(MATHJAX_DIR) && mkdir -p $(MATHJAX_DIR)
	cd _build/vendor && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null
	tar -xzf $(MATHJAX_DIR).tgz -C $(MATHJAX_DIR) --strip-components=1 package/es5
	test -f $@

# Build the HTML book from the executed copies and the benchmark tables (warnings are errors).
book: execute bench $(MATHJAX)
	rm -rf $(SRC) && mkdir -p $(SRC)/notebooks $(SRC)/book/generated $(SRC)/_vendor
	cp -r _config.yml _toc.yml book $(SRC)/
	cp -r $(MATHJAX_DIR)/es5 $(SRC)/_vendor/mathjax
	cp $(EXECUTED)/*.ipynb $(SRC)/notebooks/
	cp $(EXECUTED)/timings.md $(BENCH)/*.md $(SRC)/book/generated/
	$(VENV)/bin/jupyter-book build $(SRC) --path-output . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(VENV)/bin/ruff check symbiote_lite tests bench notebooks tools book/_ext
	$(VENV)/bin/actionlint .github/workflows/*.yml

# Load every page of the built book in headless Chromium (screenshots in _build/screenshots).
check-html: $(STAMP)
	$(PY) tools/check_html.py _build/html --screenshots _build/screenshots

# Chapters 02 and 04 from an installed wheel in an empty folder, as on Colab (times in _build/colab-check).
colab-check: $(STAMP)
	bash tools/colab_check.sh $(VENV)

# Unit tests (incl. the jupytext pair check), then nbval on the notebooks' headline cells.
test: lint
	$(QUIET) $(PY) -m pytest tests
	$(QUIET) $(PY) -m pytest --nbval-lax -p no:cacheprovider $(NOTEBOOKS)

# After editing a notebook's .py: update its .ipynb.
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.py

# Copy the outputs of the last full run into the committed notebooks (what GitHub and Colab show).
refresh: execute
	cp $(EXECUTED)/*.ipynb notebooks/
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.ipynb

clean:
	rm -rf _build
