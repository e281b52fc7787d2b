"""A server certificate with a non-ASCII byte in a SAN dNSName is a tls-hop finding, not a
usage error: `probe` and `diagnose` show its facts (the bad byte made visible), exit 0/1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gatewatch.lab.certs import server_context
from gatewatch.probe.rawcert import raw_sans, visible_bytes


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _elements(sequence: bytes) -> list[bytes]:
    """The TLVs inside one DER SEQUENCE (whole, tag and length included)."""

    def length_at(data: bytes, i: int) -> tuple[int, int]:
        first = data[i]
        if first < 0x80:
            return first, i + 1
        count = first & 0x7F
        return int.from_bytes(data[i + 1 : i + 1 + count], "big"), i + 1 + count

    length, start = length_at(sequence, 1)
    body, out, i = sequence[start : start + length], [], 0
    while i < len(body):
        size, content = length_at(body, i + 1)
        out.append(body[i : content + size])
        i = content + size
    return out


def hostile_certificate(ca: trustme.CA, folder: Path, bad: bytes) -> tuple[Path, Path]:
    """A leaf signed by ``ca`` whose second SAN dNSName holds ``bad`` bytes.

    cryptography refuses to write such a name, so a placeholder of the same length is
    written, patched in the signed part, and that part signed again with the CA's key.
    """
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    placeholder = b"Q" * len(bad) + b".lab.test"
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName(placeholder.decode()),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tbs, algorithm, _ = _elements(cert.public_bytes(serialization.Encoding.DER))
    assert tbs.count(placeholder) == 1
    tbs = tbs.replace(placeholder, bad + b".lab.test")
    signature = ca_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = _tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature))
    cert_file, key_file = folder / "hostile.pem", folder / "hostile.key"
    cert_file.write_text(ssl.DER_cert_to_PEM_cert(der))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError):  # what crashed `probe` before
        x509.load_der_x509_certificate(der).extensions  # noqa: B018
    return cert_file, key_file


def serve_tls(context: ssl.SSLContext) -> Iterator[int]:
    """A real loopback HTTPS server answering 200 "ok" to every request, until closed."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                tls = context.wrap_socket(conn, server_side=True)
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                tls.close()
            except OSError:
                pass

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield port
    finally:
        listener.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    folder = tmp_path_factory.mktemp("hostile")
    ca = trustme.CA()
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file, key_file = hostile_certificate(ca, folder, b"app\xe9")
    yield from ((port, ca_file) for port in serve_tls(server_context(cert_file, key_file)))


def gatewatch(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatewatch", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_probe_reports_the_hostile_certificate_on_the_tls_hop(hostile: tuple[int, Path]) -> None:
    port, ca_file = hostile
    done = gatewatch("probe", f"https://localhost:{port}/", "--ca-bundle", str(ca_file), "--json")
    assert done.returncode == 0, done.stderr  # it answered 200: a warning, not a failure
    result = json.loads(done.stdout)
    tls = result["hops"][2]
    assert tls["status"] == "warn" and tls["kind"] == "malformed_certificate"
    assert "app\\xe9.lab.test" in tls["error"]  # the byte, spelt out
    assert tls["detail"]["sans"] == ["localhost", "app\\xe9.lab.test", "127.0.0.1"]
    assert result["verdict"]["cause"] == "tls" and result["verdict"]["hop"] == "tls"
    assert "é" not in done.stdout and "\xe9" not in done.stdout


def test_human_probe_and_diagnose_show_it_and_exit_0(
    hostile: tuple[int, Path], tmp_path: Path
) -> None:
    port, ca_file = hostile
    url = f"https://localhost:{port}/"
    done = gatewatch("probe", url, "--ca-bundle", str(ca_file))
    assert done.returncode == 0, done.stderr
    assert "malformed certificate: SAN dNSName app\\xe9.lab.test" in done.stdout
    report = tmp_path / "report.md"
    done = gatewatch("diagnose", url, "--ca-bundle", str(ca_file), "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "app\\xe9.lab.test" in report.read_text()


def test_a_name_that_fails_verification_still_shows_its_facts(
    hostile: tuple[int, Path],
) -> None:
    port, _ = hostile  # no --ca-bundle: unknown CA, then the leaf is read unverified
    done = gatewatch("probe", f"https://localhost:{port}/", "--json")
    assert done.returncode == 1, done.stderr
    tls = json.loads(done.stdout)["hops"][2]
    assert tls["status"] == "fail" and tls["kind"] == "unknown_ca"
    assert "app\\xe9.lab.test" in tls["detail"]["sans"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(b"a\xe9", "a\\xe9"), (b"a\x1b[2J", "a\\x1b[2J"), (b"a\\b", "a\\x5cb"), (b"ok", "ok")],
)
def test_bytes_are_made_visible(raw: bytes, shown: str) -> None:
    assert visible_bytes(raw) == shown


def test_raw_sans_never_raises_on_garbage() -> None:
    for junk in (
        b"",
        b"\x30",
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x03\x30\x01\x00",
        os.urandom(64),
    ):
        names, problems = raw_sans(junk)
        assert names == [] and problems
