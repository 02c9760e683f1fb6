"""Process tuning for serving under load, applied in each worker once the app is loaded.

Two things measured at 300 streams on 2 workers + Redis (bench/README.md, "concurrency"), each a
stall of a whole worker: every stream it serves misses a beat.

- The garbage collector. With the Redis state manager every event builds a tree of state objects
  (parents and substates point at each other: cycles, freed only by the collector) and drops it.
  Python's default thresholds (700, 10, 10) run a full collection every ~3 s in each worker,
  50-125 ms each. Freezing what start-up built (modules, the compiled app: ~150k objects that are
  never freed) takes it out of every collection, and a larger young generation lets most
  per-event garbage die before it is examined: one full collection every ~10 s, and the update
  gaps over 250 ms fell by about 3x. (50_000 made each young collection a stall of its own:
  p99 938 ms.)
- redis-py's connection set-up. Every new pooled connection asks `importlib.metadata` for
  redis-py's version, which walks the installed distributions on disk: 60-80 ms on the event
  loop, once per connection, and a burst of events opens dozens of connections at once.
"""

from __future__ import annotations

import functools
import gc

GC_THRESHOLDS = (10_000, 10, 10)


def tune_process() -> None:
    """Freezes what start-up built, sets GC_THRESHOLDS, and makes redis-py look its own version
    up once per process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    _cache_redis_version()


def _cache_redis_version() -> None:
    try:
        import redis.utils
    except ImportError:  # pragma: no cover - redis is a dependency
        return
    lookup = redis.utils.get_lib_version
    if not hasattr(lookup, "cache_info"):
        # redis/driver_info.py imports it from redis.utils at each call: patching the module
        # attribute is enough.
        redis.utils.get_lib_version = functools.cache(lookup)
