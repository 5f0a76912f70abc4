"""Real servers the e-mail and webhook tests talk to: an HTTP receiver and an SMTP server (aiosmtpd)."""

import contextlib
import http.server
import socket
import threading
from email import message_from_bytes, policy


class HttpReceiver:
    """An HTTP server on 127.0.0.1 that records each POST; `answers` are the statuses it gives, in turn."""

    def __init__(self):
        self.requests = []
        self.answers = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/keyhouse"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@contextlib.contextmanager
def smtp_server(tls_context=None):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; yields (port, list of received email.message objects).

    With `tls_context` it offers STARTTLS and requires it."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            received.append({"rcpt": list(envelope.rcpt_tos), "message": message})
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd needs a port number to check that it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tls = {"tls_context": tls_context, "require_starttls": True} if tls_context else {}
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
