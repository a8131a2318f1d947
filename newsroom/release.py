"""Which release of the code is running: the cache keeps every entry under it, so
pickled rows and rendered pages never cross a deploy (a new field on a model, a
changed template) — a new release starts with an empty cache of its own. Only what holds
numbers and strings is every release's: newsroom/versioned_cache.make_key says which.

RELEASE from the environment when the deploy names one (a tag or commit: it must be
the same for every process of one release, web and cron alike); otherwise a digest
of the code itself, computed once at start: every file of the site's packages,
templates and static sources, and the pinned requirements (a library upgrade changes
what a pickle holds). Two processes of the same code agree without being told.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# Packages that are not the site: nothing they hold is ever pickled or rendered for a reader.
_NOT_THE_SITE = {"tests", "bench"}


def code_digest(base: Path) -> str:
    """A short digest of the code under `base` (about 0.1 s for this site's ~450 files)."""
    digest = hashlib.blake2b(digest_size=6)
    tops = [
        top
        for top in sorted(base.iterdir())
        if top.name not in _NOT_THE_SITE and ((top / "__init__.py").exists() or top.name in ("templates", "static"))
    ]
    files = [path for top in tops for path in sorted(top.rglob("*")) if path.is_file()]
    for path in [*files, base / "requirements.txt"]:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
