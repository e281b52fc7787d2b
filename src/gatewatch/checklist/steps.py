"""The troubleshooting steps as a data table, and the order a verdict puts them in.

Why data: the screen lists these rows, the report walks them, ``diagnose --json`` prints
their ids, and the order is a lookup, not code. The steps follow the seed advice for a
502/503/504 (retry, check the server, review the proxy settings and timeouts, inspect DNS,
then TLS, load and software), and end with escalation. Each row names its automated check
in :mod:`gatewatch.checklist.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gatewatch.checklist import checks
from gatewatch.model import Verdict


@dataclass(frozen=True)
class Step:
    """One step: what it asks, why it matters, and the check that answers it."""

    id: str
    title: str
    #: The question the step answers, as the engineer would ask it.
    question: str
    #: What to do by hand when the check cannot tell (or to confirm it).
    manual: str
    check: checks.Check


STEPS: tuple[Step, ...] = (
    Step(
        "retry",
        "Retry",
        "Does it fail every time, or now and then?",
        "Retry the request yourself; a transient failure points at one bad pool member, a "
        "keep-alive race or a restart in progress.",
        checks.check_retry,
    ),
    Step(
        "server",
        "Server status",
        "Is the application up behind the gateway?",
        "Check the application's process, port and logs on its host (`ss -ltnp`, "
        "`systemctl status`, `kubectl get pods`).",
        checks.check_server,
    ),
    Step(
        "proxy",
        "Proxy settings",
        "Who answered, and what do its settings, timeouts and logs say?",
        "Read the gateway's error log for this request and compare its upstream address, "
        "port and timeouts with the application's.",
        checks.check_proxy,
    ),
    Step(
        "dns",
        "DNS configuration",
        "Does the name resolve, to the same addresses everywhere?",
        "Compare `dig @RESOLVER NAME` across resolvers; check TTLs and the CNAME chain.",
        checks.check_dns,
    ),
    Step(
        "tls",
        "TLS",
        "Is the certificate valid, for this name, for long enough?",
        "`openssl s_client -connect HOST:PORT -servername HOST -showcerts`",
        checks.check_tls,
    ),
    Step(
        "load",
        "Load",
        "Is it overloaded, rate limited, or is one pool member failing?",
        "Check the service's CPU, memory, connection counts and queue depths; scale out or "
        "cache if the load is real.",
        checks.check_load,
    ),
    Step(
        "software",
        "Software",
        "Which versions answer, and do all addresses run the same one?",
        "Compare the deployed versions across hosts; a half-finished rollout serves two.",
        checks.check_software,
    ),
    Step(
        "escalate",
        "Escalate",
        "Who needs to know, with what evidence?",
        "Export the incident report and hand it to the owner the checks point at.",
        checks.check_escalate,
    ),
)

BY_ID: Mapping[str, Step] = MappingProxyType({s.id: s for s in STEPS})

#: Steps to put first, by the verdict's kind (most specific) and then by its cause.
FIRST_BY_KIND: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pool_member_down": ("load", "software", "server"),
        "upstream_dns": ("proxy", "dns", "server"),
        "upstream_tls": ("server", "tls", "proxy"),
        "gateway_misconfigured": ("proxy", "server"),
        "gateway_error": ("proxy", "server"),
        "intermittent": ("retry", "load", "software"),
        "slow": ("load", "server", "proxy"),
        "expiring_soon": ("tls",),
        "resolver_mismatch": ("dns",),
        "upstream_timeout": ("server", "proxy", "load"),
    }
)
FIRST_BY_CAUSE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "dns": ("dns", "retry"),
        "network": ("retry", "server", "dns"),
        "tls": ("tls", "retry"),
        "proxy": ("proxy", "server", "retry"),
        "backend": ("server", "proxy", "retry"),
        "overload": ("load", "retry", "server"),
        "blocked": ("proxy", "retry"),
    }
)


def order_steps(verdict: Verdict | None) -> tuple[Step, ...]:
    """The steps, most likely culprit first for ``verdict``; Escalate always last.

    Without a verdict (or a healthy one) the table's own order stands: retry first is
    what an engineer does anyway.
    """
    first: tuple[str, ...] = ()
    if verdict is not None:
        first = FIRST_BY_KIND.get(verdict.kind or "", ()) or FIRST_BY_CAUSE.get(verdict.cause, ())
    ids = [*dict.fromkeys((*first, *(s.id for s in STEPS)))]
    ids.remove("escalate")
    return tuple(BY_ID[i] for i in (*ids, "escalate"))
