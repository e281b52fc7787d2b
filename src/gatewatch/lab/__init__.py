"""gatewatch.lab: a loopback fault lab — DNS, broken upstreams, TLS variants, proxies.

Used by the tests, ``gatewatch demo`` and the benchmarks; the product's logic never imports
it. Everything binds to loopback only. Start with ``with Lab() as lab: ...`` or run
``python -m gatewatch.lab`` for a lab in the foreground.
"""

from .lab import Lab
from .zone import DnsTable

__all__ = ["DnsTable", "Lab"]
