"""Ids of the Status page (``/status``)."""

MESSAGE = "status-message"
APP = "status-app"
SOURCE = "status-source"
CACHE = "status-cache"
CLEAR = "status-clear"
REFRESH = "status-refresh"
CLUSTER = "status-cluster"
