"""Loaded by every Python process a test starts with this folder on PYTHONPATH (subprocesses and Ray
workers included): records each attempt to reach a host that is not this machine.

An audit hook sees the attempt even where it would fail (the test machine may have no network at all),
so a tool that phones home shows up here whether or not anyone answers. Attempts go, one line each, to
the file named by STYLECUT_TEST_NETWORK_LOG.
"""

import ipaddress
import os
import socket
import sys
import traceback

_LOG = os.environ.get("STYLECUT_TEST_NETWORK_LOG")
_LOCAL_NAMES = {"localhost", "", socket.gethostname()}


def _is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name to resolve: DNS, so not this machine
    return address.is_loopback or address.is_unspecified or _is_own(address)


def _is_own(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is one of this machine's interfaces: only those can be bound to."""
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def _record(event: str, host: object, port: object) -> None:
    where = "".join(traceback.format_stack(limit=6)[:-2]).replace("\n", " | ")
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()} {sys.argv[:1]} {event} {host!r}:{port!r} at {where}\n")


def _audit(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[-1]
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _record(event, address[0], address[1])
    elif event == "socket.getaddrinfo":
        if not _is_local(args[0]):
            _record(event, args[0], args[1])
    elif event in ("socket.gethostbyname", "socket.gethostbyaddr"):
        if not _is_local(args[0]):
            _record(event, args[0], None)


if _LOG:
    sys.addaudithook(_audit)
