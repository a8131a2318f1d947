"""Who is asking: the client's address, which every per-address decision keys on
(the meter's backstop, the search limit, allauth's log-in and sign-up limits
through newsroom/allauth_adapter.py, the crawler check).

REMOTE_ADDR is the peer that opened the connection to us. X-Forwarded-For is
words in a header that anyone may write, so it is believed only as far as
proxies we run wrote it: if the peer is one of TRUSTED_PROXIES, the last entry
is the address that proxy saw; if that address is a trusted proxy too, the
entry before it; and so on, from the right. The first address that is not a
trusted proxy is the client. A client that reaches gunicorn directly is not a
trusted proxy, so nothing it writes in the header counts, whatever else is
configured.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's "::ffff:10.0.0.1" is 10.0.0.1
    return address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry our own proxies wrote."""
    peer = request.META.get("REMOTE_ADDR", "")
    address = _address(peer)
    if address is None:
        return peer or "unknown"
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if networks and _is_trusted(address, networks):
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            previous = _address(hop)
            if previous is None:  # not an address a proxy of ours would write: stop at the last sure one
                break
            address = previous
            if not _is_trusted(address, networks):
                break
    return str(address)
