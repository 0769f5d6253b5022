"""The Django cache on Redis, degrading to "nothing stored" while Redis cannot be reached.

Only allauth's rate limits use the cache (sessions, lock-outs and everything else clinical live
in PostgreSQL), so a Redis outage must not turn every sign-in into a 500. While Redis is
unreachable, reads miss, writes are dropped and `add` reports success, so allauth's cache lock
and rate limits let the request through: they fail open, and the lock-out that matters
(facility/throttle.py) is in the database. After a failure Redis is left alone for a few seconds
so each request does not wait out a connect timeout again.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_SECONDS = 10.0


class DegradingRedisCache(RedisCache):
    """RedisCache whose get/add/set/delete/touch/has_key/get_many survive Redis being down."""

    _down_until = 0.0

    def _degrade(self, name, fallback, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return getattr(super(), name)(*args, **kwargs)
        except UNREACHABLE as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("cache: Redis unreachable (%s); carrying on without it", exc)
            return fallback

    def get(self, key, default=None, version=None):
        return self._degrade("get", default, key, default, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("add", True, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._degrade("delete", False, key, version)

    def has_key(self, key, version=None):
        return self._degrade("has_key", False, key, version)

    def get_many(self, keys, version=None):
        return self._degrade("get_many", {}, keys, version)
