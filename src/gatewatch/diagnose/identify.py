"""Walk the fingerprint tables of ``gateways.py``: who generated a response, who relayed it.

Kept apart from the tables so that adding a vendor is a data change, and apart from
the rules so that the CLI can show "who answered" for any response, failing or not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gatewatch.diagnose.fingerprint import Hint, Template
from gatewatch.diagnose.gateways import (
    EMITS_RETRY_AFTER,
    ID_HEADERS,
    MARKERS,
    OWN_REASONS,
    PASSTHROUGH_HEADERS,
    SUPERSEDES,
    TEMPLATES,
)
from gatewatch.diagnose.signals import Signal, read_signal
from gatewatch.diagnose.text import clip
from gatewatch.diagnose.tiers import (
    APP_HEADERS,
    APP_SERVERS,
    GATEWAY_STATUSES,
    PathIdentity,
    generic_gateway_page,
    identity_of,
    product_token,
    round_seconds,
    same_path,
)
from gatewatch.diagnose.unknown import infer_gateway
from gatewatch.model import Response


@dataclass(frozen=True)
class Identification:
    """Who generated a response, who relayed it, and what its page says about the cause."""

    #: A vendor name from gateways.py, "app" for the application, None when unknown.
    generator: str | None
    #: Tiers that only relayed it, outermost first.
    relayed_by: tuple[str, ...] = ()
    #: Name of the matched template, if any.
    template: str | None = None
    #: Facts behind the identification, one short line each.
    evidence: tuple[str, ...] = ()
    #: The kind the page names (e.g. "no_healthy_upstream"), None when it cannot tell.
    hint: str | None = None
    #: Kinds the page cannot tell apart.
    candidates: tuple[str, ...] = ()
    #: Certainty about the generator, 0..1.
    confidence: float = 0.0
    #: Certainty about the hint (or the candidate list), 0..1.
    hint_confidence: float = 0.0
    #: The generator was inferred (page shape, timing, identity), not matched in a table.
    inferred: bool = False

    @property
    def gateway(self) -> bool:
        """A gateway, proxy or CDN generated the response (not the application)."""
        return self.generator not in (None, "app")

    @property
    def tiers(self) -> tuple[str, ...]:
        """Everyone known to have handled the response, generator first."""
        head = (self.generator,) if self.generator else ()
        return head + self.relayed_by


def identify(
    response: Response,
    *,
    elapsed_ms: float | None = None,
    healthy: PathIdentity | None = None,
    forward_proxy: bool = False,
) -> Identification:
    """Fingerprint ``response``: body template first, headers as support (gateways.md §3).

    ``elapsed_ms`` (request sent → first byte) lets time-based hints fire, such as
    HAProxy's 503 after ~1 s per connection retry. ``healthy``: the identity of the
    endpoint's last healthy answer, when there is history; ``forward_proxy``: the probe
    went through a configured forward proxy (which may have made the answer itself).
    """
    tiers = marked_tiers(response)
    found = _identify(response, tiers, elapsed_ms, healthy, forward_proxy)
    if (line := cached_line(response)) is not None:
        found = dataclasses.replace(found, evidence=(*found.evidence, line))
    return found


def _identify(
    response: Response,
    tiers: tuple[str, ...],
    elapsed_ms: float | None,
    healthy: PathIdentity | None,
    forward_proxy: bool,
) -> Identification:
    # What the gateway says in its headers outranks what its page looks like.
    if (response.status_code or 0) >= 400 and (signal := read_signal(response, tiers)):
        return _from_signal(signal, response, tiers)
    text = response.text
    for template in TEMPLATES:
        if _matches(template, response, text, tiers):
            return _from_template(template, response, text, tiers, elapsed_ms)
    return _unrecognised(response, tiers, elapsed_ms, healthy, forward_proxy)


def cached_age(response: Response) -> int | None:
    """Seconds a cache says it has held this answer (``Age``), when above zero."""
    value = (response.header("age") or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def cached_line(response: Response) -> str | None:
    """For an error served from a cache: it may be stale, the origin may have recovered."""
    age = cached_age(response)
    if age is None or (response.status_code or 0) < 500:
        return None
    return (
        f"Age: {age}: this error was served from a cache (CloudFront keeps error pages 10 s by "
        "default); the origin may already have recovered: retry to confirm"
    )


def _from_signal(signal: Signal, response: Response, tiers: tuple[str, ...]) -> Identification:
    relayed = [tier for tier in tiers if tier != signal.generator]
    evidence = [*signal.evidence, *_id_lines(response, (signal.generator, *relayed))]
    return Identification(
        generator=signal.generator,
        relayed_by=tuple(relayed),
        template=signal.source or None,
        evidence=tuple(evidence),
        hint=signal.kind,
        candidates=signal.candidates,
        confidence=signal.confidence,
        hint_confidence=signal.confidence,
    )


def marked_tiers(response: Response) -> tuple[str, ...]:
    """Tiers whose marker headers are present, outermost first (MARKERS order)."""
    found: list[str] = []
    for marker in MARKERS:
        if marker.generator in found:
            continue
        values = response.header_all(marker.header)
        if values and (marker.value is None or any(marker.value.search(v) for v in values)):
            found.append(marker.generator)
    for flavour, base in SUPERSEDES.items():
        if flavour in found and base in found:
            found.remove(base)
    return tuple(found)


def server_tier(response: Response) -> str | None:
    """The tier the Server header names, if it names one."""
    server = response.header("server")
    if server is None:
        return None
    for marker in MARKERS:
        if marker.header == "server" and marker.value and marker.value.search(server):
            return marker.generator
    return None


def lowercase_names(response: Response) -> bool:
    """All header names lower-case on HTTP/1.x: HAProxy 2.x relays them so (§0.7)."""
    version = response.http_version.upper().removeprefix("HTTP/")
    if not version.startswith("1"):
        return False
    names = [name for name, _ in response.headers if any(c.isalpha() for c in name)]
    return len(names) >= 2 and all(name == name.lower() for name in names)


def _matches(template: Template, response: Response, text: str, tiers: tuple[str, ...]) -> bool:
    if template.statuses and response.status_code not in template.statuses:
        return False
    if template.markers and not template.markers.intersection(tiers):
        return False
    if any(response.header(name) is None for name in template.headers):
        return False
    if template.empty_body and (response.body or response.body_size):
        return False
    return all(pattern.search(text) for pattern in template.body)


def pick_hint(
    template: Template, response: Response, text: str, elapsed_ms: float | None
) -> Hint | None:
    """The first hint row of ``template`` whose conditions hold."""
    for hint in template.hints:
        if hint.statuses and response.status_code not in hint.statuses:
            continue
        if hint.body and not hint.body.search(text):
            continue
        if hint.header:
            value = response.header(hint.header[0])
            if value is None or not hint.header[1].search(value):
                continue
        if hint.at_timer and round_seconds(elapsed_ms) is None:
            continue
        if hint.elapsed_s and (
            elapsed_ms is None
            or not any(lo * 1000 <= elapsed_ms <= hi * 1000 for lo, hi in hint.elapsed_s)
        ):
            continue
        return hint
    return None


def _from_template(
    template: Template,
    response: Response,
    text: str,
    tiers: tuple[str, ...],
    elapsed_ms: float | None,
) -> Identification:
    generator = "app" if template.passthrough else template.generator
    relayed = [tier for tier in tiers if tier != generator]
    if template.passthrough and template.generator not in relayed:
        relayed.insert(0, template.generator)
    label = template.label.format(status=response.status_code)
    evidence = [_page_line(response, template, label)]
    if template.excerpt and (found := template.excerpt.search(text)):
        evidence.append(f'the page says "{clip(found.group(1))}"')
    if generator == "haproxy":
        evidence.extend(_haproxy_own_headers(response))
    if lowercase_names(response) and "haproxy" not in relayed and generator != "haproxy":
        relayed.append("haproxy")
        evidence.append(_LOWERCASE_LINE)
    hint = pick_hint(template, response, text, elapsed_ms)
    if hint:
        evidence.append(hint.note)
    evidence.extend(_id_lines(response, (generator, *relayed)))
    return Identification(
        generator=generator,
        relayed_by=tuple(relayed),
        template=template.name,
        evidence=tuple(evidence),
        hint=hint.kind if hint else None,
        candidates=hint.candidates if hint else (),
        confidence=template.confidence,
        hint_confidence=hint.confidence if hint else 0.0,
    )


def _page_line(response: Response, template: Template, label: str) -> str:
    server = response.header("server")
    if server is None:
        return f"body is {label}"
    named = server_tier(response)
    if named and named != template.generator and not template.passthrough:
        return (
            f"Server: {clip(server, 60)} but the body is {label}: "
            f"{template.generator} generated it, {named} relayed it"
        )
    return f"Server: {clip(server, 60)}; body is {label}"


def _haproxy_own_headers(response: Response) -> list[str]:
    facts = []
    if response.header("server") is None:
        facts.append("no Server")
    if response.header("date") is None:
        facts.append("no Date")
    if (response.header("cache-control") or "").lower() == "no-cache":
        facts.append("cache-control: no-cache")
    if not facts:
        return []
    return ["HAProxy's own-page headers: " + ", ".join(facts)]


_LOWERCASE_LINE = (
    "all header names are lower-case on HTTP/1.1: HAProxy 2.x (or an HTTP/2 hop) is in the path"
)


def _id_lines(response: Response, tiers: tuple[str, ...]) -> list[str]:
    lines = []
    for tier in tiers:
        header = ID_HEADERS.get(tier)
        value = response.header(header) if header else None
        if header and value:
            lines.append(f"{header}: {clip(value, 80)} (quote it to {tier})")
    return lines


def _unrecognised(
    response: Response,
    tiers: tuple[str, ...],
    elapsed_ms: float | None,
    healthy: PathIdentity | None,
    forward_proxy: bool,
) -> Identification:
    """No template matched. The app made it only on positive evidence (R5); a gateway
    made it when its page, its timing or a changed identity say so; else unknown."""
    reasons, confidence = _app_evidence(response, tiers, healthy)
    server = response.header("server")
    named = server_tier(response)
    relayed = list(tiers)
    evidence = list(reasons)
    if lowercase_names(response) and "haproxy" not in relayed:
        relayed.append("haproxy")
        evidence.append(_LOWERCASE_LINE)
    if reasons:
        if named:
            evidence.append(
                f"Server: {clip(server or '', 60)} names a tier that relayed the response "
                f"({named} replaces the upstream's Server header), not its generator"
            )
        evidence.extend(_id_lines(response, tuple(relayed)))
        return Identification(
            generator="app", relayed_by=tuple(relayed), evidence=tuple(evidence),
            confidence=confidence,
        )  # fmt: skip
    inferred = infer_gateway(response, elapsed_ms, healthy, forward_proxy)
    if inferred is not None:
        relayed = [t for t in relayed if t != inferred.generator]
        evidence.extend(inferred.evidence)
        evidence.extend(_id_lines(response, (inferred.generator or "", *relayed)))
        return Identification(
            generator=inferred.generator,
            relayed_by=tuple(relayed),
            evidence=tuple(evidence),
            hint=inferred.hint,
            candidates=inferred.candidates,
            confidence=inferred.confidence,
            hint_confidence=inferred.hint_confidence,
            inferred=True,
        )
    where = f"{', '.join(tiers)} in the path, but " if tiers else ""
    body = "the body is empty" if not response.body else "the body matches no known page"
    evidence.append(f"{where}{body}: who generated it is unknown")
    if server is not None and named is None:
        evidence.append(f"Server: {clip(server, 60)} is in no table (evidence of nothing)")
    evidence.extend(_id_lines(response, tuple(relayed)))
    return Identification(generator=None, relayed_by=tuple(relayed), evidence=tuple(evidence))


def _app_evidence(
    response: Response, tiers: tuple[str, ...], healthy: PathIdentity | None
) -> tuple[list[str], float]:
    """Positive evidence that the application generated ``response`` (R5), with confidence."""
    status = response.status_code
    reasons: list[str] = []
    confidence = 0.0
    content_type = response.header("content-type") or ""
    if "json" in content_type.lower():
        reasons.append(f"Content-Type: {clip(content_type, 60)} and no gateway's page")
        confidence = 0.85
    for name, tier in PASSTHROUGH_HEADERS.items():
        if response.header(name) is not None:
            reasons.append(f"{name} is present: {tier} got this response from its upstream")
            confidence = max(confidence, 0.85)
    for value in response.header_all("server"):
        if product_token(value) in APP_SERVERS:
            reasons.append(f"Server: {clip(value, 60)} is an application server")
            confidence = max(confidence, 0.8)
    for name in APP_HEADERS:
        if (found := response.header(name)) is not None:
            reasons.append(f"{name}: {clip(found, 60)} is the application's header")
            confidence = max(confidence, 0.75)
    for tier in tiers:
        own = OWN_REASONS.get(tier, {}).get(status or 0)
        if own and response.reason and response.reason != own:
            reasons.append(
                f'reason phrase "{clip(response.reason, 60)}" is not {tier}\'s own ("{own}")'
            )
            confidence = max(confidence, 0.7)
    retry_after = response.header("retry-after")
    if retry_after is not None and tiers and not EMITS_RETRY_AFTER.intersection(tiers):
        reasons.append(f"Retry-After: {clip(retry_after, 40)}, which {tiers[0]} does not send")
        confidence = max(confidence, 0.7)
    # A gateway may stamp its Server on what it relays; its generic 502/504 page is still its own.
    generic = status in GATEWAY_STATUSES and generic_gateway_page(response) is not None
    if healthy is not None and not generic and same_path(identity_of(response), healthy):
        reasons.append(
            f"same identity as the endpoint's healthy answers ({clip(healthy.line(), 80)})"
        )
        confidence = max(confidence, 0.75)
    if not reasons and status is not None and status < 500:
        reasons.append(f"status {status} and no gateway's page: the application answered")
        confidence = 0.6
    return reasons, confidence
