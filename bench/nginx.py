"""Debian's nginx in front of a local gunicorn, with the shipped cache rules
(deploy/nginx/newsroom-cache.conf), on a free loopback port with a temporary
prefix, cache and logs. Used by tests/test_nginx_cache.py and bench/spike.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = """
%(user)s
worker_processes %(workers)s;
daemon off;
pid %(tmp)s/nginx.pid;
error_log %(tmp)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path %(tmp)s/body;
    proxy_temp_path %(tmp)s/proxy;
    fastcgi_temp_path %(tmp)s/fastcgi;
    uwsgi_temp_path %(tmp)s/uwsgi;
    scgi_temp_path %(tmp)s/scgi;
    proxy_cache_path %(tmp)s/cache levels=1:2 keys_zone=newsroom:10m max_size=256m inactive=10m use_temp_path=off;
    upstream newsroom { server 127.0.0.1:%(upstream)d; keepalive 32; }
    server {
        listen 127.0.0.1:%(port)d reuseport;
        location /_static/ { alias %(static)s/; }
        location / {
            proxy_pass http://newsroom;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            include %(root)s/deploy/nginx/newsroom-cache.conf;
        }
    }
}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nginx_in_front(upstream_port: int, *, workers: str = "1", static_root: str | None = None) -> Iterator[int]:
    """Serve http://127.0.0.1:<yielded port>/ through nginx's cache to gunicorn on `upstream_port`;
    /_static/ serves files from `static_root` directly (the benchmark's reference file)."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx-light (scripts/test does it)")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="newsroom-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(CONF % {
            "user": "user root;" if os.geteuid() == 0 else "",  # workers must write the temp cache
            "workers": workers, "tmp": tmp, "port": port, "upstream": upstream_port,
            "static": static_root or tmp, "root": ROOT,
        })  # fmt: skip
        server = subprocess.Popen([binary, "-p", tmp, "-e", f"{tmp}/error.log", "-c", str(conf)])
        try:
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
                if server.poll() is not None:
                    raise RuntimeError(f"nginx exited: {(Path(tmp) / 'error.log').read_text()}")
                time.sleep(0.05)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)
