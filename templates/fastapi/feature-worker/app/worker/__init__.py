"""Background jobs on Redis with taskiq: the API enqueues them, `make worker` runs them.

broker.py   the queue (a Redis stream), its retries and job states; what the worker process loads
tasks.py    the jobs themselves (summarize_item)
jobs.py     each job's state in Redis (queued, running, retrying, succeeded, failed), kept 24 h
heartbeat.py  the worker's sign of life, read by its container healthcheck
"""
