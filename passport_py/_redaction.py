"""What a remote party sent, made safe for logs and error messages: secrets redacted, one
bounded printable line.

An identity provider's refused or unusable answer can still carry live tokens (a refresh token
beside an error, an echo of the request, a signed userinfo JWT), and error messages end up in
logs. Every text taken from a provider's answer goes through `preview` (a whole body) or
`provider_text` (one field) before it reaches a message:

- a JSON body is decoded first (so `access\\u005ftoken` is `access_token`) and redacted by
  structure: the value of any key that `names_secret` (`access_token`, `accessToken`,
  `ACCESS-TOKEN`, `client_secret`, `code`, ... in any spelling), at any depth, becomes
  "[redacted]" unless it is a number, a boolean or null;
- every string, and a body that is not JSON (HTML, text, a form), has its HTML, percent and
  JSON escapes decoded, then `name=value` / `name: value` pairs naming a secret,
  `Bearer`/`Basic`/`DPoP` credentials and JWTs redacted;
- the result is cut to a short preview; text past a window is dropped unread.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import unquote

__all__ = [
    "MAX_TEXT",
    "PREVIEW",
    "REDACTED",
    "names_secret",
    "preview",
    "printable",
    "provider_text",
    "redacted",
]

#: A provider's `error_description` (or other field) is cut to this for messages.
MAX_TEXT = 300
#: Anything else a provider sent is shown as at most this many characters.
PREVIEW = 160
#: Text read past this is dropped before redaction: it could not reach the preview anyway,
#: and the patterns stay cheap on a megabyte of hostile body.
_WINDOW = 2048
#: Deeper JSON than this is shown as "…".
_MAX_DEPTH = 16

REDACTED = "[redacted]"

#: A name whose value is a secret, once lower-cased with separators removed.
_SECRET_NAME = re.compile(
    r"token|secret|passw(?:or)?d|assertion|verifier|apikey|credential|cookie"
    r"|^(?:code|authcode|authorizationcode|authorization)$"
)
#: In free text: such a name, then `=` or `:` (quoted or not, maybe escaped), then the value.
_SECRET_PAIR = re.compile(
    r"(?i)(?P<name>(?:token|secret|passw(?:or)?d|assertion|verifier|api[\W_]?key|credential"
    r"|cookie)[\w.-]*+|\b(?:auth(?:orization)?[_-]?)?code)"
    r"(?P<sep>\\?[\"']?\s*[:=]\s*\\?[\"']?)"
    r"(?!\[redacted\])(?P<value>(?<=\")[^\"]+|(?<=')[^']+|[^\s\"'&,;<>(){}\[\]\\]+)"
)
#: An HTTP credential: `Bearer abc`, `Basic dXNlcjpwdw==`, `DPoP ...`.
_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic|dpop)(\s+)(?!\[redacted\])[\w.~+/=-]+")
#: A JWT (JWS or JWE compact form), or the start of one cut short: a base64url JSON header
#: (`{"` encodes as "ey", `{` then white space as "ew") followed by a dot.
_JWT = re.compile(r"\be[yw][\w-]{14,}\.[\w.-]*")
#: JSON string escapes, decoded before the patterns run.
_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|([\"\\/]))")
_PARTIAL_WORD = re.compile(r"[\w.~+/=%\\-]*$")


def printable(text: object, limit: int = MAX_TEXT) -> str:
    """`text` as one bounded, printable line (safe in logs and flash messages)."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return "".join(c if c.isprintable() else " " for c in value)


def redacted(text: str) -> str:
    """`text` with its escapes decoded and every secret it names or holds replaced: pairs
    such as `access_token=...` or `"refreshToken": "..."`, `Bearer ...` and JWTs."""
    text = _JSON_ESCAPE.sub(_unescape, unquote(html.unescape(_window(text))))
    text = _JWT.sub(REDACTED, text)
    text = _CREDENTIAL.sub(rf"\1\2{REDACTED}", text)
    return _SECRET_PAIR.sub(_hide_pair, text)


def provider_text(value: object, limit: int = MAX_TEXT) -> str:
    """One field a provider sent (`error`, `error_description`, a claim) for a message."""
    return printable(redacted(str(value)), limit)


def preview(body: str, *, omit: tuple[str, ...] = (), limit: int = PREVIEW) -> str:
    """A short, redacted, printable preview of a provider's answer; "" for an empty one.

    A JSON object loses the keys in `omit` first (those a message already shows).
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return printable(redacted(body), limit) if body.strip() else ""
    if isinstance(document, dict) and omit:
        document = {k: v for k, v in document.items() if k not in omit}
        if not document:
            return ""
    shown = json.dumps(_redact_json(document, 0), ensure_ascii=False)
    return printable(shown, limit)


def _redact_json(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return "…"
    if isinstance(value, str):
        return redacted(value)
    if isinstance(value, list):
        # A longer list could not reach the preview: two characters an item at least.
        return [_redact_json(item, depth + 1) for item in value[:PREVIEW]]
    if isinstance(value, dict):
        shown: dict[str, Any] = {}
        for key, item in list(value.items())[:PREVIEW]:
            if names_secret(key) and not _harmless(item):
                shown[redacted(key)] = REDACTED
            else:
                shown[redacted(key)] = _redact_json(item, depth + 1)
        return shown
    return value


def names_secret(name: str) -> bool:
    """Whether `name` (a JSON key, a header) names a token or secret, in any spelling:
    `access_token`, `accessToken`, `ACCESS-TOKEN`, `client_secret`, `Set-Cookie`, `code`..."""
    squashed = re.sub(r"[\W_]+", "", name.lower())
    return squashed != "tokentype" and _SECRET_NAME.search(squashed) is not None


def _harmless(value: Any) -> bool:
    # `"code": 401` in an error object is a status, not an authorization code.
    return value is None or isinstance(value, bool | int | float)


def _hide_pair(match: re.Match[str]) -> str:
    name, sep = match["name"], match["sep"]
    if name.lower() == "code" and "=" not in sep and '"' not in sep:
        return match[0]  # "error code: invalid_grant", "status code: 400": prose, not a pair
    return f"{name}{sep}{REDACTED}"


def _unescape(match: re.Match[str]) -> str:
    code, char = match.groups()
    return chr(int(code, 16)) if code else char


def _window(text: str) -> str:
    """`text` cut to `_WINDOW` characters, without the word the cut went through (part of
    a token must not survive only because the patterns no longer recognise it)."""
    if len(text) <= _WINDOW:
        return text
    return _PARTIAL_WORD.sub("", text[:_WINDOW])
