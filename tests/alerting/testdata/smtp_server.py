#!/usr/bin/python3
"""A real SMTP server for tests/alerting/delivery_test.cc, on loopback: aiosmtpd (Debian's
python3-aiosmtpd) with STARTTLS required and AUTH (PLAIN, LOGIN) required over TLS.

Each accepted message N (0, 1, ...) is written to --out as
  N.eml       the message as received (after the dot-transparency is undone)
  N.envelope  MAIL FROM, then each RCPT TO, one a line
  N.session   "tls=<cipher or none>", "auth=<login or none>", "helo=<EHLO name>"
  N.headers   each header, "Name: value", the value decoded (RFC 2047) by Python's email package
  N.text      the text/plain part, decoded; N.html the text/html part, decoded
  N.done      written last, empty: the test waits for it.
Prints "smtp server listening on 127.0.0.1:<port>" when it accepts connections; runs until killed.
"""
import argparse
import email
import email.policy
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    def write(self, name, data):
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(os.path.join(self.out, name), mode) as f:
            f.write(data)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = self.count
            self.count += 1
        raw = envelope.original_content or envelope.content
        self.write(f"{n}.eml", raw)
        self.write(f"{n}.envelope", "\n".join([envelope.mail_from] + envelope.rcpt_tos) + "\n")
        tls = session.ssl.get("cipher", ("tls",))[0] if session.ssl else "none"
        login = "none"
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        self.write(f"{n}.session", f"tls={tls}\nauth={login}\nhelo={session.host_name}\n")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.write(f"{n}.headers", "".join(f"{k}: {v}\n" for k, v in msg.items()))
        for kind in ("plain", "html"):
            part = msg.get_body(preferencelist=(kind,))
            if part is not None and part.get_content_subtype() == kind:
                self.write(f"{n}.{'text' if kind == 'plain' else 'html'}", part.get_content())
        self.write(f"{n}.done", "")
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == args.user.encode()
              and auth_data.password == args.password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    controller = Controller(
        Recorder(args.out), hostname="127.0.0.1", port=args.port,
        tls_context=context, require_starttls=True,
        authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller.start()
    print(f"smtp server listening on 127.0.0.1:{args.port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
