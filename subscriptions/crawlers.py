"""Is this request really from Google's or Bing's crawler?

A user agent is a claim anyone can make (Leaky Paywall lets any client that
says "Googlebot" read everything). The search engines document how to check
the claim: the address's reverse DNS name must lie in their own domains, and
a forward lookup of that name must give the same address back (so nobody can
point their own PTR record at googlebot.com). Both lookups go to a real
resolver (dnspython); any failure — timeout, no record, a name outside the
domains, a forward answer without the address — means "not a crawler", and
the request is an ordinary anonymous reader.

The answer is kept a day per address in the shared cache (a crawler visits
often; the engines' address ranges change rarely). A failure to get an answer
(timeout, server failure) is kept only a few minutes, so one bad moment of the
resolver does not lock a crawler out for a day.

Only consulted when settings.CRAWLER_FULL_TEXT is on; access.py asks.
"""

from __future__ import annotations

import ipaddress
import logging
import re

import dns.exception
import dns.resolver
import dns.reversename
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from newsroom.client_ip import client_ip

log = logging.getLogger(__name__)

# Documented by the engines: developers.google.com/search/docs/crawling-indexing/verifying-googlebot,
# bing.com/webmasters/help/how-to-verify-bingbot-3905dc26.
CRAWLERS: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    "google": (re.compile(r"\bGooglebot\b", re.IGNORECASE), ("googlebot.com", "google.com", "googleusercontent.com")),
    "bing": (re.compile(r"\bbingbot\b", re.IGNORECASE), ("search.msn.com",)),
}
VERIFIED_SECONDS = 24 * 60 * 60
UNANSWERED_SECONDS = 5 * 60


def claimed_crawler(request: HttpRequest) -> str | None:
    """Which crawler the user agent says it is (a claim, nothing more)."""
    agent = request.META.get("HTTP_USER_AGENT", "")
    for name, (pattern, _domains) in CRAWLERS.items():
        if pattern.search(agent):
            return name
    return None


def _resolver() -> dns.resolver.Resolver:
    servers = settings.CRAWLER_DNS_NAMESERVERS
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = []
        for server in servers:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            resolver.nameservers.append(host)
            if port:
                resolver.port = int(port)
    resolver.lifetime = settings.CRAWLER_DNS_TIMEOUT
    resolver.timeout = settings.CRAWLER_DNS_TIMEOUT
    return resolver


def _in_domains(name: str, domains: tuple[str, ...]) -> bool:
    name = name.rstrip(".").lower()
    return any(name.endswith("." + d) for d in domains)


class _NoAnswer(Exception):
    """The resolver could not answer (timeout, server failure): not a verdict."""


def _lookup(ip: str, domains: tuple[str, ...]) -> bool:
    """Reverse, then forward confirmation. Raises _NoAnswer when DNS did not answer."""
    resolver = _resolver()
    address = ipaddress.ip_address(ip)
    try:
        names = [str(r.target) for r in resolver.resolve(dns.reversename.from_address(ip), "PTR")]
        for name in names:
            if not _in_domains(name, domains):
                continue
            rdtype = "AAAA" if address.version == 6 else "A"
            forward = resolver.resolve(name, rdtype)
            if any(ipaddress.ip_address(r.address) == address for r in forward):
                return True
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return False
    except (dns.exception.DNSException, OSError) as exc:  # timeout, SERVFAIL from every server, …
        raise _NoAnswer(str(exc)) from exc
    return False


def is_verified(request: HttpRequest) -> bool:
    """True only when the user agent claims a known crawler and DNS confirms its address."""
    crawler = claimed_crawler(request)
    if crawler is None:
        return False
    ip = client_ip(request)
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    key = f"crawler:{crawler}:{ip}"
    known = cache.get(key)
    if known is not None:
        return known
    try:
        verified = _lookup(ip, CRAWLERS[crawler][1])
    except _NoAnswer:
        log.warning("crawler check for %s (%s) got no DNS answer", ip, crawler, exc_info=True)
        cache.set(key, False, UNANSWERED_SECONDS)
        return False
    cache.set(key, verified, VERIFIED_SECONDS)
    return verified
