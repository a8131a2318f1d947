"""Where a reader can share a story: plain links to each network's own share address.

No network's script, button or pixel is put on the page, so nothing third-party
reaches a reader's browser unless they click one of these links (the site's CSP
allows no foreign script anyway). Every link is built from the story's public
address and title only, so the article page stays the same for every anonymous
reader and the page cache keeps one copy; a gift link's token never goes into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings

from .models import Article


@dataclass(frozen=True)
class ShareLink:
    network: str  # what the link shows: "Email", "Bluesky", …
    url: str


def public_url(article: Article) -> str:
    """The story's address as readers use it (SITE_URL, like the feeds), without any query."""
    return settings.SITE_URL + article.get_absolute_url()


def share_links(article: Article) -> list[ShareLink]:
    url = public_url(article)
    title = article.title
    return [
        # mailto: wants %20 for spaces (a + stays a + in mail clients), hence quote_via=quote.
        ShareLink("Email", "mailto:?" + urlencode({"subject": title, "body": f"{title}\n\n{url}"}, quote_via=quote)),
        ShareLink("Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": f"{title} {url}"})),
        ShareLink("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ShareLink("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"text": title, "url": url})),
    ]
