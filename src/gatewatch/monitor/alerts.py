"""Alerts: which transitions are worth telling someone about, and what the message says.

Why the rules are what they are:

- A person is told when an endpoint goes into DOWN, DEGRADED or FLAPPING, and when it
  comes back to UP from one of those. The policy remembers, per endpoint, the last state it
  *told* someone about, so a suppressed alert is never followed by an orphan "recovered".
- MAINTENANCE, PAUSED and PENDING are quiet: an operator chose them, nobody needs paging.
  When a window closes on a still-broken endpoint, MAINTENANCE → DOWN does alert.
- While the problem is probably local (:mod:`gatewatch.monitor.local`), per-endpoint alerts
  are held back and one "probably local" alert goes out instead. When it clears,
  :meth:`AlertPolicy.reconcile` alerts for whatever is still broken (now a real problem).
- Every sink (command, webhook) is optional and may fail; a failure is reported as
  ``AlertFailed`` and never stops the engine. Nothing secret reaches a message: webhook
  URLs are shown without path and query, header values never.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from gatewatch import secrets
from gatewatch.excerpt import show
from gatewatch.model import format_time, verdict_to_json
from gatewatch.monitor.durations import parse_duration
from gatewatch.monitor.events import LocalProblem
from gatewatch.monitor.settings import SettingError, problems_by_key
from gatewatch.monitor.state import ALERT_STATES, State, TransitionEvent
from gatewatch.text import visible

#: States an operator chose or that say nothing yet: never alerted on.
QUIET_STATES = frozenset({State.MAINTENANCE, State.PAUSED, State.PENDING})

DEFAULT_COMMAND_TIMEOUT = 30.0
DEFAULT_WEBHOOK_TIMEOUT = 5.0
DEFAULT_WEBHOOK_RETRIES = 2
DEFAULT_WEBHOOK_BACKOFF = 0.5


@dataclass(frozen=True)
class Alert:
    """One alert, as every sink sends it (JSON body, stdin, environment)."""

    type: Literal["transition", "local", "digest"]
    at: datetime
    text: str
    reason: str
    endpoint: str | None = None
    url: str | None = None
    from_state: State | None = None
    state: State | None = None
    event: TransitionEvent | None = None
    probably_local: bool = False
    #: For a digest: the alerts it stands for, oldest first.
    covers: tuple[Alert, ...] = ()

    def to_json(self) -> dict[str, Any]:
        verdict = self.event.verdict if self.event else None
        if self.type == "digest":
            return {
                "text": slack_escape(visible(self.text)),
                "type": "digest",
                "at": format_time(self.at),
                "count": len(self.covers),
                "alerts": [alert.to_json() for alert in self.covers],
            }
        return {
            "text": slack_escape(visible(self.text)),
            "type": self.type,
            "at": format_time(self.at),
            "endpoint": self.endpoint,
            "url": self.url,
            "from_state": self.from_state,
            "state": self.state,
            "reason": visible(self.reason),
            "summary": visible(verdict.summary if verdict else self.reason),
            "probably_local": self.probably_local,
            "verdict": verdict_to_json(verdict),
        }

    def environment(self) -> dict[str, str]:
        """``GATEWATCH_*`` variables for a command sink (NULs removed: env cannot hold them)."""
        verdict = self.event.verdict if self.event else None
        values = {
            "GATEWATCH_EVENT": self.type,
            "GATEWATCH_AT": format_time(self.at),
            "GATEWATCH_ENDPOINT": self.endpoint or "",
            "GATEWATCH_URL": self.url or "",
            "GATEWATCH_FROM_STATE": str(self.from_state or ""),
            "GATEWATCH_STATE": str(self.state or ""),
            "GATEWATCH_REASON": visible(self.reason),
            "GATEWATCH_SUMMARY": visible(verdict.summary if verdict else self.reason),
            "GATEWATCH_CAUSE": verdict.cause if verdict else "",
            "GATEWATCH_KIND": (verdict.kind or "") if verdict else "",
            "GATEWATCH_PROBABLY_LOCAL": "1" if self.probably_local else "0",
            "GATEWATCH_TEXT": visible(self.text),
            "GATEWATCH_COUNT": str(len(self.covers) if self.covers else 1),
        }
        return {k: v.replace("\x00", "") for k, v in values.items()}


def transition_alert(event: TransitionEvent, url: str | None) -> Alert:
    verdict = event.verdict
    why = event.reason
    if verdict is not None and verdict.summary and verdict.summary not in why:
        why = f"{why} ({verdict.cause}/{verdict.kind or '-'}: {verdict.summary})"
    text = (
        f"gatewatch: {event.endpoint} is {event.to_state.upper()} (was {event.from_state}): {why}"
    )
    return Alert(
        type="transition",
        at=event.at,
        text=text,
        reason=event.reason,
        endpoint=event.endpoint,
        url=secrets.redact_url(url) if url else None,  # the webhook, stdin, GATEWATCH_URL
        from_state=event.from_state,
        state=event.to_state,
        event=event,
    )


def local_alert(problem: LocalProblem, at: datetime) -> Alert:
    if problem.active:
        text = f"gatewatch: probably local, not paging per endpoint: {problem.reason}"
    else:
        text = f"gatewatch: local problem cleared: {problem.reason}"
    return Alert(type="local", at=at, text=text, reason=problem.reason, probably_local=True)


def digest_alert(alerts: list[Alert], at: datetime) -> Alert:
    """One alert for several a sink could not keep up with: "12 endpoints changed state: …".

    Per endpoint, the state it is in now and the one it was in before the first of them
    (``shop DOWN (was UP)``); flaps in between are counted, not listed.
    """
    first: dict[str, State | None] = {}
    last: dict[str, State | None] = {}
    changes: dict[str, int] = {}
    local = [a for a in alerts if a.type == "local"]
    for alert in alerts:
        if alert.type != "transition" or alert.endpoint is None:
            continue
        first.setdefault(alert.endpoint, alert.from_state)
        last[alert.endpoint] = alert.state
        changes[alert.endpoint] = changes.get(alert.endpoint, 0) + 1
    parts = []
    for name, state in last.items():
        part = f"{name} {str(state or '?').upper()} (was {first[name] or '?'}"
        part += f", {changes[name]} changes)" if changes[name] > 1 else ")"
        parts.append(part)
    shown = ", ".join(parts[:_DIGEST_LISTED])
    if len(parts) > _DIGEST_LISTED:
        shown += f", and {len(parts) - _DIGEST_LISTED} more"
    text = f"gatewatch: {len(last)} endpoint{'s' if len(last) != 1 else ''} changed state"
    text += f": {shown}" if shown else ""
    if local:
        text += f"; {local[-1].text.removeprefix('gatewatch: ')}"
    return Alert(
        type="digest",
        at=at,
        text=text,
        reason=f"{len(alerts)} alerts in one: the sink fell behind",
        covers=tuple(alerts),
    )


_DIGEST_LISTED = 20


class AlertPolicy:
    """Decides which transitions become alerts. Pure bookkeeping, engine thread only."""

    def __init__(self) -> None:
        self._told: dict[str, State] = {}
        self.local = False

    def should_alert(self, event: TransitionEvent) -> bool:
        """Whether ``event`` is news for a person now (and remember that they were told)."""
        if self.local or not self._worth(event.endpoint, event.to_state):
            return False
        self._told[event.endpoint] = event.to_state
        return True

    def reconcile(self, current: Mapping[str, State]) -> list[tuple[str, State]]:
        """Endpoints whose state is news since the last alert (after a suppression ends).

        Returns ``(name, state last told)`` pairs and records the current states as told.
        """
        if self.local:
            return []
        due = [
            (name, self.told(name)) for name, state in current.items() if self._worth(name, state)
        ]
        for name, _ in due:
            self._told[name] = current[name]
        return due

    def told(self, name: str) -> State:
        """The last state a person was told about (UP until told otherwise)."""
        return self._told.get(name, State.UP)

    def forget(self, name: str) -> None:
        self._told.pop(name, None)

    def _worth(self, name: str, state: State) -> bool:
        if state in QUIET_STATES:
            return False
        told = self.told(name)
        if state == told:
            return False
        return state in ALERT_STATES or (state == State.UP and told in ALERT_STATES)


@dataclass(frozen=True)
class AlertConfig:
    """The watchlist's ``[alerts]`` table, validated. Header values stay ``env:`` references."""

    command: str | None = None
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    webhook: str | None = None
    webhook_headers: tuple[tuple[str, str], ...] = ()
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    webhook_retries: int = DEFAULT_WEBHOOK_RETRIES
    webhook_backoff: float = DEFAULT_WEBHOOK_BACKOFF

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any] | None) -> AlertConfig:
        """The validated ``[alerts]`` table; SettingError (a ValueError) names the key."""
        table = table or {}
        command = table.get("command")
        if command is not None:
            _check_command(command)
        webhook = table.get("webhook")
        if webhook is not None:
            _check_webhook(webhook)
        headers = table.get("webhook_headers") or {}
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise SettingError("webhook_headers", "expected a table of strings", name="alerts")
        retries = table.get("webhook_retries", DEFAULT_WEBHOOK_RETRIES)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise SettingError(
                "webhook_retries",
                f"expected a number from 0 to 10, got {show(retries)}",
                name="alerts",
            )
        return cls(
            command=command,
            command_timeout=_seconds(table, "command_timeout", DEFAULT_COMMAND_TIMEOUT),
            webhook=webhook,
            webhook_headers=tuple(headers.items()),
            webhook_timeout=_seconds(table, "webhook_timeout", DEFAULT_WEBHOOK_TIMEOUT),
            webhook_retries=retries,
            webhook_backoff=_seconds(table, "webhook_backoff", DEFAULT_WEBHOOK_BACKOFF, zero=True),
        )


