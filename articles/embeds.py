"""Embeds from an allow-list, shown privately: nothing loads from a third party
until the reader clicks.

An editor pastes a link alone on a line (a YouTube video, a post on X, a
Datawrapper chart…). If it matches one of the patterns below it becomes a
placeholder: a short note saying where the content comes from, a "Load" button
and a plain link. `static/js/embeds.js` swaps in the player (an iframe, or an
<audio> element) only when the button is pressed. Anything else stays an
ordinary paragraph and goes through the sanitizer like all other text.

The placeholder is built here from the captured id only (never from the pasted
text as a whole), so a crafted link cannot smuggle markup or another host in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.utils.html import format_html
from django.utils.safestring import SafeString

_ID = r"[A-Za-z0-9_-]+"


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str  # what the button loads: "video", "post", "chart", "audio"
    pattern: re.Pattern[str]
    player: Callable[[re.Match[str]], str]
    frame: bool = True  # an iframe; False: an <audio> element


def _p(regex: str) -> re.Pattern[str]:
    return re.compile(r"^" + regex + r"/?(?:[?#]\S*)?$", re.IGNORECASE)


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "YouTube",
        "video",
        _p(rf"https://(?:www\.|m\.)?(?:youtube\.com/watch\?(?:\S*&)?v=|youtu\.be/|youtube\.com/shorts/)(?P<id>{_ID})"),
        lambda m: f"https://www.youtube-nocookie.com/embed/{m['id']}",
    ),
    Provider(
        "Vimeo",
        "video",
        _p(r"https://(?:www\.)?vimeo\.com/(?P<id>\d+)"),
        lambda m: f"https://player.vimeo.com/video/{m['id']}?dnt=1",
    ),
    Provider(
        "X",
        "post",
        _p(rf"https://(?:www\.)?(?:twitter|x)\.com/{_ID}/status/(?P<id>\d+)"),
        lambda m: f"https://platform.twitter.com/embed/Tweet.html?id={m['id']}&dnt=true",
    ),
    Provider(
        "Instagram",
        "post",
        _p(rf"https://(?:www\.)?instagram\.com/(?P<kind>p|reel)/(?P<id>{_ID})"),
        lambda m: f"https://www.instagram.com/{m['kind']}/{m['id']}/embed/",
    ),
    Provider(
        "Bluesky",
        "post",
        _p(r"https://bsky\.app/profile/(?P<who>[A-Za-z0-9.:-]+)/post/(?P<id>[a-z0-9]+)"),
        lambda m: f"https://embed.bsky.app/embed/{m['who']}/app.bsky.feed.post/{m['id']}",
    ),
    Provider(
        "Datawrapper",
        "chart",
        _p(r"https://(?:datawrapper\.dwcdn\.net|www\.datawrapper\.de/_)/(?P<id>[A-Za-z0-9]+)(?:/(?P<v>\d+))?"),
        lambda m: f"https://datawrapper.dwcdn.net/{m['id']}/{m['v'] or ''}",
    ),
    Provider(
        "Flourish",
        "chart",
        _p(r"https://(?:public\.flourish\.studio|flo\.uri\.sh)/(?P<kind>visualisation|story)/(?P<id>\d+)(?:/embed)?"),
        lambda m: f"https://flo.uri.sh/{m['kind']}/{m['id']}/embed",
    ),
    Provider(
        "SoundCloud",
        "audio",
        _p(r"https://soundcloud\.com/(?P<id>[A-Za-z0-9_-]+/[A-Za-z0-9_-]+)"),
        lambda m: "https://w.soundcloud.com/player/?url=" + quote(f"https://soundcloud.com/{m['id']}", safe=""),
    ),
    Provider(
        "Audio file",
        "audio",
        _p(r"(?P<url>https://[A-Za-z0-9.-]+(?::\d+)?/[A-Za-z0-9._~/%-]+\.(?:mp3|m4a|ogg|oga|opus|wav))"),
        lambda m: m["url"],
        frame=False,
    ),
)

# Origins the players load from: what a Content-Security-Policy's frame-src must allow.
FRAME_ORIGINS = (
    "https://www.youtube-nocookie.com", "https://player.vimeo.com", "https://platform.twitter.com",
    "https://www.instagram.com", "https://embed.bsky.app", "https://datawrapper.dwcdn.net",
    "https://flo.uri.sh", "https://w.soundcloud.com",
)  # fmt: skip


def match(line: str) -> tuple[Provider, re.Match[str]] | None:
    line = line.strip()
    for provider in PROVIDERS:
        found = provider.pattern.match(line)
        if found:
            return provider, found
    return None


def placeholder(line: str) -> SafeString | None:
    """The click-to-load placeholder for an allow-listed link, or None."""
    found = match(line)
    if found is None:
        return None
    provider, m = found
    name = provider.name if provider.frame else (urlsplit(m["url"]).hostname or "")
    label = "Play the audio" if provider.kind == "audio" else f"Load the {provider.kind}"
    return format_html(
        '<figure class="embed embed--{kind}" data-embed-src="{src}" data-embed-kind="{element}" '
        'data-embed-title="{name} {kind}">'
        '<div class="embed__placeholder"><p class="embed__note">{name} {kind}. '
        "Loading it connects you to {name}, which may set cookies.</p>"
        '<button type="button" class="embed__load">{label}</button> '
        '<a class="embed__link" href="{href}" rel="noopener noreferrer nofollow">Open on {name}</a></div></figure>',
        kind=provider.kind,
        src=provider.player(m),
        element="iframe" if provider.frame else "audio",
        name=name,
        label=label,
        href=m.group(0),
    )
