"""SMTP with STARTTLS and login, and SMTP over implicit TLS, against aiosmtpd on loopback
with a certificate made for the test (openssl); wrong passwords and plain connections to
a server that requires TLS fail with a set-up failure, never a bounce."""

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pipewise.db.base import utcnow
from pipewise.mail.transport import OutgoingMail, PermanentFailure, SetupFailure, SmtpConfig, SmtpTransport, build_mime
from tests.sequences.support import RecordingHandler, free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def _authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data.login in ("rep", b"rep") and auth_data.password in ("s3cret", b"s3cret")
    if ok:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), tls_context=_server_context(certificate), require_starttls=True,
        authenticator=_authenticate, auth_require_tls=True,
    )
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def implicit_tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), ssl_context=_server_context(certificate), authenticator=_authenticate,
        # aiosmtpd does not count a socket wrapped in TLS from the start as "TLS" for AUTH.
        auth_require_tls=False,
    )
    controller.start()
    yield controller, handler
    controller.stop()


def _send(config: SmtpConfig, message_id: str = "<tls-1@example.com>") -> None:
    mail = OutgoingMail(
        message_id=message_id, from_name="Rep", from_address="rep@example.com", to_name="Pat", to_address="pat@example.org",
        subject="Over TLS", html="<p>Hello</p>", text="Hello", sent_at=utcnow(),
    )
    transport = SmtpTransport(config)
    try:
        transport.stage(mail.from_address, mail.to_address, build_mime(mail), name=mail.message_id)
        transport.commit()
    finally:
        transport.close()


def _config(controller: Controller, certificate: tuple[Path, Path], **kw: object) -> SmtpConfig:
    values = {"host": "127.0.0.1", "port": controller.port, "username": "rep", "password": "s3cret", "ca_file": str(certificate[0]), **kw}
    return SmtpConfig(**values)  # type: ignore[arg-type]


class TestStartTls:
    def test_message_arrives_with_login_and_a_trusted_certificate(self, starttls_server, certificate):
        controller, handler = starttls_server
        _send(_config(controller, certificate, security="starttls"))
        assert list(handler.message_ids()) == ["<tls-1@example.com>"]

    def test_verify_off_accepts_a_self_signed_certificate(self, starttls_server, certificate):
        controller, handler = starttls_server
        _send(_config(controller, certificate, security="starttls", ca_file=None, verify=False))
        assert handler.message_ids()["<tls-1@example.com>"] == 1

    def test_an_untrusted_certificate_is_a_setup_failure_that_says_what_to_set(self, starttls_server, certificate):
        controller, handler = starttls_server
        with pytest.raises(SetupFailure, match="not trusted.*PIPEWISE_SMTP_CA_FILE"):
            _send(_config(controller, certificate, security="starttls", ca_file=None))
        assert not handler.messages

    def test_a_wrong_password_is_a_setup_failure_not_a_bounce(self, starttls_server, certificate):
        controller, handler = starttls_server
        with pytest.raises(SetupFailure, match="refused the login of 'rep': 535") as caught:
            _send(_config(controller, certificate, security="starttls", password="wrong"))
        assert not isinstance(caught.value, PermanentFailure)
        assert not handler.messages

    def test_a_plain_connection_to_a_server_that_requires_tls_is_refused_clearly(self, starttls_server, certificate):
        controller, handler = starttls_server
        with pytest.raises(SetupFailure, match="STARTTLS|TLS or a login"):
            _send(_config(controller, certificate, security="none", username=None, password=None))
        with pytest.raises(SetupFailure, match="security"):
            _send(_config(controller, certificate, security="none"))
        assert not handler.messages


class TestImplicitTls:
    def test_message_arrives_over_smtp_over_ssl_with_login(self, implicit_tls_server, certificate):
        controller, handler = implicit_tls_server
        _send(_config(controller, certificate, security="ssl"))
        assert list(handler.message_ids()) == ["<tls-1@example.com>"]

    def test_a_wrong_password_is_a_setup_failure(self, implicit_tls_server, certificate):
        controller, handler = implicit_tls_server
        with pytest.raises(SetupFailure, match="535"):
            _send(_config(controller, certificate, security="ssl", password="wrong"))
        assert not handler.messages

    def test_one_connection_carries_several_messages(self, implicit_tls_server, certificate):
        controller, handler = implicit_tls_server
        transport = SmtpTransport(_config(controller, certificate, security="ssl"))
        try:
            for n in range(3):
                mail = OutgoingMail(
                    message_id=f"<batch-{n}@example.com>", from_name="Rep", from_address="rep@example.com", to_name="Pat",
                    to_address=f"pat{n}@example.org", subject="Batch", html="<p>Hi</p>", text="Hi", sent_at=utcnow(),
                )
                transport.stage(mail.from_address, mail.to_address, build_mime(mail), name=mail.message_id)
                transport.commit()
            first = transport._smtp  # noqa: SLF001 - the connection must be the same one throughout
        finally:
            transport.close()
        assert first is not None
        assert sorted(handler.message_ids()) == [f"<batch-{n}@example.com>" for n in range(3)]
