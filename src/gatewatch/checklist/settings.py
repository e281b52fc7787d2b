"""The checks' knobs, in a module that imports nothing heavy.

Why apart: ``gatewatch --help`` builds every subcommand's parser, and ``diagnose``'s shows
these defaults; the CLI must not pay for httpx, dnspython and the monitor to print them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckSettings:
    """Knobs of the checks; the defaults are what an engineer at 3 a.m. wants."""

    #: Probes the Retry step makes.
    retries: int = 5
    #: First pause between retries (seconds); doubles each time, up to ``backoff_cap``.
    backoff: float = 0.25
    backoff_cap: float = 2.0
    #: Bound of one DNS question or one plain TCP connect (seconds).
    lookup_bound: float = 3.0
    #: A certificate with fewer days left is a warning; None: the probe's own threshold.
    expiring_days: float | None = None
    #: Ask the system's resolver too, beside the endpoint's own resolvers.
    system_resolver: bool = True

    def pauses(self) -> tuple[float, ...]:
        """The pauses before retries 2…N."""
        return tuple(
            min(self.backoff_cap, self.backoff * 2**i) for i in range(max(0, self.retries - 1))
        )
