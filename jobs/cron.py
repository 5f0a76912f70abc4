"""RQ cron configuration: `keyhouse cron` (or `rq cron jobs.cron`) loads this module.

The cron process only enqueues; workers execute.
"""

from rq import cron

from jobs.outbound import catch_up
from jobs.sweep import sweep
from jobs.usage import rollup
from keyhouse import config

_settings = config.from_environment()

cron.register(
    sweep,
    queue_name=_settings["RQ_QUEUE"],
    interval=_settings["SWEEP_INTERVAL_SECONDS"],
    job_timeout=600,
)

cron.register(
    rollup,
    queue_name=_settings["RQ_QUEUE"],
    interval=_settings["USAGE_ROLLUP_SECONDS"],
    job_timeout=300,
)

# E-mail and webhooks whose job was lost (Redis down, a worker killed) are enqueued again.
cron.register(catch_up, queue_name=_settings["RQ_QUEUE"], interval=60, job_timeout=300)
