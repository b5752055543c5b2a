"""Fault tolerance: real processes (gunicorn, Redis, Ray) broken on purpose; see docs/performance.md."""
