"""One-time claims (``Store.claim_once``): one script on the key's own slot.

``SET NX PX`` alone would measure a claim's life on the server's clock from
the moment it lands; this script keeps the store's rule instead: a claim holds
while its ``until`` (the caller's time, stored as the text Python sent) lies
after the caller's ``now``, and its key expires after ``until - now``
milliseconds, a duration the caller measured. So a claim that lapsed by the
caller's clock may be taken again even if the server has not expired it yet,
and one that has not lapsed is never lost to a fast server clock. Keys
expire on their own, so ``purge`` has nothing to sweep.
"""

from __future__ import annotations

import math
from typing import Final

from ._codec import num
from ._scripts import Script, Scripts

#: ``{c:<key>}``: a claim's own hash slot, its group letter apart from every other kind.
GROUP: Final = "c"
_MAX_MS: Final = 2**53

CLAIM: Final = Script(
    "claim",
    """
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
""",
)


def claim_key(prefix: str, key: str) -> str:
    return f"{prefix}{{{GROUP}:{key}}}"


async def claim_once(scripts: Scripts, prefix: str, key: str, until: float, now: float) -> bool:
    ms = (float(until) - float(now)) * 1000
    if not ms > 0:
        return True  # lapsed at birth: nothing could ever count as its replay
    duration = b"%d" % (_MAX_MS if not ms < _MAX_MS else math.ceil(ms))
    reply = await scripts.run(CLAIM, (claim_key(prefix, key),), (num(until), num(now), duration))
    return bool(reply == 1)


__all__ = ("CLAIM", "GROUP", "claim_key", "claim_once")
