"""Scheduled routing jobs, for `python manage.py rqcron routing.cron`.

route_pending every minute is the safety net for leads whose job was lost; running it more
often than it takes is harmless (two sweeps never overlap). watch_sla breaches overdue
assignments (two passes at once breach nothing twice); the deliveries sweep sends outbox rows
whose job was lost; the rollup fold keeps the reports' rollups current (two folds never overlap).
"""

from rq import cron

from notifications.jobs import deliveries_sweep_job
from reports.jobs import rollups_fold_job
from routing.jobs import route_pending_job, watch_sla_job

cron.register(route_pending_job, queue_name="routing", interval=60, job_timeout=1800)
cron.register(watch_sla_job, queue_name="routing", interval=60, job_timeout=1800)
cron.register(deliveries_sweep_job, queue_name="notifications", interval=60, job_timeout=1800)
cron.register(rollups_fold_job, queue_name="default", interval=60, job_timeout=1800)
