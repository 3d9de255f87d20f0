"""What OpenWhisk hands a web action, and what it expects back.

A web action's `main(args)` gets the action's parameters plus:

* `__ow_method` (lower case), `__ow_headers` (names lower case), `__ow_path`
  (the URL path after the action name);
* for a raw-http action, `__ow_body` (the request body) and `__ow_query`;
* for an ordinary web action, the fields of a JSON-object body merged into
  `args`, or `__ow_body` when the body is anything else (a JSON array as a
  JSON value, text as a string).

A string `__ow_body` is base64 when the request's content type is binary *or
application/json* (the controller keeps that legacy rule), the plain text
otherwise (text/*, form data, XML, JavaScript).

`main` returns `{statusCode, headers, body}`: a dict or list body is sent as
JSON; a string body as the `Content-Type` header says, base64-decoded by the
controller when that type is binary.

Parameters deployed as *init* parameters (how the operator deploys the admin
inputs) are not in `args` at all: the runtime exports them to the action
process as environment variables. `setting` reads both.
"""

import base64
import binascii
import functools
import json
import os
import sys

# Bodies larger than these are refused with 413 before any parsing.
SMALL_BODY = 64 * 1024  # login, secrets: a few short fields
COMMAND_BODY = 1024 * 1024  # one Redis/SQL/Mongo command or storage request
UPLOAD_BODY = 64 * 1024 * 1024  # a file (the controller's payload limit is lower by default)

# Media types whose body OpenWhisk passes as plain text (Pekko's non-binary
# types), besides text/* and */*+xml. Everything else arrives base64-encoded.
_PLAIN_APPLICATION_TYPES = frozenset(
    {
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
    }
)


class HttpError(Exception):
    """A request the action refuses: answered with this status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def log(message):
    """One line in the activation log (stderr). Never pass secrets here."""
    print(f"nuv: {message}", file=sys.stderr, flush=True)


def json_response(body, status=200):
    """A JSON answer; `body` must be a dict or a list (the controller sends other JSON as text)."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def text_response(text, status=200):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body": text,
    }


def binary_response(data, content_type="application/octet-stream"):
    """Raw bytes: base64 in the result, decoded by the controller for a binary content type."""
    return {
        "statusCode": 200,
        "headers": {"Content-Type": content_type},
        "body": base64.b64encode(data).decode("ascii"),
    }


def error_response(status, message):
    return text_response(message, status)


def web_action(handler):
    """Wraps an action's handler: an HttpError becomes its response, any
    other exception a 500 whose message names the error type. The caller
    never sees a traceback; the activation log gets one line."""

    @functools.wraps(handler)
    def main(args):
        try:
            if not isinstance(args, dict):
                raise HttpError(400, "expected the web action arguments as a JSON object")
            return handler(args)
        except HttpError as e:
            return error_response(e.status, e.message)
        except Exception as e:  # noqa: BLE001 - the last line of defence of a web action
            log(f"internal error: {type(e).__name__}: {str(e)[:300]}")
            return error_response(500, f"internal error ({type(e).__name__}); see the activation log")

    return main


def headers(args):
    raw = args.get("__ow_headers")
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in raw.items()}


def method(args):
    return str(args.get("__ow_method", "")).lower()


def require_method(args, *allowed):
    if method(args) not in allowed:
        names = ", ".join(m.upper() for m in allowed)
        raise HttpError(405, f"method {method(args).upper() or '?'} not allowed: use {names}")


def setting(args, name, default=None):
    """An admin input of the action: an init parameter (an environment
    variable of the action process) or, when deployed as an ordinary
    parameter, an argument. The environment wins, so a request can never
    replace an init parameter."""
    value = os.environ.get(name)
    if value in (None, ""):
        value = args.get(name)
    if value in (None, ""):
        if default is None:
            raise HttpError(500, f"the action is not configured: input {name} is missing")
        return default
    return str(value)


def media_type(args):
    return headers(args).get("content-type", "").split(";")[0].strip().lower()


def _arrives_as_base64(media):
    if media.startswith("text/") or media.endswith("+xml"):
        return False
    return media not in _PLAIN_APPLICATION_TYPES


def body_bytes(args, limit):
    """The request body as bytes, decoded the way the controller encoded it."""
    body = args.get("__ow_body")
    if body is None or body == "":
        return b""
    if not isinstance(body, str):
        # An ordinary web action gets a non-object JSON body as a JSON value.
        data = json.dumps(body).encode("utf-8")
    elif _arrives_as_base64(media_type(args)):
        if len(body) > limit // 3 * 4 + 4:
            raise HttpError(413, f"request body too large: at most {limit} bytes")
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise HttpError(
                400, f"request body is not the base64 OpenWhisk sends for {media_type(args) or 'binary'} content"
            ) from None
    else:
        data = body.encode("utf-8")
    if len(data) > limit:
        raise HttpError(413, f"request body too large: {len(data)} bytes, at most {limit}")
    return data


def json_body(args, limit, loads=json.loads):
    """The body of a raw-http request as a JSON object."""
    data = body_bytes(args, limit)
    if not data.strip():
        raise HttpError(400, "request body is empty: expected a JSON object")
    try:
        value = loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise HttpError(400, "request body must be a JSON object")
    return value


def request_fields(args, limit):
    """The fields of an ordinary web action's JSON-object body.

    The controller merges them into `args`; a body that is not a JSON object
    arrives as `__ow_body` and is parsed here, so a client that sends JSON as
    text/plain is understood and anything else gets a 400 with a reason."""
    if "__ow_body" in args:
        return json_body(args, limit)
    size = sum(len(v) for k, v in args.items() if isinstance(v, str) and not k.startswith("__ow_"))
    if size > limit:
        raise HttpError(413, f"request too large: at most {limit} bytes")
    return args


def string_field(fields, name, max_length, required=True):
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise HttpError(400, f"missing field {name!r}")
        return None
    if not isinstance(value, str):
        raise HttpError(400, f"field {name!r} must be a string")
    if len(value) > max_length:
        raise HttpError(413, f"field {name!r} is too long: at most {max_length} characters")
    return value


def path_segments(args):
    """`__ow_path` split on '/', without empty segments."""
    return [s for s in str(args.get("__ow_path", "")).split("/") if s]
