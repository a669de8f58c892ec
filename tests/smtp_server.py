"""A real SMTP server on a loopback port, and the mailers an app would use to reach it.

    with SmtpServer() as server:
        send = smtp_send(server)              # what an app passes to EmailCodeStrategy
        send("alice@example.com", "123456", request)
        server.code_for("alice@example.com")  # "123456", read back from the received mail

`SmtpServer` runs aiosmtpd's `Controller` (its own thread and event loop) on 127.0.0.1, on a
port the OS picked: the socket is bound before the server starts, so there is no race for it.
`smtp_send` delivers with `smtplib`; `async_smtp_send` does the same from a worker thread
(`asyncio.to_thread`), the way an async app keeps a blocking client off its event loop.
No pytest in here.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import socket
import threading
from collections.abc import Awaitable, Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["SENDER", "SmtpServer", "async_smtp_send", "smtp_send"]

SENDER = "login@example.com"
_CODE = re.compile(r"\b(\d{6,10})\b")


class _Collect:
    """The aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class _BoundController(Controller):
    """A Controller serving a socket bound beforehand (port 0: the OS picks a free one)."""

    def __init__(self, handler: Any) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self.sock.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self.sock)


class SmtpServer:
    """An SMTP server on `host`:`port` that keeps what it receives in `messages`."""

    def __init__(self) -> None:
        self._handler = _Collect()
        self._controller = _BoundController(self._handler)
        self.host = "127.0.0.1"
        self.port: int = self._controller.port

    @property
    def messages(self) -> list[EmailMessage]:
        with self._handler.lock:
            return list(self._handler.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for `address`, oldest first."""
        return [m for m in self.messages if m["To"] == address]

    def code_for(self, address: str) -> str:
        """The code in the latest message to `address`."""
        received = self.to(address)
        assert received, f"no message was sent to {address}"
        body = received[-1].get_body(("plain",))
        assert body is not None
        found = _CODE.search(body.get_content())
        assert found is not None, "no code in the message"
        return found.group(1)

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.messages.clear()

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _message(address: str, code: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = address
    message["Subject"] = "Your login code"
    message.set_content(f"Your login code is {code}. It expires in 10 minutes.")
    return message


def smtp_send(server: SmtpServer) -> Callable[[str, str, Any], None]:
    """A sync mailer delivering to `server` with `smtplib`."""

    def send(address: str, code: str, request: Any) -> None:
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            client.send_message(_message(address, code))

    return send


def async_smtp_send(server: SmtpServer) -> Callable[[str, str, Any], Awaitable[None]]:
    """An async mailer: `smtp_send` run in a worker thread."""
    deliver = smtp_send(server)

    async def send(address: str, code: str, request: Any) -> None:
        await asyncio.to_thread(deliver, address, code, request)

    return send
