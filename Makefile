# salesorg — the two commands are `make run` and `make test` (see README.md).
.PHONY: run test lint format messages bench smoke clean

run:            ## set up and start the product (web + worker with beat) on :8000
	./scripts/run

test:           ## lint, migration check and the whole test suite (PostgreSQL + Redis)
	./scripts/test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

messages:       ## extract strings into the .po files and compile them
	for app in accounts clients pipeline reports; do \
	  (cd $$app && mkdir -p locale && DEBUG=1 DJANGO_SETTINGS_MODULE=salesorg.settings PYTHONPATH=.. \
	   ../.venv/bin/django-admin makemessages -l zh_Hans); done
	DEBUG=1 .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var \
	  --ignore='static/*' --ignore='tests/*' --ignore='accounts/*' --ignore='clients/*' \
	  --ignore='pipeline/*' --ignore='reports/*'
	DEBUG=1 .venv/bin/python manage.py compilemessages --ignore=.venv

bench:          ## seed the large demo into PostgreSQL, serve it with gunicorn, measure every endpoint
	./scripts/bench

smoke:          ## start `make run` on embedded defaults, check /healthz and a login, stop it
	./scripts/smoke

clean:
	rm -rf var .venv
