"""Settings for bench/run.py: the production settings plus one extra URL, the
minimal view the article page is compared with."""

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
