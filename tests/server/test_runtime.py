"""chatapp.server.tuning: the process tuning each worker applies when it starts serving."""

from __future__ import annotations

import gc

import redis.utils

from chatapp.server import tuning


def test_tune_process_sets_thresholds_freezes_and_caches_the_redis_version(monkeypatch):
    before = gc.get_threshold()
    monkeypatch.setattr(redis.utils, "get_lib_version", redis.utils.get_lib_version)
    try:
        tuning.tune_process()
        assert gc.get_threshold() == tuning.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        lookup = redis.utils.get_lib_version
        assert lookup() == lookup()
        assert lookup.cache_info().hits >= 1  # type: ignore[attr-defined]
        tuning.tune_process()  # idempotent: not wrapped twice
        assert redis.utils.get_lib_version is lookup
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
