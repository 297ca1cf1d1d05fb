#!/usr/bin/python3
"""A real SMTP server for the mail tests (aiosmtpd): STARTTLS on the given
certificate, required before AUTH PLAIN/LOGIN (TEST_SMTP_USER and
TEST_SMTP_PASSWORD from the environment), every accepted message written
to DIR as one file (NNNN.eml, the envelope in a first line "X-Envelope:
FROM -> TO,TO"). A recipient whose local part starts with "refused" is
refused with 550, as a server refuses an unknown mailbox.

    smtpd.py PORT CERT KEY DIR
"""
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
user = os.environ["TEST_SMTP_USER"].encode()
password = os.environ["TEST_SMTP_PASSWORD"].encode()


class Handler:
    def __init__(self):
        self.n = len(os.listdir(out))

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.split("@")[0].startswith("refused"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        tmp = os.path.join(out, ".%04d.tmp" % self.n)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope: %s -> %s\r\n" % (
                envelope.mail_from.encode(),
                ",".join(envelope.rcpt_tos).encode()))
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(out, "%04d.eml" % self.n))
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, data):
    ok = data.login == user and data.password == password
    return AuthResult(success=ok)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname="127.0.0.1", port=port,
                        tls_context=tls, require_starttls=True,
                        authenticator=authenticate, auth_required=True,
                        auth_require_tls=True, decode_data=False,
                        ready_timeout=10)
# The server's thread inherits the mask: the signal waits for sigwait.
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT])
controller.start()
print("ready", flush=True)
try:
    signal.sigwait([signal.SIGTERM, signal.SIGINT])
finally:
    controller.stop()
