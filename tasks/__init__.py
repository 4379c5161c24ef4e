"""The runtime glue: the Celery app and its tasks, the scheduler process and the `trygg` CLI."""
