"""The crawler check asks a real DNS server (tests/dns_fake.py) through dnspython."""

from __future__ import annotations

import socket

import pytest
from django.test import RequestFactory

from subscriptions import crawlers

from .dns_fake import Zone

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


def request_from(ip: str, agent: str = GOOGLEBOT):
    return RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)


def test_a_googlebot_whose_address_resolves_both_ways_is_verified(dns_zone: Zone) -> None:
    dns_zone.host("66.249.66.1", "crawl-66-249-66-1.googlebot.com")
    assert crawlers.is_verified(request_from("66.249.66.1"))
    assert ("1.66.249.66.in-addr.arpa.", "PTR") in dns_zone.queries
    assert ("crawl-66-249-66-1.googlebot.com.", "A") in dns_zone.queries


def test_a_bingbot_is_checked_against_bings_domain(dns_zone: Zone) -> None:
    dns_zone.host("157.55.39.1", "msnbot-157-55-39-1.search.msn.com")
    assert crawlers.is_verified(request_from("157.55.39.1", BINGBOT))
    # Bing's address with Google's name in the user agent: the domains don't match.
    assert not crawlers.is_verified(request_from("157.55.39.1"))


def test_ipv6_crawlers_are_confirmed_with_aaaa(dns_zone: Zone) -> None:
    dns_zone.host("2001:4860:4801:10::1", "crawl-2001-4860-4801-10--1.googlebot.com")
    assert crawlers.is_verified(request_from("2001:4860:4801:10::1"))


def test_a_reverse_name_outside_the_crawlers_domains_is_refused(dns_zone: Zone) -> None:
    dns_zone.host("203.0.113.5", "googlebot.com.attacker.example")
    assert not crawlers.is_verified(request_from("203.0.113.5"))


def test_a_forged_ptr_without_the_forward_record_is_refused(dns_zone: Zone) -> None:
    # The attacker controls their own reverse zone, not googlebot.com.
    dns_zone.ptr("203.0.113.6", "crawl-66-249-66-1.googlebot.com")
    dns_zone.forward("crawl-66-249-66-1.googlebot.com", "66.249.66.1")
    assert not crawlers.is_verified(request_from("203.0.113.6"))


def test_an_address_without_reverse_dns_is_refused(dns_zone: Zone) -> None:
    assert not crawlers.is_verified(request_from("198.51.100.7"))


def test_no_claim_means_no_lookup(dns_zone: Zone) -> None:
    dns_zone.host("66.249.66.2", "crawl-66-249-66-2.googlebot.com")
    assert not crawlers.is_verified(request_from("66.249.66.2", "Mozilla/5.0 Firefox/140.0"))
    assert dns_zone.queries == []


def test_answers_are_kept_a_day_so_the_next_visit_asks_nobody(dns_zone: Zone) -> None:
    dns_zone.host("66.249.66.3", "crawl-66-249-66-3.googlebot.com")
    assert crawlers.is_verified(request_from("66.249.66.3"))
    asked = len(dns_zone.queries)
    assert crawlers.is_verified(request_from("66.249.66.3"))
    assert len(dns_zone.queries) == asked


def test_a_silent_dns_server_means_no(settings) -> None:
    # A UDP port nobody answers on: the resolver times out.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        settings.CRAWLER_DNS_NAMESERVERS = [f"127.0.0.1:{silent.getsockname()[1]}"]
        settings.CRAWLER_DNS_TIMEOUT = 0.3
        assert not crawlers.is_verified(request_from("66.249.66.4"))


@pytest.mark.parametrize("forwarded", ["66.249.66.1", "66.249.66.1, 10.0.0.1"])
def test_a_client_sent_forwarded_for_is_not_the_address_checked(dns_zone: Zone, forwarded: str) -> None:
    dns_zone.host("66.249.66.1", "crawl-66-249-66-1.googlebot.com")
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=GOOGLEBOT, HTTP_X_FORWARDED_FOR=forwarded
    )
    assert not crawlers.is_verified(request)