#: The keys of a watchlist's ``[alerts]`` table (checked at load by :func:`alert_problems`).
ALERT_KEYS = (
    "command",
    "command_timeout",
    "webhook",
    "webhook_headers",
    "webhook_timeout",
    "webhook_retries",
    "webhook_backoff",
)


def alert_problems(table: Mapping[str, Any]) -> list[SettingError]:
    """Every bad key of an ``[alerts]`` table, by the checks of :meth:`AlertConfig.from_mapping`."""
    return problems_by_key(table, ALERT_KEYS, AlertConfig.from_mapping)


def _check_command(command: object) -> None:
    if not isinstance(command, str) or not command.strip():
        raise SettingError(
            "command", f"expected a command line, got {show(command)}", name="alerts"
        )
    try:
        argv = shlex.split(command)
    except ValueError as exc:  # an unclosed quote
        raise SettingError(
            "command", f"can't split {show(command)}: {exc}", name="alerts"
        ) from None
    if not argv or "\x00" in command:
        raise SettingError(
            "command", f"expected a command line, got {show(command)}", name="alerts"
        )


def _check_webhook(webhook: object) -> None:
    if not isinstance(webhook, str) or not webhook.strip():
        raise SettingError("webhook", "expected a URL like https://hooks.example/…", name="alerts")
    if webhook.startswith("env:"):
        return  # resolved when an alert is sent; a missing variable is reported then
    try:
        parts = urlsplit(webhook)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        # Not echoed: a webhook URL carries its secret in the path.
        raise SettingError("webhook", "expected an http:// or https:// URL", name="alerts")


def _seconds(table: Mapping[str, Any], key: str, default: float, *, zero: bool = False) -> float:
    try:
        seconds = parse_duration(table.get(key, default))
    except ValueError as exc:
        raise SettingError(key, str(exc), name="alerts") from None
    if seconds == 0 and not zero:
        raise SettingError(key, "must be longer than zero", name="alerts")
    return seconds


def sink_label(url: str) -> str:
    """A webhook's URL as a sink's name: scheme, host and port only (no credentials, path
    or query), for messages and logs.

    Webhook URLs carry their secret in the path (Slack: ``/services/T000/B000/XXXX``).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    suffix = "/…" if parts.path not in ("", "/") or parts.query else "/"
    return urlunsplit((parts.scheme, netloc, "", "", "")) + suffix


def slack_escape(text: str) -> str:
    """Escape Slack's control characters, so a server's text cannot ``<!channel>`` anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
