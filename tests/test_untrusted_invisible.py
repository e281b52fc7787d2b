"""Invisible characters from a real server never reach the terminal or JSON raw.

A loopback TLS server presents a certificate whose subject and issuer's O carry U+202E
(right-to-left override), and answers with U+009B (the C1 CSI) in its reason phrase and
Server header and both in its body. ``probe`` (human and ``--json``) and ``diagnose``
(report and ``--json``) must show every one of them spelled out (``\\u202e``, ``\\x9b``),
while ordinary non-ASCII text (``é``) stays readable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gatewatch.cli import main

RLO, CSI = "\u202e", "\x9b"
#: What must never appear raw in any output.
RAW = (RLO, CSI)
SUBJECT = f"evil{RLO}moc.knab"
ORG = f"Bank{RLO} Inc é"
REASON = f"Bad {CSI}31m Gateway".encode("latin-1")
SERVER = b"nginx\x9b2J"


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
        ]
    )
    # An issuer without a CN is shown whole (RFC 4514): its O reaches the output.
    issuer = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "evil.crt", directory / "evil.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Server:
    port: int

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/health"


@pytest.fixture(scope="module")
def evil_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cert_file, key_file = _certificate(tmp_path_factory.mktemp("evil"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    body = f"<h1>502 Bad Gateway</h1>{RLO}{CSI}6n café".encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 502 " + REASON + b"\r\nServer: " + SERVER + b"\r\n"
                b"Content-Type: text/html\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    async def serve() -> asyncio.Server:
        server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
        port.append(server.sockets[0].getsockname()[1])
        return server

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(serve())
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the hostile server did not start"
    yield Server(port[0])
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _no_raw(text: str) -> None:
    for char in RAW:
        assert char not in text, f"raw U+{ord(char):04X} in output:\n{text[:2000]}"


def test_probe_json_escapes_them_and_keeps_accents(evil_server: Server) -> None:
    code, out, _ = _run("probe", evil_server.url, "--insecure", "--json")
    assert code == 1
    _no_raw(out)
    doc = json.loads(out)
    tls = next(h for h in doc["hops"] if h["name"] == "tls")["detail"]
    assert RLO in tls["subject"] and RLO in tls["issuer"]  # the data itself is intact
    upstream = next(h for h in doc["hops"] if h["name"] == "upstream")["detail"]
    assert CSI in upstream["reason"] and CSI in upstream["server"]
    assert "\\u202e" in out and "\\u009b" in out
    assert "é" in out  # normal non-ASCII stays readable


def test_probe_human_output_spells_them_out(evil_server: Server) -> None:
    code, out, _ = _run("probe", evil_server.url, "--insecure")
    assert code == 1
    _no_raw(out)
    assert "\\x9b31m" in out  # the reason phrase


def test_diagnose_report_and_json_spell_them_out(
    evil_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    report = tmp_path / "report.md"
    argv = ["diagnose", evil_server.url, "--insecure", "--retries", "1", "--backoff", "0"]
    code, out, err = _run(*argv, "--report", str(report))
    assert code == 1, err
    for text in (out, err, report.read_text(encoding="utf-8")):
        _no_raw(text)
    assert "\\u202e" in report.read_text(encoding="utf-8")
    code, out, err = _run(*argv, "--report", str(tmp_path / "again.md"), "--json")
    _no_raw(out)
    json.loads(out)
