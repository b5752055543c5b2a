"""Ports chosen for Ray's processes are distinct: a bind-and-close at a time may hand out
one port twice, and ``ray start`` then refuses the node (it failed a CI run's topology)."""

from __future__ import annotations

import socket

from engine.execution import cluster
from tests.support.procs import free_port, free_ports


def test_free_ports_are_distinct_and_free() -> None:
    ports = cluster.free_ports(6)
    assert len(set(ports)) == 6
    for port in ports:  # each is free now
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_ports_are_never_handed_out_twice() -> None:
    given = free_ports(6) + [free_port() for _ in range(20)] + cluster.free_ports(6)
    assert len(set(given)) == len(given) == 32
