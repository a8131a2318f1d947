"""A real SMTP server on loopback (aiosmtpd) for the newsletter tests and the benchmark.

It keeps every message it accepted, and can misbehave like real servers do:
refuse a recipient outright (550 at RCPT), drop the connection in the middle of
a message (before answering the DATA), or run a hook (e.g. kill the sender)
while a given message is arriving.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.messages: list[email.message.EmailMessage] = []
        self.count = 0  # accepted messages
        self.port = 0  # the server's, once smtp_server() starts it
        self.data_seen = 0  # DATA commands received, accepted or not
        self.reject: set[str] = set()
        self.drop_at: set[int] = set()  # DATA numbers (1-based) at which to hang up without answering
        self.on_data: Callable[[int], bool] | None = None  # return False to hang up instead of accepting
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.data_seen += 1
            number = self.data_seen
        hang_up = number in self.drop_at or (self.on_data is not None and self.on_data(number) is False)
        if hang_up:
            server.transport.close()  # the client never hears "250": the message was not accepted
            return "421 closing"
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: one message at a time, like a slow relay
        with self.lock:
            self.count += 1
            if self.keep:
                self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def recipients(self) -> Counter:
        return Counter(str(m["To"]) for m in self.messages)


@contextmanager
def smtp_server(*, keep: bool = True) -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder(keep=keep)
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    recorder.port = port
    try:
        yield recorder, port
    finally:
        controller.stop()


def use_smtp(settings, port: int) -> None:
    """Point Django's mail at the loopback server (pytest-django's default is the in-memory outbox)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 10
