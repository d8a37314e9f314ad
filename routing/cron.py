"""Scheduled routing jobs, for `python manage.py rqcron routing.cron`.

route_pending every minute is the safety net for leads whose job was lost; running it more
often than it takes is harmless (two sweeps never overlap).
"""

from rq import cron

from routing.jobs import route_pending_job

cron.register(route_pending_job, queue_name="routing", interval=60, job_timeout=1800)
