"""Where alerts go: a command, a webhook; and the dispatcher that sends to them.

Why: an alert sink is someone else's code or server, so it can hang, fail or vanish. Each
send runs as its own task on the engine loop, bounded by a timeout (and for the webhook a
bounded number of retries with backoff); a failure becomes one ``AlertFailed`` report with a
reason that names no secret. The command gets the alert as JSON on stdin and as
``GATEWATCH_*`` variables; it is split with :mod:`shlex` and run without a shell, so no text
from a server can ever become part of a command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from gatewatch import secrets
from gatewatch.monitor.alert_queue import DEFAULT_MAX_PENDING, SinkQueue, Tally
from gatewatch.monitor.alerts import Alert, AlertConfig, sink_label

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_STDERR_TAIL = 160


class SinkError(Exception):
    """A sink failed; ``str()`` is safe to show (no URL path, no header value)."""


class Sink(Protocol):
    name: str

    async def send(self, alert: Alert) -> None: ...

    async def aclose(self) -> None: ...


class CommandSink:
    name = "command"

    def __init__(
        self,
        command: str,
        *,
        timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("alerts: command is empty")
        self.timeout = timeout
        self.environ = environ
        #: Process groups of commands that finished but may have left children running
        #: (``notify &``): killed at exit, so nothing of ours outlives gatewatch.
        self._groups: set[int] = set()

    async def send(self, alert: Alert) -> None:
        program = self.argv[0]
        self._groups = {g for g in self._groups if _group_alive(g)}
        env = {**(os.environ if self.environ is None else self.environ), **alert.environment()}
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                # Its own process group: on a timeout or at exit the whole group is
                # killed, so a shell script's `sleep` children do not outlive gatewatch.
                start_new_session=True,
            )
        except OSError as exc:
            raise SinkError(f"cannot run {program!r}: {exc.strerror or exc}") from None
        self._groups.add(proc.pid)
        payload = json.dumps(alert.to_json()).encode()
        try:
            async with asyncio.timeout(self.timeout):
                _, stderr = await proc.communicate(payload)
        except TimeoutError:
            await _kill_group(proc)
            raise SinkError(f"{program!r} did not finish within {self.timeout:g}s") from None
        except BaseException:  # cancelled: gatewatch is stopping
            await _kill_group(proc)
            raise
        if proc.returncode != 0:
            tail = _last_line(stderr)
            raise SinkError(
                f"{program!r} exited with status {proc.returncode}" + (f": {tail}" if tail else "")
            )

    async def aclose(self) -> None:
        """gatewatch is stopping: end whatever our commands left running."""
        for group in self._groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self._groups.clear()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class WebhookSink:
    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.5,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.headers = tuple(headers)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.environ = environ
        #: Attempts made (all alerts), for tests and stats.
        self.attempts = 0
        self._client: httpx.AsyncClient | None = None

    async def send(self, alert: Alert) -> None:
        import httpx

        try:
            url = secrets.resolve(self.url, self.environ)
            headers = {k: secrets.resolve(v, self.environ) for k, v in self.headers}
        except secrets.SecretError as exc:
            raise SinkError(str(exc)) from None
        shown = sink_label(url)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        body = alert.to_json()
        attempts = 1 + self.retries
        last = "no attempt"
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            self.attempts += 1
            try:
                response = await self._client.post(url, json=body, headers=headers)
            except httpx.HTTPError as exc:
                last = _describe(exc, url, shown)
                continue
            if response.is_success:
                return
            last = f"HTTP {response.status_code}"
            if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                break  # the request itself is wrong: retrying cannot help
        raise SinkError(f"POST {shown} failed after {attempt + 1} attempt(s): {last}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def sinks_from_config(
    config: AlertConfig, *, environ: Mapping[str, str] | None = None
) -> list[Sink]:
    sinks: list[Sink] = []
    if config.command:
        sinks.append(CommandSink(config.command, timeout=config.command_timeout, environ=environ))
    if config.webhook:
        sinks.append(
            WebhookSink(
                config.webhook,
                headers=config.webhook_headers,
                timeout=config.webhook_timeout,
                retries=config.webhook_retries,
                backoff=config.webhook_backoff,
                environ=environ,
            )
        )
    return sinks


#: ``(sink name, reason, how many alerts did not get through)``.
FailureReporter = Callable[[str, str, int], None]


class AlertDispatcher:
    """Hands alerts to each sink's bounded queue (:mod:`gatewatch.monitor.alert_queue`).
    Engine thread only."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        on_failure: FailureReporter,
        *,
        max_concurrent: int = 4,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.sinks = list(sinks)
        self.on_failure = on_failure
        #: Sends in flight at once, all sinks together (each sink has one at most).
        self.max_concurrent = max_concurrent
        self._slots: asyncio.Semaphore | None = None
        self.queues = [
            SinkQueue(
                sink,
                self._report,
                slots=self._semaphore,
                error_types=(SinkError,),
                max_pending=max_pending,
            )
            for sink in self.sinks
        ]
        #: Alerts handed over (to all sinks), for tests and stats.
        self.sent = 0

    def send(self, alert: Alert) -> None:
        self.sent += 1
        for queue in self.queues:
            queue.put(alert)

    def tallies(self) -> dict[str, Tally]:
        """Per sink: delivered, digested, failed, dropped."""
        return {queue.sink.name: queue.tally for queue in self.queues}

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        return self._slots

    def _report(self, sink: str, reason: str, count: int) -> None:
        try:
            self.on_failure(sink, reason, count)
        except Exception:
            log.exception("alert failure listener raised")

    async def drain(self, grace: float) -> None:
        """Let sends in flight finish for up to ``grace`` s, report what is left, close sinks."""
        await asyncio.gather(*(queue.close(grace) for queue in self.queues))
        for sink in self.sinks:
            try:
                await sink.aclose()
            except Exception:
                log.exception("closing alert sink %s", sink.name)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the command's whole process group, and reap the command."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(asyncio.shield(proc.wait()), 5.0)


def _describe(exc: Exception, url: str, shown: str) -> str:
    """An httpx error as text, with the full URL (and its secret) replaced by the safe form."""
    text = str(exc).replace(url, shown)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _last_line(stderr: bytes | None) -> str:
    lines = (stderr or b"").decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return ""
    line = "".join(c if c.isprintable() else "?" for c in lines[-1])
    return line[:_STDERR_TAIL]
