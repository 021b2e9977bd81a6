# The front door: `make help` lists the targets. Each target calls one tool; logic lives in
# playbooks, roles, tests and scripts, not here.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
INVENTORY ?= inventories/dev
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/ansible-playbook: requirements.txt requirements.yml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/ansible-galaxy collection install -r requirements.yml -p .collections
	touch $@

.PHONY: venv
venv: $(BIN)/ansible-playbook ## Install the pinned control-node tools into .venv

.PHONY: deploy
deploy: venv ## Deploy the whole stack (INVENTORY=inventories/dev by default; PROFILE=1 prints where the time went)
	$(if $(PROFILE),DJSTACK_PROFILE=1 )ansible-playbook site.yml -i $(INVENTORY)

.PHONY: test
test: venv unit lint syntax molecule reproducible ## Run every check: unit tests, lint, syntax, Molecule scenarios, a rebuild check

.PHONY: unit
unit: venv ## Unit tests of djstack's Python and the roles' documentation (seconds, no Docker)
	python -m pytest -q -p no:cacheprovider tests/unit

.PHONY: lint
lint: venv ## ansible-lint (production profile), yamllint, ruff, shellcheck
	yamllint --strict .
	ansible-lint --profile production
	ruff check app examples molecule roles bench tests
	ruff format --check app examples molecule roles bench tests
	shellcheck .ci/run molecule/test-all inventories/prod/vault-password.sh roles/deploy/files/*.sh roles/postgres/files/*.sh roles/nginx/files/*.sh roles/images/files/*/usr/local/bin/*

.PHONY: syntax
syntax: venv ## ansible-playbook --syntax-check of every playbook
	ansible-playbook --syntax-check -i $(INVENTORY) site.yml playbooks/*.yml

.PHONY: molecule
molecule: venv ## molecule test of every scenario (prod, examples, remote servers, dev): converge, idempotence, testinfra
	molecule/test-all

.PHONY: reproducible
reproducible: venv ## Rebuild the base and redis images twice; their IDs must match
	ansible-playbook playbooks/verify-reproducible.yml -i $(INVENTORY) -e '{"images_verify": ["base", "redis"]}'

.PHONY: verify-reproducible
verify-reproducible: venv ## Rebuild every image twice and print both IDs of each
	ansible-playbook playbooks/verify-reproducible.yml -i $(INVENTORY)

.PHONY: verify
verify: venv ## Rerun the testinfra checks against the converged Molecule stack
	molecule verify

.PHONY: status
status: venv ## Every service of the stack, on every host: state, health, release, resources; fails when one is not healthy
	ansible-playbook playbooks/status.yml -i $(INVENTORY)

.PHONY: maintenance
maintenance: venv ## ON=1: Nginx answers 503 with a maintenance page (but for its probe); ON=0 serves again
	ansible-playbook playbooks/maintenance.yml -i $(INVENTORY) -e nginx_maintenance_on=$(ON)

OPS := python3 roles/deploy/files/djstack-ops.py -i $(INVENTORY)

.PHONY: logs
logs: venv ## SERVICE's log from every host that runs it [LINES=100] [SINCE=10m] [FOLLOW=1]
	$(OPS) logs $(SERVICE) --lines $(or $(LINES),100) $(if $(SINCE),--since $(SINCE)) $(if $(FOLLOW),--follow)

.PHONY: manage
manage: venv ## A Django management command, ARGS="createsuperuser", in a one-off container of the serving release
	$(OPS) manage $(ARGS)

.PHONY: shell
shell: venv ## Django's shell in a one-off container of the serving release
	$(OPS) manage shell

.PHONY: dbshell
dbshell: venv ## psql in the PostgreSQL container, as the app's own role
	$(OPS) dbshell

.PHONY: run
run: venv ## Any command, CMD="python -m pytest", in a one-off container of the serving release [RUN_OPTS="--docker-arg=--env=X=1"]
	$(OPS) run $(RUN_OPTS) $(CMD)

.PHONY: plan
plan: venv ## What a deploy would do now (images, containers and why, files, release steps), changing nothing
	ansible-playbook playbooks/plan.yml -i $(INVENTORY) --check --diff

.PHONY: destroy
destroy: venv ## Remove the stack's containers, networks and files from every host (CONFIRM=<stack>); volumes stay unless PURGE=1
	ansible-playbook playbooks/destroy.yml -i $(INVENTORY) $(if $(CONFIRM),-e deploy_destroy_confirm=$(CONFIRM)) $(if $(PURGE),-e deploy_destroy_purge=true)

.PHONY: stop
stop: venv ## Stop SERVICE (web, worker, beat, postgres, redis, nginx, flower) on purpose: the watchdog leaves it down
	ansible-playbook playbooks/service.yml -i $(INVENTORY) -e deploy_service=$(SERVICE) -e deploy_service_state=stopped

.PHONY: start
start: venv ## Start SERVICE again after `make stop`
	ansible-playbook playbooks/service.yml -i $(INVENTORY) -e deploy_service=$(SERVICE) -e deploy_service_state=healthy

.PHONY: bundle
bundle: venv ## Write dist/djstack-<revision>.tar (project, tool wheels, every image) to deploy offline
	ansible-playbook playbooks/bundle.yml -i $(INVENTORY)

.PHONY: collection
collection: venv ## Build the collection djstack.stack (dist/djstack-stack-<version>.tar.gz), the same bytes from the same commit
	python roles/deploy/files/build-collection.py dist

.PHONY: init
init: venv ## Write deploy/ (inventories, requirements.yml, vault skeleton) into the Django project PROJECT=path
	ansible-playbook playbooks/init.yml -e deploy_init_project=$(abspath $(PROJECT))

.PHONY: bench
bench: venv ## Deploy a prod stack on the local engine and measure it (bench/results/<time>.json and .md)
	python bench/run.py $(BENCH_ARGS)

.PHONY: lock
lock: venv ## Re-resolve every pin: the app's hash-locked Python requirements and each image's Debian packages
	uv pip compile app/requirements.in --quiet --python-version 3.13 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --native-tls -o app/requirements.lock
	uv pip compile app/requirements-test.in --quiet --python-version 3.13 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --native-tls -o app/requirements-test.lock
	ansible-playbook playbooks/lock.yml -i $(INVENTORY)
	ansible-playbook playbooks/lock.yml -i examples/inventory
