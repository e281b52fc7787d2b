"""The demo's endpoints: one per lesson, over a running lab (``gatewatch demo`` shows them).

Why in the lab: they name the lab's URLs, ports and DNS names, so they change with it. The
endpoints probe often (a few seconds) so states settle quickly; the flapping one has tight
thresholds so it flaps within the first minute. The CLI writes them to a watchlist file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatewatch.model import Endpoint

if TYPE_CHECKING:
    from gatewatch.lab.lab import Lab

DEMO_INTERVAL = 3.0
DEMO_TIMEOUT = 5.0


def demo_endpoints(lab: Lab) -> list[Endpoint]:
    """One endpoint per lesson: healthy, slow, gateway 502, DNS, certificates, flapping, 429."""
    resolvers = (f"{lab.host}:{lab.dns_port}",)
    ca = lab.ca_bundle
    host = "app.lab.test"

    def http(path: str, name_host: str = host) -> str:
        return lab.url(path, host=name_host)

    def https(path: str, cert: str = "valid") -> str:
        return lab.url(path, scheme="https", cert=cert, host=host)

    def ep(name: str, url: str, *tags: str, **options: Any) -> Endpoint:
        options.setdefault("interval", DEMO_INTERVAL)
        return Endpoint(
            name=name,
            url=url,
            timeout=DEMO_TIMEOUT,
            resolvers=resolvers,
            tags=("demo", *tags),
            **options,
        )

    return [
        ep("shop", https("/ok"), "prod", ca_bundle=ca),
        ep("search (slow)", http("/delay/1200")),
        # A real reverse proxy in the lab (nginx's error pages) in front of a dead port;
        # the origin is that port, probed directly: the verdict can say "refused".
        ep(
            "checkout (gateway 502)",
            http(f"/gateway/{lab.refused_port}/health"),
            "prod",
            "payments",
            origin=f"http://127.0.0.1:{lab.refused_port}/health",
        ),
        ep("api (DNS)", http("/ok", "nx.lab.test")),
        ep("billing (cert expiring)", https("/ok", "expiring"), "payments", ca_bundle=ca),
        ep("legacy (cert expired)", https("/ok", "expired"), ca_bundle=ca),
        ep(
            "feed (flapping)",
            http("/flap"),
            interval=1.5,
            extra={"down_after": 1, "flap_threshold": 3, "flap_window": "2m"},
        ),
        ep("partner (rate limited)", http("/ratelimit")),
    ]
