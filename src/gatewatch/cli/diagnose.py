"""``gatewatch diagnose URL``: the checklist's automated checks, headless, and the report.

The checks are the checklist's (:mod:`gatewatch.checklist`); this is the command around
them, in its one home under ``cli``. Its probe options and exit status
are exactly those of ``gatewatch probe`` (0 healthy, 1 not, 2 usage error), so a script
can swap one command for the other; a test compares the two parsers so they cannot drift.

Building the parser imports nothing heavy (every ``gatewatch`` invocation builds it); the
probe, the checks and the report are imported when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gatewatch.checklist.settings import CheckSettings
from gatewatch.model import Endpoint
from gatewatch.text import dumps, one_line, visible

if TYPE_CHECKING:
    from gatewatch.checklist.past import Past
    from gatewatch.checklist.runner import Diagnosis

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE = 0, 1, 2


def add_http_version_options(p: argparse.ArgumentParser) -> None:
    """``--http1.1`` / ``--http2``: force one HTTP version (default: offer both, as a browser)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--http1.1",
        dest="http_version",
        action="store_const",
        const="1.1",
        help="speak HTTP/1.1 only (ALPN http/1.1)",
    )
    group.add_argument(
        "--http2",
        dest="http_version",
        action="store_const",
        const="2",
        help="speak HTTP/2 only: a server without h2 fails at the tls hop "
        "(over http://, HTTP/2 with prior knowledge)",
    )


def add_probe_options(p: argparse.ArgumentParser) -> None:
    """The options of ``gatewatch probe`` (same names, same meaning)."""
    p.add_argument("url")
    p.add_argument("--name", help="name to report (default: the URL's host)")
    p.add_argument("--origin", help="URL of the application itself, bypassing the gateway")
    p.add_argument(
        "--proxy", help="forward proxy URL (default: HTTP(S)_PROXY from the environment)"
    )
    p.add_argument(
        "--resolver",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="DNS resolver to ask (repeat to compare several)",
    )
    p.add_argument(
        "--timeout",
        default="10",
        metavar="DURATION",
        help="deadline for each probe: seconds, or 500ms, 5s, 1m as in a watchlist (default 10)",
    )
    p.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    p.add_argument("--ca-bundle", metavar="PATH", help="trust these CA certificates (PEM)")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="extra request header (VALUE may be env:VAR)",
    )
    p.add_argument("--method", default="GET")
    p.add_argument(
        "--expect-status",
        action="append",
        default=[],
        metavar="CODE",
        help="accepted status: 200 or 2xx (repeatable; default 200-399)",
    )
    p.add_argument("--expect-body", metavar="TEXT", help="the body must contain TEXT")
    p.add_argument(
        "--all-addresses", action="store_true", help="probe every resolved address and report each"
    )
    add_http_version_options(p)


def duration_option(option: str, text: str) -> float:
    """``text`` as a duration by the watchlist's grammar, longer than zero; ValueError
    naming ``option`` otherwise (the caller exits 2)."""
    from gatewatch.durations import parse_duration

    seconds = parse_duration(text, key=option)
    if seconds <= 0:
        raise ValueError(f"{option}: must be longer than zero, got {text!r}")
    return seconds


def positive_int_option(option: str, text: str) -> int:
    """``text`` as a whole number ≥ 1 (``--concurrency 0`` would probe nothing)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{option}: expected a whole number ≥ 1, got {text!r}")
    return value


def add_diagnose_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``diagnose`` to ``gatewatch``'s subcommands."""
    p = sub.add_parser(
        "diagnose",
        help="probe a URL, run the troubleshooting checklist's checks, write an incident report",
        description="Probe URL, run every automated step of the troubleshooting checklist "
        "(retry, server status, proxy settings, DNS, TLS, load, software) in the order the "
        "verdict suggests, and write a redacted Markdown incident report.",
    )
    add_probe_options(p)
    p.add_argument("--json", action="store_true", help="print the steps and verdict as JSON")
    p.add_argument(
        "--print",
        action="store_true",
        dest="print_report",
        help="print the whole report (by default: the verdict, the steps and the report's path)",
    )
    p.add_argument(
        "--report",
        metavar="PATH",
        help="write the report here (default: <state dir>/reports/<name>-<UTC time>.md)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=CheckSettings.retries,
        metavar="N",
        help=f"probes of the Retry step (default {CheckSettings.retries})",
    )
    p.add_argument(
        "--backoff",
        type=float,
        default=CheckSettings.backoff,
        metavar="SECONDS",
        help=f"first pause between retries, doubling (default {CheckSettings.backoff:g})",
    )
    p.add_argument(
        "--history",
        metavar="PATH",
        help="read the endpoint's recent probes from this gatewatch history database "
        "(matched by --name)",
    )
    return p


