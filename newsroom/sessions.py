"""Django's cache session store (sessions live in Redis beside the cache), with
one addition: a session that someone else read from its key — the article page
reads a logged-in reader's session in the same call to Redis as their account
and the page (articles/page_cache.py) — can be handed to it instead of read again."""

from __future__ import annotations

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore


class SessionStore(CacheSessionStore):
    def use_loaded(self, data: dict | None) -> None:
        """Take `data`, read from this session's own key (self.cache_key; None: not
        there), as what load() would have returned."""
        if data is None:  # expired or logged out elsewhere: as load() does, this is a new, empty session
            self._session_key = None
            data = {}
        self._session_cache = data
