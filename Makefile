# LeadOps: `make demo` runs the product, `make test` runs the whole test suite.
# Both set themselves up on a fresh machine with only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv serve clean bench

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py route_pending --all
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@if [ -n "$$REDIS_URL" ]; then \
		echo "Starting an RQ worker and the route_pending schedule beside the server"; \
		$(PY) manage.py rqworker default routing --with-scheduler & \
		$(PY) manage.py rqworker notifications --with-scheduler & \
		$(PY) manage.py rqcron routing.cron & \
		trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	fi; \
	echo; \
	echo "LeadOps is at http://127.0.0.1:8000/admin/  (ops: admin / leadops-admin-demo)"; \
	echo "Reports at    http://127.0.0.1:8000/reports/ (manager: manager / leadops-manager-demo)"; \
	echo "A rep's page  http://127.0.0.1:8000/queue/   (rep: rep / leadops-rep-demo)"; \
	echo; \
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/routing.py
	$(PY) bench/intake.py
	$(PY) bench/reports.py

clean:
	rm -rf $(VENV) db.sqlite3 static_collected
