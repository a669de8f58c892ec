"""The demo's mailbox: the demo has no mail server, so the messages it would send (login codes)
are kept here, newest first, and shown on the "Mailbox" page."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

__all__ = ["Mailbox", "Message", "mailbox_body"]


@dataclass(frozen=True)
class Message:
    """One message the demo sent."""

    to: str
    subject: str
    body: str
    sent: datetime


class Mailbox:
    """The last `size` messages, newest first; safe to use from several threads."""

    def __init__(self, size: int = 50) -> None:
        self._messages: deque[Message] = deque(maxlen=size)
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        """Keep a message as if it had been mailed to `to`."""
        with self._lock:
            self._messages.appendleft(Message(to, subject, body, datetime.now(UTC)))

    def messages(self) -> list[Message]:
        """Every kept message, newest first."""
        with self._lock:
            return list(self._messages)


def mailbox_body(messages: list[Message]) -> str:
    """The Mailbox page: what the demo would have mailed, newest first."""
    intro = (
        '<div class="card"><p class="lead">What the demo would have emailed.</p>'
        "<p>The demo has no mail server, so the messages it sends, such as login codes, "
        "land here instead. Anyone using this demo can read them: a real app mails them.</p>"
        "</div>"
    )
    if not messages:
        return intro + '<div class="card"><p>No messages yet.</p></div>'
    cards = "".join(
        '<li class="card">'
        f"<h2>{escape(m.subject)}</h2>"
        f'<p class="muted">To {escape(m.to)}, '
        f'<time datetime="{m.sent.isoformat()}">{m.sent.strftime("%H:%M:%S UTC")}</time></p>'
        f"<pre>{escape(m.body)}</pre></li>"
        for m in messages
    )
    return f'{intro}<ul class="plain">{cards}</ul>'