def endpoint_from_args(args: argparse.Namespace) -> Endpoint:
    """The endpoint the probe options describe; ValueError with a message for bad ones."""
    headers: list[tuple[str, str]] = []
    for raw in args.header:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header needs NAME:VALUE, got {raw!r}")
        headers.append((name.strip(), value.strip()))
    expect: list[int | str] = []
    for raw in args.expect_status:
        text = raw.strip().lower()
        if text.isdigit():
            expect.append(int(text))
        elif len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
            expect.append(text)
        else:
            raise ValueError(f"--expect-status takes 200 or 2xx, got {raw!r}")
    timeout = duration_option("--timeout", str(args.timeout))
    from gatewatch.probe.dns import parse_resolver

    for spec in args.resolver:
        try:
            parse_resolver(spec)
        except ValueError as exc:
            raise ValueError(
                f"--resolver takes an IP address with an optional port, got {spec!r}"
            ) from exc
    from gatewatch.watchlist.fields import FieldError, parse_field

    # The watchlist's rules, so a URL the command line takes loads from a file too.
    for option, key, value in (
        ("URL", "url", args.url),
        ("--origin", "origin", args.origin),
        ("--proxy", "proxy", args.proxy),
    ):
        if value is not None:
            try:
                parse_field(key, value)
            except FieldError as exc:
                raise ValueError(f"{option}: {exc.message}") from None
    import httpx

    try:
        host = httpx.URL(args.url).host
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"invalid URL {args.url!r}: {exc}") from exc
    return Endpoint(
        name=args.name or host or args.url,
        url=args.url,
        timeout=timeout,
        origin=args.origin,
        proxy=args.proxy,
        resolvers=tuple(args.resolver),
        insecure=args.insecure,
        ca_bundle=args.ca_bundle,
        headers=tuple(headers),
        method=args.method.upper(),
        expect_status=tuple(expect),
        expect_body=args.expect_body,
        all_addresses=args.all_addresses,
        http_version=getattr(args, "http_version", None) or "auto",
    )


def _read_past(path: str | None, name: str, now: datetime) -> Past:
    from gatewatch.checklist.past import Past, from_history

    if not path:
        return Past()
    if not Path(path).is_file():
        raise ValueError(f"--history: {path}: no such file")
    from gatewatch.monitor import History

    # The store prunes by its clock when it opens: it must agree with ours about "now".
    with History(path, clock=now.timestamp) as history:
        return from_history(history, name, now=now)


async def _diagnose(
    endpoint: Endpoint,
    past: Past,
    settings: CheckSettings,
    environ: Mapping[str, str],
    clock: Callable[[], datetime],
) -> Diagnosis:
    from gatewatch.checklist.runner import diagnose_endpoint
    from gatewatch.probe import Prober

    prober = Prober(environ=environ)
    try:
        await prober.warm_up()
        return await diagnose_endpoint(
            endpoint, prober=prober, past=past, settings=settings, clock=clock
        )
    finally:
        await prober.aclose()


