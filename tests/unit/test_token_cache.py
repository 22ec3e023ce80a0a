"""The API's token cache (chalicelib.tokens.TokenCache): kept for its age, bounded, forgotten on
revocation; on a clock the tests move."""

from __future__ import annotations

from chalicelib.tokens import Principal, TokenCache

ALICE = Principal(owner="alice", token_name="alice-laptop")


def cache_at(now: list[float], size: int = 3) -> TokenCache:
    return TokenCache(size=size, clock=lambda: now[0])


def test_a_principal_is_kept_for_max_age_seconds() -> None:
    now = [0.0]
    cache = cache_at(now)
    cache.put("h", ALICE)
    now[0] = 29.9
    assert cache.get("h", max_age=30) == ALICE
    now[0] = 30
    assert cache.get("h", max_age=30) is None
    assert len(cache) == 0  # an expired entry is dropped when met


def test_max_age_is_read_at_each_lookup() -> None:
    now = [10.0]
    cache = cache_at(now)
    cache.put("h", ALICE)
    assert cache.get("h", max_age=0) is None  # 0: caching off


def test_the_size_is_bounded_least_recently_used_first() -> None:
    now = [0.0]
    cache = cache_at(now, size=3)
    for n in range(3):
        cache.put(f"h{n}", Principal(owner="o", token_name=f"t{n}"))
    assert cache.get("h0", max_age=30) is not None  # used: now the most recent
    for n in range(3, 100):
        cache.put(f"h{n}", Principal(owner="o", token_name=f"t{n}"))
        assert len(cache) <= 3
    kept = [n for n in range(100) if cache.get(f"h{n}", max_age=30) is not None]
    assert kept == [97, 98, 99]


def test_revoking_forgets_the_token_by_name() -> None:
    now = [0.0]
    cache = cache_at(now)
    cache.put("h1", ALICE)
    cache.put("h2", Principal(owner="alice", token_name="alice-ci"))
    cache.forget("alice-laptop")
    assert cache.get("h1", max_age=30) is None
    assert cache.get("h2", max_age=30) is not None
