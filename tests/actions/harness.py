"""Runs a whisk-system action the way OpenWhisk's Python runtime does, and
builds the arguments / reads the results the way the controller does.

* `ActionContainer` is one warm container: the zip is unpacked into a fresh
  directory, `__main__.py` renamed `main__.py`, the launcher copied in as
  `exec__.py` (the runtime's `compile` step), and `python exec__.py` started
  with the init parameters as environment variables; calls go over its
  stdin / file descriptor 3 protocol (see launcher.py).
* `web_args` builds what the controller passes a web action for an HTTP
  request (WebActions.scala, `Context.toActionArgument`): `__ow_*` fields,
  JSON-object bodies merged for ordinary web actions, `__ow_body` base64 for
  binary and application/json content, plain text for text/*.
* `http_response` turns an action result into what the controller would send
  the CLI (status, content type, bytes), and fails on a result the
  controller would reject.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import zipfile
from pathlib import Path

LAUNCHER = Path(__file__).with_name("launcher.py")

# What each action's container took: filled by ActionContainer, printed by conftest.
FIGURES = {}


class ControllerRejects(Exception):
    """The request (or result) would be refused by the OpenWhisk controller itself."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status


class ActionContainer:
    def __init__(self, name, zip_path, init_env, python):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"nuv-{name}-"))
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(self.dir)
        main = self.dir / "__main__.py"
        if not main.is_file():
            raise AssertionError(f"{zip_path}: no __main__.py")
        main.rename(self.dir / "main__.py")
        shutil.copyfile(LAUNCHER, self.dir / "exec__.py")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONIOENCODING": "UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "__OW_WAIT_FOR_ACK": "1",
            **{k: str(v) for k, v in init_env.items()},
        }
        read_end, write_end = os.pipe()
        self._stderr = tempfile.TemporaryFile()
        started = time.perf_counter()
        # The results go to file descriptor 3, as in the runtime: the shell
        # duplicates the pipe there (dash cannot: fds above 9) and replaces itself with Python.
        self.process = subprocess.Popen(
            ["bash", "-c", 'exec "$0" exec__.py 3>&"$1"', python, str(write_end)],
            cwd=self.dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._stderr,
            stderr=self._stderr,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        self._results = os.fdopen(read_end, "rb")
        ack = self._read_line("the ack")
        if ack.get("ok") is not True:
            raise AssertionError(f"{name}: unexpected ack {ack}")
        self.figures = FIGURES.setdefault(name, {"calls": []})
        self.figures["cold_start"] = time.perf_counter() - started
        self.figures["import"] = ack.get("import_seconds")

    def _read_line(self, what):
        line = self._results.readline()
        if not line:
            self.process.wait(timeout=10)
            raise AssertionError(f"{self.name}: the launcher ended before {what}:\n{self.stderr()}")
        return json.loads(line)

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def run(self, args, label=None):
        """Calls `main(args)` once; returns the action's result."""
        request = {
            "value": args,
            "namespace": "whisk-system",
            "action_name": f"/whisk-system/nuv/{self.name}",
            "activation_id": "0" * 32,
            "transaction_id": "harness",
            "deadline": str(int(time.time() * 1000) + 60_000),
        }
        started = time.perf_counter()
        self.process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
        self.process.stdin.flush()
        result = self._read_line("a result")
        self.figures["calls"].append((label, time.perf_counter() - started))
        return result

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._results.close()
        self._stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# Content types whose body the controller passes as plain text (see nuvlib.web).
_PLAIN = ("application/x-www-form-urlencoded", "application/xml", "application/javascript")


def _is_json_family(media):
    return media == "application/json" or media.endswith("+json")


def _as_base64(media):
    return not (media.startswith("text/") or media.endswith("+xml") or media in _PLAIN)


def web_args(method="post", headers=None, body=None, content_type=None, path="", query="", raw=False):
    """The arguments the controller passes a web action for one HTTP request.

    `body` is bytes (or str, encoded as UTF-8); `content_type` its header."""
    lowered = {k.lower(): str(v) for k, v in (headers or {}).items()}
    if content_type is not None:
        lowered["content-type"] = content_type
    media = lowered.get("content-type", "").split(";")[0].strip().lower()
    if isinstance(body, str):
        body = body.encode("utf-8")
    args = {"__ow_method": method.lower(), "__ow_headers": lowered, "__ow_path": path}
    if raw:
        args["__ow_query"] = query
        if not body:
            args["__ow_body"] = ""
        elif _as_base64(media or "application/octet-stream"):
            args["__ow_body"] = base64.b64encode(body).decode("ascii")
        else:
            args["__ow_body"] = body.decode("utf-8")
        return args
    fields = dict(urllib.parse.parse_qsl(query))
    if body:
        if _is_json_family(media):
            try:
                value = json.loads(body)
            except ValueError:
                raise ControllerRejects(400, "The request content was malformed") from None
            if isinstance(value, dict):
                fields.update(value)
            else:
                fields["__ow_body"] = value
        elif media == "application/x-www-form-urlencoded":
            fields.update(urllib.parse.parse_qsl(body.decode("utf-8")))
        elif _as_base64(media or "application/octet-stream"):
            fields["__ow_body"] = base64.b64encode(body).decode("ascii")
        else:
            fields["__ow_body"] = body.decode("utf-8")
    reserved = [k for k in fields if k in ("__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_query")]
    if reserved:
        raise ControllerRejects(400, f"Request defines parameters that are not allowed: {reserved}")
    args.update(fields)
    return args


def json_request(value, headers=None, raw=False, method="post", path=""):
    return web_args(
        method=method,
        headers=headers,
        body=json.dumps(value).encode("utf-8"),
        content_type="application/json",
        raw=raw,
        path=path,
    )


_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class HttpResponse:
    def __init__(self, status, content_type, body):
        self.status = status
        self.content_type = content_type
        self.body = body

    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"HttpResponse({self.status}, {self.content_type}, {self.body[:300]!r})"


def http_response(result):
    """What the controller sends for a web action's result (resultAsHttp)."""
    if not isinstance(result, dict):
        raise ControllerRejects(400, f"the action result is not an object: {result!r}")
    if "error" in result and "statusCode" not in result:
        raise AssertionError(f"the action failed inside the runtime: {result['error']}")
    headers = result.get("headers", {})
    if not isinstance(headers, dict):
        raise ControllerRejects(400, "Invalid header")
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), None)
    status = result.get("statusCode", None)
    if status is not None and not isinstance(status, int):
        status = int(status)
    body = result.get("body")
    if isinstance(body, str) and body:
        media_header = content_type or "text/html"
        media = media_header.split(";")[0].strip().lower()
        if _is_json_family(media) and len(body) % 4 == 0 and _BASE64.match(body.strip()):
            raise AssertionError(f"a JSON body given as a base64-like string is decoded by the controller: {body!r}")
        if _as_base64(media) and not _is_json_family(media):
            data = base64.b64decode(body, validate=True)
        else:
            data = body.encode("utf-8")
        return HttpResponse(status or 200, media_header, data)
    if body is None or body == "":
        return HttpResponse(status or 204, content_type, b"")
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if not _is_json_family(media):
        raise ControllerRejects(400, "Response type in header did not match generated content type.")
    return HttpResponse(status or 200, "application/json", json.dumps(body).encode("utf-8"))
