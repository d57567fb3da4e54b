"""Ways to find an address of this host that workers elsewhere can connect to.

None of these touch the network except ``address_by_query`` (which asks a public web
service and fails fast here: no outbound network is assumed).  The public names live at
``parsl.addresses``; the HTEX client uses ``get_all_addresses`` and ``sorted_for_probing``
when ``address`` is None.
"""
from __future__ import annotations

import ipaddress
import logging
import platform
import socket
from typing import List, Optional, Sequence, Set

logger = logging.getLogger(__name__)


def address_by_route() -> str:
    """The local address the kernel would use to reach the internet (no packet is sent)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("8.8.8.8", 80))
        return s.getsockname()[0]
    finally:
        s.close()


def address_by_query(timeout: float = 30) -> str:
    """This host's public address as seen by ipify.org."""
    import urllib.request  # deferred: rarely used, and it pulls in http/ssl (~20 ms)
    with urllib.request.urlopen("https://api.ipify.org", timeout=min(timeout, 5)) as r:
        return r.read().decode().strip()


def address_by_hostname() -> str:
    """The address this machine's hostname resolves to."""
    return socket.gethostbyname(platform.node())


def address_by_interface(ifname: str) -> str:
    """The IPv4 address of a network interface, e.g. ``address_by_interface('eth0')``."""
    import psutil  # deferred: import parsl.addresses stays light (psutil ~10 ms)
    addrs = psutil.net_if_addrs()
    if ifname not in addrs:
        raise ValueError(f"no network interface {ifname!r}; this host has {sorted(addrs)}")
    for a in addrs[ifname]:
        if a.family == socket.AF_INET:
            return a.address
    raise ValueError(f"interface {ifname!r} has no IPv4 address")


def get_all_addresses() -> Set[str]:
    """Every address of this host worth advertising to workers (IPv4 and IPv6)."""
    import psutil  # deferred: see address_by_interface
    found: Set[str] = set()
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                addr = a.address.split("%", 1)[0]
                try:
                    if ipaddress.ip_address(addr).is_link_local:
                        continue
                except ValueError:
                    continue
                found.add(addr)
    for fn in (address_by_hostname, address_by_route):
        try:
            found.add(fn())
        except Exception as e:
            logger.debug("%s failed: %s", fn.__name__, e)
    return found


def get_any_address() -> str:
    """One address of this host, preferring a routable one over loopback."""
    for fn in (address_by_route, address_by_hostname):
        try:
            addr = fn()
            if addr:
                return addr
        except Exception:
            pass
    addrs = sorted(get_all_addresses(), key=lambda a: (ipaddress.ip_address(a).is_loopback, ":" in a, a))
    if not addrs:
        raise RuntimeError("this host has no usable network address")
    return addrs[0]


def tcp_url(address: str, port=None) -> str:
    """``tcp://address:port``, with IPv6 addresses bracketed."""
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    return f"tcp://{address}" + (f":{port}" if port is not None else "")


def sorted_for_probing(addresses) -> List[str]:
    """Routable IPv4 first, loopback last: what a remote manager most likely reaches."""
    def key(a):
        try:
            ip = ipaddress.ip_address(a)
            return (ip.is_loopback, ip.version, a)
        except ValueError:
            return (False, 9, a)
    return sorted(set(addresses), key=key)


def listen_addresses(address: Optional[str], loopback_address: str, blocks_are_local: bool,
                     advertised: Sequence[str]) -> List[str]:
    """Where the interchange listens for managers: only where they will connect.

    ``address`` given: that address (it is what the launch command tells managers).  Every
    block on this host (``blocks_are_local``): the loopback address only, so nothing off
    this host can reach the port.  Otherwise the addresses the launch command advertises
    (``advertised``, from ``get_all_addresses``), each bound explicitly, never ``*``.
    """
    if address:
        return [address]
    if blocks_are_local:
        return [loopback_address]
    return list(advertised) or ["*"]