def run_diagnose_command(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Run ``gatewatch diagnose``; returns the exit status (0 healthy, 1 not, 2 usage).

    ``clock`` is "now" for reading history and stamping the report (tests inject it).
    """
    from gatewatch.checklist.context import utc_now
    from gatewatch.probe import ProbeSetupError

    clock = clock or utc_now
    out = out or sys.stdout
    err = err or sys.stderr
    env = os.environ if environ is None else environ
    try:
        if args.retries < 1:
            raise ValueError("--retries must be at least 1")
        if args.backoff < 0:
            raise ValueError("--backoff must not be negative")
        endpoint = endpoint_from_args(args)
        past = _read_past(args.history, endpoint.name, clock())
        settings = CheckSettings(retries=args.retries, backoff=args.backoff)
        diagnosis = asyncio.run(_diagnose(endpoint, past, settings, env, clock))
    except (ValueError, ProbeSetupError) as exc:
        err.write(f"gatewatch: {visible(str(exc), keep_newlines=True)}\n")
        return EXIT_USAGE
    return _emit(args, endpoint, diagnosis, env, out, err)


def _emit(
    args: argparse.Namespace,
    endpoint: Endpoint,
    diagnosis: Diagnosis,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> int:
    """Write the report file, print the report (or the JSON), copy it when on a terminal."""
    from gatewatch.checklist.export import osc52, report_path, write_report
    from gatewatch.checklist.redact import Redactor
    from gatewatch.checklist.report import diagnosis_json, render_report

    redactor = Redactor.for_endpoint(endpoint, env)
    report = render_report(
        endpoint,
        result=diagnosis.result,
        past=diagnosis.past,
        steps=diagnosis.steps,
        results=diagnosis.results,
        progress=None,
        redactor=redactor,
        generated_at=diagnosis.generated_at,
    )
    target = (
        Path(args.report) if args.report else report_path(endpoint.name, diagnosis.generated_at)
    )
    status = EXIT_OK if diagnosis.ok else EXIT_UNHEALTHY
    written: str | None = None
    try:
        written = str(write_report(report, target))
    except OSError as exc:
        err.write(f"gatewatch: cannot write the report to {target}: {exc.strerror or exc}\n")
        status = EXIT_USAGE
    if args.json:
        payload = diagnosis_json(
            endpoint,
            result=diagnosis.result,
            steps=diagnosis.steps,
            results=diagnosis.results,
            report_path=written,
            redactor=redactor,
            generated_at=diagnosis.generated_at,
        )
        out.write(dumps(payload, indent=2) + "\n")
    elif args.print_report:
        out.write(report)
    else:
        out.write(summary_text(diagnosis, written) + "\n")
    if written and (args.json or args.print_report):
        err.write(f"report written to {visible(written)}\n")
    if out.isatty():
        out.write(osc52(report, tmux="TMUX" in env))
        out.flush()
        err.write("report copied to the clipboard (OSC 52)\n")
    return status


def summary_text(diagnosis: Diagnosis, report: str | None) -> str:
    """What ``diagnose`` prints by default: the verdict, one line per step, the report's
    path. The report itself (some 200 lines) is in the file, and on stdout with --print."""
    from gatewatch.checklist.report import OUTCOME_WORDS

    result = diagnosis.result
    verdict = result.verdict
    name = visible(result.name)
    if verdict is None or verdict.healthy:
        head = f"{name}: healthy" + (f" — {one_line(verdict.summary)}" if verdict else "")
    else:
        head = f"{name}: {verdict.cause}/{verdict.kind or '-'} — {one_line(verdict.summary)}"
    lines = [head, ""]
    width = max(len(step.title) for step in diagnosis.steps) if diagnosis.steps else 0
    for i, step in enumerate(diagnosis.steps, 1):
        found = diagnosis.results.get(step.id)
        word = OUTCOME_WORDS[found.outcome] if found else "not run"
        summary = one_line(found.summary, 120) if found else ""
        lines.append(f"{i}. {step.title:<{width}}  {word:<12}  {summary}".rstrip())
    lines += ["", f"report: {visible(report)}" if report else "report: not written"]
    return "\n".join(lines)


def cmd_diagnose(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return run_diagnose_command(args, out, err)
