"""A throw-away HTTPS server on 127.0.0.1 with a freshly generated self-signed CA, to test
TLS verification, ``caBundle`` and client certificates (mutual TLS) for real (no mocks below
the socket)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class TlsServer:
    url: str
    ca_pem: Path
    ca_key: ec.EllipticCurvePrivateKey
    directory: Path

    def client_certificate(
        self, name: str = "sync-bot", password: str | None = None, *, signed: bool = True
    ) -> tuple[Path, Path]:
        """A client certificate and its key (encrypted with ``password``), signed by this
        server's CA (or self-signed, which a server requiring client certificates refuses)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        ca = x509.load_pem_x509_certificate(self.ca_pem.read_bytes())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.subject if signed else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .sign(self.ca_key if signed else key, hashes.SHA256())
        )
        cert_path = self.directory / f"{name}.crt"
        key_path = self.directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )
        return cert_path, key_path


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ca.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body: dict[str, Any]
        if self.path.startswith("/rest/api/2/serverInfo"):
            status, body = (
                200,
                {"version": "9.12.15", "versionNumbers": [9, 12, 15], "deploymentType": "Server"},
            )
        else:
            status, body = (
                401,
                {
                    "message": "Client must be authenticated to access this resource.",
                    "status-code": 401,
                },
            )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def tls_server(directory: Path, *, require_client_certificate: bool = False) -> Iterator[TlsServer]:
    """``require_client_certificate``: mutual TLS, accepting certificates signed by the
    server's own CA (see ``TlsServer.client_certificate``)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = _self_signed(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if require_client_certificate:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=cert)
        # TLS 1.3 refuses a missing certificate after the client's handshake is done, and the
        # client sees the alert or a reset, whichever comes first; TLS 1.2 refuses it inside
        # the handshake, so the test can check the message.
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ca_key = serialization.load_pem_private_key(key.read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        yield TlsServer(
            url=f"https://127.0.0.1:{server.server_address[1]}",
            ca_pem=cert,
            ca_key=ca_key,
            directory=directory,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
