"""A network guard: any socket connection to a non-loopback address fails the test."""

from __future__ import annotations

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkAccessError(AssertionError):
    """A test tried to open a non-loopback connection."""


def _check(address: object) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host in ("localhost",):
                return
            raise NetworkAccessError(f"test tried to connect to {address!r}") from None
        if not ip.is_loopback:
            raise NetworkAccessError(f"test tried to connect to {address!r}")
    # AF_UNIX paths are local


def _connect(self: socket.socket, address: object) -> None:
    _check(address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    _check(address)
    return _real_connect_ex(self, address)


def _no_dns(*args: object, **kwargs: object) -> object:
    host = args[0] if args else kwargs.get("host")
    if host in (None, "localhost", "127.0.0.1", "::1") or str(host).startswith("127."):
        return _real_getaddrinfo(*args, **kwargs)
    raise NetworkAccessError(f"test tried to resolve {host!r}")


_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse non-loopback connections (and name lookups) for the whole test."""
    monkeypatch.setattr(socket.socket, "connect", _connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
