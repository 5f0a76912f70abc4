"""`keyhouse dev`'s SMTP catcher: a real SMTP server (aiosmtpd) that keeps each message as a file.

The dev server starts it and points the workers at it (SMTP_HOST, SMTP_PORT);
the web process shows the files at /dev/mail (DEV_MAIL_DIR). Never used in production.
"""

import email
import email.policy
import os
import socket
import time

KEEP = 200  # newest messages shown


class _Handler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        self.count += 1
        name = f"{time.time_ns()}-{self.count}.eml"
        with open(os.path.join(self.folder, name + ".part"), "wb") as handle:
            handle.write(envelope.original_content)
        os.replace(os.path.join(self.folder, name + ".part"), os.path.join(self.folder, name))
        return "250 OK"


def start_catcher(folder, host="127.0.0.1"):
    """Start the catcher on a free port of `host`; returns (controller, port). `controller.stop()` ends it."""
    from aiosmtpd.controller import Controller

    os.makedirs(folder, exist_ok=True)
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    controller = Controller(_Handler(folder), hostname=host, port=port)
    controller.start()
    return controller, port


def caught(folder):
    """The caught messages, newest first: [(file name, email.message.EmailMessage)]."""
    if not folder or not os.path.isdir(folder):
        return []
    names = sorted((n for n in os.listdir(folder) if n.endswith(".eml")), reverse=True)[:KEEP]
    messages = []
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            messages.append((name, email.message_from_binary_file(handle, policy=email.policy.default)))
    return messages
