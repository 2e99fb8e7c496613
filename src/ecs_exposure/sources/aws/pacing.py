"""Client-side pacing within AWS's per-account API throttles.

AWS throttles every account separately, per Region, with token buckets: a bucket of *burst* tokens
refilled at a *sustained* rate; a request that finds the bucket empty fails with
``ThrottlingException`` (ECS, IAM, ELBv2, STS) or ``RequestLimitExceeded`` (EC2). A scanner that
fires requests as fast as its threads allow spends its time in retries and starves the account's
own deployments of the same bucket. So every request the collector sends first takes a token from a
local bucket sized like AWS's, shared by all the calls of one account×region (one shard), and a
throttling answer still gets through, botocore's adaptive retries back off and the local bucket's
rate is lowered (additive increase, multiplicative decrease), so a bucket that other clients of the
account are draining is shared, not fought over.

Default rates (requests per second, burst), from AWS's published limits:

- ECS: "Request throttling for the Amazon ECS API"
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html): per account
  and Region, token buckets per group of actions; its worked example gives the cluster read actions
  (``DescribeClusters``) a bucket of 50 and a refill of 20 per second. We use 20/s, burst 50, for all
  ECS read calls together (one bucket for every ECS call of a shard: conservative, as several action
  groups are then paced as one).
- EC2: "Request throttling for the Amazon EC2 API"
  (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): per account and Region,
  one bucket per API; non-mutating actions (``Describe*``) have a bucket of 100 refilled at 20 per
  second. We keep one bucket per EC2 operation, as AWS does.
- IAM is global (one set of limits per account, whatever the Region) and AWS publishes no per-action
  rate for it; AWS's knowledge-center article on IAM/STS throttling
  (https://repost.aws/knowledge-center/iam-sts-throttling-error) asks callers to back off and to
  reuse ``AssumeRole`` credentials rather than call again. We pace IAM at 5/s, burst 10, per account
  (the collector makes one paginated ``GetAccountAuthorizationDetails`` per account anyway).
- Anything else (ELBv2, Inspector, ECR, STS): 10/s, burst 20.

Every figure is overridable (``--rate ecs=40:100``) for accounts whose quotas were raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError

# (sustained requests per second, burst) by IAM service prefix
DEFAULT_RATES: dict[str, tuple[float, float]] = {
    "ecs": (20.0, 50.0),
    "ec2": (20.0, 100.0),
    "iam": (5.0, 10.0),
    "*": (10.0, 20.0),
}
PER_OPERATION = {"ec2"}  # services that throttle each API separately
GLOBAL = {"iam", "organizations"}  # one bucket per account, whatever the Region
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "TooManyRequests",
    }
)


def parse_rate(text: str) -> tuple[str, float, float]:
    """``ecs=40`` or ``ecs=40:100`` → (service, sustained, burst); ValueError names the problem."""
    service, sep, value = text.partition("=")
    service = service.strip().lower()
    if not sep or not service:
        raise ValueError(f"expected SERVICE=RATE[:BURST], not {text!r}")
    rate_text, _, burst_text = value.partition(":")
    try:
        rate = float(rate_text)
        burst = (
            float(burst_text) if burst_text else max(rate, DEFAULT_RATES.get(service, DEFAULT_RATES["*"])[1])
        )
    except ValueError:
        raise ValueError(f"expected SERVICE=RATE[:BURST] with numbers, not {text!r}") from None
    if rate <= 0 or burst < 1:
        raise ValueError(f"{text!r}: the rate must be above 0 and the burst at least 1")
    return service, rate, burst


class TokenBucket:
    """A token bucket that waits for its token, with AIMD on throttling answers."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic, sleep=time.sleep
    ) -> None:
        self.nominal = rate
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for tokens

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self, deadline: float | None = None) -> bool:
        """Take one token, waiting as long as needed; False when the wait would pass ``deadline``."""
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if self.tokens >= 1 - 1e-9:  # a refill computed in floats may stop a hair short
                    self.tokens = max(0.0, self.tokens - 1)
                    return True
                wait = (1 - self.tokens) / self.rate
            if deadline is not None and now + wait > deadline:
                return False
            self.waited += wait
            self._sleep(wait)

    def throttled(self) -> None:
        """AWS said no: empty the bucket and halve the rate (down to a tenth of the nominal one)."""
        with self._lock:
            self.tokens = 0.0
            self.rate = max(self.nominal / 10, self.rate / 2)

    def succeeded(self) -> None:
        """An answer that was not throttled: creep back towards the nominal rate."""
        if self.rate < self.nominal:
            with self._lock:
                self.rate = min(self.nominal, self.rate + self.nominal / 20)


@dataclass
class Pacer:
    """The buckets of one account (and, for regional services, one Region each)."""

    rates: dict[str, tuple[float, float]] = field(default_factory=dict)  # overrides of DEFAULT_RATES
    deadline: float | None = None  # time.monotonic() after which no request is sent
    _buckets: dict[tuple[str, ...], TokenBucket] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def rate_of(self, service: str) -> tuple[float, float]:
        return (
            self.rates.get(service) or DEFAULT_RATES.get(service) or self.rates.get("*") or DEFAULT_RATES["*"]
        )

    def bucket(self, service: str, region: str, operation: str) -> TokenBucket:
        key: tuple[str, ...] = (service,) if service in GLOBAL else (service, region)
        if service in PER_OPERATION:
            key += (operation,)
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = TokenBucket(*self.rate_of(service))
        return b

    @property
    def waited(self) -> float:
        return sum(b.waited for b in self._buckets.values())


class ShardDeadline(BotoCoreError):
    """The shard's time budget (``--max-shard-seconds``) is spent: no further request is sent.
    A botocore error, so that botocore does not retry it and the collector records it as it records
    any failed call."""

    fmt = "the shard's time budget of {seconds:g} s is spent: request not sent"
