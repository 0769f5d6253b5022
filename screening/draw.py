"""The daily random list (issue 13 item 1): who is drawn, as a function of what was recorded.

Pure Python, no Django. A draw records its pool (the admission public ids that could be drawn,
sorted), its percent and a seed from `secrets.token_hex(16)` chosen after the pool was fixed.
Anyone can then redo the draw from the record alone, in any language, without Python's PRNG:

1. the count is ceil(percent × pool size / 100), at least 1 when the pool is not empty;
2. each id in the pool is ranked by the SHA-256 hex digest of "<seed>:<id>";
3. the ids with the smallest digests, that many, are drawn (in digest order).

The seed is unknown until the draw, and SHA-256 spreads ids evenly, so every member of the pool
has the same chance; the record shows it was not picked by hand.
"""

import hashlib
from collections.abc import Iterable

DEFAULT_RANDOM_PERCENT = 10


def draw_size(pool_size: int, percent: int) -> int:
    """How many are drawn: ceil(percent × pool / 100), at least one from a non-empty pool."""
    if not 1 <= percent <= 100:
        raise ValueError(f"percent must be 1-100, not {percent!r}")
    if pool_size < 0:
        raise ValueError("pool size cannot be negative")
    if pool_size == 0:
        return 0
    return max(1, -(-percent * pool_size // 100))


def rank(seed: str, member: str) -> str:
    """A member's place in the draw: the SHA-256 of "<seed>:<member>", as hex."""
    return hashlib.sha256(f"{seed}:{member}".encode()).hexdigest()


def select(pool: Iterable[str], *, seed: str, percent: int) -> list[str]:
    """The members drawn, in draw order. The order of `pool` does not matter; a duplicate id is
    a ValueError (the pool is a set of stays)."""
    members = sorted(pool)
    if len(set(members)) != len(members):
        raise ValueError("the pool names a member twice")
    if not seed:
        raise ValueError("a draw needs a seed")
    ranked = sorted(members, key=lambda m: rank(seed, m))
    return ranked[: draw_size(len(members), percent)]
