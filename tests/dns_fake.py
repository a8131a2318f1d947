"""A small authoritative DNS server on loopback (dnslib), for the crawler check.

It answers only what its zone holds, like a real server: a name it does not
know is NXDOMAIN, a known name without the asked type is an empty answer
(NOERROR), and a query it cannot parse gets FORMERR. The site queries it with
its real resolver (dnspython) over UDP; nothing in the site is patched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from dnslib import AAAA, PTR, QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[RR]] = {}
        self.queries: list[tuple[str, str]] = []

    def _add(self, name: str, rtype: str, rdata) -> None:
        name = name.rstrip(".").lower() + "."
        rr = RR(name, getattr(QTYPE, rtype), rdata=rdata, ttl=300)
        self.records.setdefault((name, rtype), []).append(rr)

    def ptr(self, ip: str, name: str) -> None:
        self._add(ipaddress.ip_address(ip).reverse_pointer, "PTR", PTR(name))

    def forward(self, name: str, ip: str) -> None:
        version = ipaddress.ip_address(ip).version
        self._add(name, "AAAA" if version == 6 else "A", AAAA(ip) if version == 6 else A(ip))

    def host(self, ip: str, name: str) -> None:
        """A properly set-up host: PTR to the name and the name back to the address."""
        self.ptr(ip, name)
        self.forward(name, ip)

    def resolve(self, request: DNSRecord, handler) -> DNSRecord:
        reply = request.reply()
        qname = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        if (qname, qtype) in self.records:
            for rr in self.records[(qname, qtype)]:
                reply.add_answer(rr)
        elif not any(name == qname for name, _ in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@pytest.fixture
def dns_zone(settings) -> Iterator[Zone]:
    """A DNS server on a free loopback UDP port; the site's crawler check asks it."""
    zone = Zone()
    quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data,-log_prefix")
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=quiet)
    server.start_thread()
    host, port = server.server.server_address
    settings.CRAWLER_DNS_NAMESERVERS = [f"{host}:{port}"]
    settings.CRAWLER_DNS_TIMEOUT = 1.0
    try:
        yield zone
    finally:
        server.stop()
        server.server.server_close()
