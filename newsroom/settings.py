"""Settings for the newsroom site, read from the environment.

Every setting an operator may change comes from an environment variable (see
README.md, "Environment variables"). Local defaults are safe for a first run:
SQLite, console email, no Stripe keys. With DEBUG off the site refuses to start
without a real SECRET_KEY.
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from newsroom.release import code_digest

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "False") -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "False")

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set a long random SECRET_KEY in the environment, or DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = os.getenv("SITE_NAME", "The Ledger")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.redirects",  # old addresses of imported stories (manage.py import_archive)
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "csp",
    "allauth",
    "allauth.account",
    "reversion",
    "articles",
    "subscriptions",
    "growth",  # offers, gift subscriptions, where readers come from (docs/growth.md)
    "newsletter",
    "members",  # moving a newsroom's readers in and out: above subscriptions and newsletter
]

MIDDLEWARE = [
    "newsroom.middleware.SharedCacheMiddleware",  # first: sees every cookie the others set
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsroom.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below what makes every response's headers, above what is per reader: an anonymous
    # reader's kept article page, answered without sessions, CSRF and authentication.
    "growth.attribution.FirstVisitMiddleware",  # a first visit's source, before a kept page answers it
    "articles.middleware.KeptPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "growth.attribution.FromArticleMiddleware",  # the story a paywall button was on (?from=)
    "subscriptions.middleware.MeterCookieMiddleware",
    # Last: looks up the redirect table only when the answer is already a 404 (an imported story's old address).
    "django.contrib.redirects.middleware.RedirectFallbackMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsroom.context_processors.site",
            ],
        },
    },
]

# Database: DATABASE_URL, e.g. postgres://user@127.0.0.1:5432/newsroom.
# Without it, a SQLite file for a first local run.
DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: a plain per-request connection is simplest and avoids "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set; otherwise a file cache, which (unlike
# local memory) is shared by every process, so rate limits hold across workers.
REDIS_URL = os.getenv("REDIS_URL", "")
REDIS_KEY_PREFIX = os.getenv("CACHE_KEY_PREFIX", "newsroom")
# Seconds to wait for Redis (cache and meter) before a request goes on without it.
REDIS_TIMEOUT = float(os.getenv("REDIS_TIMEOUT", "0.5"))
# The meter's credits and the paywall-view counter: "redis" (one Lua call a view, exact,
# persisted by Redis's append-only file) or "database" (rows; no Redis) — subscriptions/counters.py.
# METER_REDIS_URL may name a Redis of their own (persistent, no eviction; docs/production.md).
METER_REDIS_URL = os.getenv("METER_REDIS_URL", REDIS_URL)
METER_STORE = os.getenv("METER_STORE", "redis" if METER_REDIS_URL else "database")
if METER_STORE not in ("redis", "database") or (METER_STORE == "redis" and not METER_REDIS_URL):
    raise ImproperlyConfigured('METER_STORE is "redis" (needs METER_REDIS_URL or REDIS_URL) or "database".')
# The code's release: every cache entry is kept under it (newsroom/release.py).
RELEASE = os.getenv("RELEASE", "").strip() or code_digest(BASE_DIR)
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, where an unreachable Redis is a miss (newsroom/cache.py).
            "BACKEND": "newsroom.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "VERSION": RELEASE,
            "KEY_FUNCTION": "newsroom.versioned_cache.make_key",  # what every release shares: make_key says
            # A Redis that does not answer is given up on quickly: the page goes on without it.
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.getenv("CACHE_DIR", str(BASE_DIR / ".cache")),
            "VERSION": RELEASE,
            "KEY_FUNCTION": "newsroom.versioned_cache.make_key",
        }
    }

# Sessions are kept in the database and read through the cache: an entry the cache
# loses (eviction, a flush, a Redis restart) is read again, never a reader logged out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Django's and allauth's, loading the logged-in reader with their entitlement in one cached read.
AUTHENTICATION_BACKENDS = [
    "subscriptions.auth_backends.ModelBackend",
    "subscriptions.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.getenv("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve uploaded media from Django itself (fine for one small machine; put
# nginx or object storage in front in larger set-ups, see docs/production.md).
SERVE_MEDIA = envbool("SERVE_MEDIA", "True")

# Email: console in development; SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.getenv("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", "587")
    EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Any provider through django-anymail (pip install it, then e.g. EMAIL_BACKEND=anymail.backends.postmark.EmailBackend).
EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", EMAIL_BACKEND)
# Seconds before a silent mail server counts as gone (a newsletter sender holds its row meanwhile).
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "30")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "The Ledger <newsroom@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER via
# TRUST_X_FORWARDED_PROTO=1; the defaults are for a direct HTTPS deployment.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False" if DEBUG else "True")
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "False" if DEBUG else "True")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "False" if DEBUG else "True")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4.x settings format) on every response:
# scripts and styles only from our own origin, no inline code (a template that
# truly needs an inline <script> gives it nonce="{{ request.csp_nonce }}", which
# adds the nonce to script-src for that response), no plugins, no <base>
# hijacking, and no framing at all. JSON-LD blocks are data, not script, so
# they need no nonce (and cached article pages could not carry a fresh one).
# CSP_IMG_SRC adds image origins (a CDN for media); CSP_REPORT_URI sends reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *envlist("CSP_IMG_SRC")],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # Embeds in stories load only when a reader clicks (static/js/embeds.js); these are
        # their players' origins, the same list as articles/embeds.py FRAME_ORIGINS (a test checks).
        "frame-src": [
            "https://www.youtube-nocookie.com", "https://player.vimeo.com", "https://platform.twitter.com",
            "https://www.instagram.com", "https://embed.bsky.app", "https://datawrapper.dwcdn.net",
            "https://flo.uri.sh", "https://w.soundcloud.com",
        ],  # fmt: skip
        # Audio-file embeds play from the newsroom's own https host, whatever it is.
        "media-src": ["'self'", "https:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        # Forms post to this site; the subscribe and manage-billing ones are answered with a
        # 303 to Stripe's Checkout or customer portal, and browsers hold that redirect to
        # form-action too. (A STRIPE_API_BASE fake adds its own origin, below.)
        "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
        **({"report-uri": os.getenv("CSP_REPORT_URI")} if os.getenv("CSP_REPORT_URI") else {}),
    },
}

if envbool("TRUST_X_FORWARDED_PROTO", "False"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = envlist("SILENCED_SYSTEM_CHECKS")

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# --- django-allauth (65.x setting names) ---
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Adds the newsletter tick boxes to allauth's sign-up form (its signup() hook saves them).
ACCOUNT_SIGNUP_FORM_CLASS = "newsletter.forms.SignupNewsletterForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Sign-up answers in the same time for a known and a new address (see the form).
ACCOUNT_FORMS = {"signup": "subscriptions.forms.SignupForm"}
# allauth asks the adapter for the client's address (its rate limits): the same answer as ours.
ACCOUNT_ADAPTER = "newsroom.allauth_adapter.AccountAdapter"
ACCOUNT_USER_DISPLAY = "newsroom.allauth_adapter.user_display"  # a name or the email, not the generated username
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_RATE_LIMITS = {
    "login": os.getenv("RATE_LIMIT_LOGIN", "30/m/ip,200/h/ip"),
    "login_failed": os.getenv("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": os.getenv("RATE_LIMIT_SIGNUP", "20/m/ip"),
    "reset_password": os.getenv("RATE_LIMIT_RESET_PASSWORD", "20/m/ip,5/m/key"),
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    # Adding, changing, re-sending or removing an address (allauth has no "change_email" action).
    "manage_email": "5/m/user",
    "request_login_code": "20/m/ip,3/m/key",
}

# Searches one client (address, as the meter sees it) may make: the site's own limit
# format (newsroom/ratelimit.py), e.g. "60/m,1000/h"; empty turns it off.
RATE_LIMIT_SEARCH = os.getenv("RATE_LIMIT_SEARCH", "60/m,1000/h")
# Checkouts one reader may start (each costs several Stripe calls; Stripe's rate limit is shared
# with the webhooks): the same format; enough for a double click and a change of plan or two.
RATE_LIMIT_CHECKOUT = os.getenv("RATE_LIMIT_CHECKOUT", "6/m,30/h")

# Pictures larger than this (width x height) are refused on upload, from their header, before
# anything decodes them (articles/images.py): 40 Mpx is a 7,700 x 5,200 camera original.
MAX_IMAGE_PIXELS = envint("MAX_IMAGE_PIXELS", "40000000")

# --- Comments (articles/comments.py) ---
COMMENTS_PER_MINUTE = envint("COMMENTS_PER_MINUTE", "5")
# Seconds a rendered article page is reused (articles/page_cache.py); 0 = off.
PAGE_CACHE_SECONDS = envint("PAGE_CACHE_SECONDS", "300")
# When many readers ask at once for a page just retired, one renders it and the others wait
# for it this long at most (then render it themselves): never fifty renders of one page.
PAGE_RENDER_WAIT_SECONDS = float(os.getenv("PAGE_RENDER_WAIT_SECONDS", "3"))
# A shared cache in front (nginx, a CDN) keeps pages that are the same for every anonymous reader
# this long (s-maxage; 0 = never), then may serve them stale this much longer while it refreshes
# (stale-while-revalidate). See newsroom/shared_cache.py.
SHARED_CACHE_SECONDS = envint("SHARED_CACHE_SECONDS", "60")
SHARED_CACHE_STALE_SECONDS = envint("SHARED_CACHE_STALE_SECONDS", "30")

# --- The paywall (see subscriptions/access.py and subscriptions/meter.py) ---
FREE_ARTICLES_PER_DAY = envint("FREE_ARTICLES_PER_DAY", "3")
# Coarse per-address backstop for anonymous readers, so clearing cookies is not an
# unlimited reset; 0 turns it off. Why 150 (offices, campuses, mobile NAT): docs/paywall.md.
FREE_ARTICLES_PER_IP_PER_DAY = envint("FREE_ARTICLES_PER_IP_PER_DAY", "150")
# The proxies you run in front (addresses or networks, e.g. "127.0.0.1" or "10.0.0.0/24"):
# X-Forwarded-For is believed only from them, hop by hop from the right, so a client that
# reaches gunicorn directly cannot choose the address the backstop and every rate limit
# count (newsroom/client_ip.py; allauth's limits ask it through newsroom/allauth_adapter.py).
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", "")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network") from None
METER_COOKIE_NAME = "reader"
METER_COOKIE_MAX_AGE = 60 * 60 * 24 * 365 * 2
METER_RETENTION_DAYS = envint("METER_RETENTION_DAYS", "7")
TEASER_PARAGRAPHS = envint("TEASER_PARAGRAPHS", "3")
# A logged-in reader without a subscription (the registration wall) gets more than an anonymous one.
FREE_ARTICLES_PER_DAY_REGISTERED = envint("FREE_ARTICLES_PER_DAY_REGISTERED", "5")

# --- Gift links (articles/gifts.py): a subscriber shares one article in full ---
GIFT_LINK_DAYS = envint("GIFT_LINK_DAYS", "30")
GIFT_ARTICLES_PER_MONTH = envint("GIFT_ARTICLES_PER_MONTH", "10")

# --- Verified search-engine crawlers (subscriptions/crawlers.py) ---
# Off by default: Googlebot/Bingbot read metered and subscribers-only text only
# when their address passes reverse + forward DNS into the crawler's own domains.
CRAWLER_FULL_TEXT = envbool("CRAWLER_FULL_TEXT", "False")
# DNS servers to ask, "host" or "host:port"; empty = the system's resolver.
CRAWLER_DNS_NAMESERVERS = envlist("CRAWLER_DNS_NAMESERVERS", "")
CRAWLER_DNS_TIMEOUT = float(os.getenv("CRAWLER_DNS_TIMEOUT", "2"))

# --- Stripe (see subscriptions/billing.py) ---
STRIPE_SECRET_KEY = os.getenv("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.getenv("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.getenv("STRIPE_WEBHOOK_SECRET", "")
# Stripe's events are kilobytes: a webhook body past this is answered 413 unread (webhooks.py).
STRIPE_WEBHOOK_MAX_BYTES = envint("STRIPE_WEBHOOK_MAX_BYTES", str(512 * 1024))
# This site's name in a subscription's metadata `site` when several sites share one Stripe
# account: `stripe_adopt` leaves others' subscriptions alone. Empty: SITE_URL's host (billing.site_id).
STRIPE_SITE_ID = os.getenv("STRIPE_SITE_ID", "")
STRIPE_API_BASE = os.getenv("STRIPE_API_BASE", "")
if STRIPE_API_BASE:  # a local fake or stripe-mock: its Checkout and portal pages are on its origin
    _stripe = urlsplit(STRIPE_API_BASE)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_stripe.scheme}://{_stripe.netloc}")
# Pinned, not the account's default: the code reads objects in this version's
# shape (period on the item, invoice.parent). The webhook endpoint must be
# created on the same version (README "Subscriptions and Stripe"). It is the
# pinned stripe library's own version; upgrade both together.
STRIPE_API_VERSION = "2026-10-28.endive"
PAST_DUE_GRACE_DAYS = envint("PAST_DUE_GRACE_DAYS", "3")
# Offers and gifts (growth/, docs/growth.md): may readers type a promotion code at Checkout, and what a
# gift subscription of 3, 6 or 12 months costs ("months:cents", in GIFT_CURRENCY).
CHECKOUT_ALLOW_PROMOTION_CODES = envbool("CHECKOUT_ALLOW_PROMOTION_CODES", "False")
GIFT_PRICES_CENTS = {int(m): int(c) for m, _, c in (
    part.partition(":") for part in envlist("GIFT_PRICES_CENTS", "3:1500,6:2800,12:5000"))}
GIFT_CURRENCY = os.getenv("GIFT_CURRENCY", "usd")

# Newsletters (newsletter/): the daily digest's local hour, who it comes from,
# and when an address that keeps rejecting mail stops getting it.
NEWSLETTER_DAILY_HOUR = envint("NEWSLETTER_DAILY_HOUR", "6")
NEWSLETTER_FROM_EMAIL = os.getenv("NEWSLETTER_FROM_EMAIL", DEFAULT_FROM_EMAIL)
NEWSLETTER_BOUNCE_LIMIT = envint("NEWSLETTER_BOUNCE_LIMIT", "2")
NEWSLETTER_MAX_ATTEMPTS = envint("NEWSLETTER_MAX_ATTEMPTS", "5")
# Email-only sign-up: how long a confirmation link works, how soon a waiting address may get another.
NEWSLETTER_CONFIRM_DAYS = envint("NEWSLETTER_CONFIRM_DAYS", "7")
NEWSLETTER_CONFIRM_RESEND_MINUTES = envint("NEWSLETTER_CONFIRM_RESEND_MINUTES", "15")
RATE_LIMIT_NEWSLETTER_SIGNUP = os.getenv("RATE_LIMIT_NEWSLETTER_SIGNUP", "5/m,30/h")
NEWSLETTER_DIGEST_STORIES = envint("NEWSLETTER_DIGEST_STORIES", "12")

# Logs go to stderr, one line per record. LOG_FORMAT=json gives one JSON
# object per line (python-json-logger) for a log shipper; "plain" is for people.
LOG_FORMAT = os.getenv("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "level": os.getenv("LOG_LEVEL", "INFO"),  # also for records propagated from Django's own loggers
        }
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
