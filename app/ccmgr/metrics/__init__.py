"""Prometheus metrics of one ccmgr node (docs/observability.md lists every name).

gunicorn runs one worker process with threads (``gunicorn_conf``), so each app has its
own ``CollectorRegistry``: the counters of the request middleware, and custom collectors
that read state the worker already holds (the collectors' cache, the clients, the HA
state file) at scrape time. A scrape therefore never makes a controller request. With
several workers each would report its own counters; that would need prometheus-client's
multiprocess mode, which the one-worker design does not.
"""
