"""Real servers for the action tests, each a child process on a free loopback
port, stopped when its context ends. The programs come from the project's
tools/testdeps scripts (installed when missing, cached outside the repo); a
missing program makes the test fail with the reason, never skip.
"""

import base64
import contextlib
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60


def testdep(script):
    """Runs tools/testdeps/<script> and returns the last line it prints (a path or version)."""
    path = REPO / "tools" / "testdeps" / script
    result = subprocess.run(["bash", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"{path} failed (exit {result.returncode}):\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what, process, log_file=None):
    """Polls `ready()` until it is true; fails when the process exits or the time is up."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}{tail(log_file)}")
        try:
            if ready():
                return
        except Exception as e:  # noqa: BLE001 - not up yet
            last = e
        time.sleep(0.05)
    raise AssertionError(f"{what} not ready within {START_TIMEOUT_SECONDS}s: {last}{tail(log_file)}")


def tail(log_file):
    if not log_file or not Path(log_file).exists():
        return ""
    return "\n" + Path(log_file).read_text(errors="replace")[-2000:]


@contextlib.contextmanager
def process(args, what, ready, log_file, **kwargs):
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kwargs)
    try:
        wait_until(lambda: ready(), what, proc, log_file)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Http:
    """A small JSON client with basic auth, for seeding and checking servers."""

    def __init__(self, base_url, user, password):
        self.base_url = base_url
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.authorization = f"Basic {token}"

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": self.authorization, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


class CouchDB:
    def __init__(self, port, admin, password):
        self.host = "127.0.0.1"
        self.port = port
        self.admin = admin
        self.password = password
        self.http = Http(f"http://127.0.0.1:{port}", admin, password)

    def put(self, path, body=None):
        status, value = self.http.request("PUT", path, body)
        assert status in (200, 201, 202), f"PUT {path}: {status} {value}"
        return value

    def get(self, path):
        return self.http.request("GET", path)


@contextlib.contextmanager
def couchdb(admin="whisk_admin", password="adm-S3cret-pw"):
    """pouchdb-server (a CouchDB-protocol server, in memory) with one admin."""
    binary = testdep("couchdb.sh")
    with tempfile.TemporaryDirectory(prefix="nuv-pouchdb-") as workdir:
        Path(workdir, "config.json").write_text(
            json.dumps({"admins": {admin: password}, "log": {"file": str(Path(workdir, "pouch.log"))}})
        )
        port = free_port()
        server = CouchDB(port, admin, password)
        args = [binary, "--in-memory", "--no-stdout-logs", "--host", "127.0.0.1", "--port", str(port)]
        args += ["--config", "config.json"]

        def ready():
            status, _ = server.get("/_session")
            return status == 200

        with process(args, "pouchdb-server", ready, Path(workdir, "out.log"), cwd=workdir):
            yield server


class Redis:
    def __init__(self, port, password):
        self.host = "127.0.0.1"
        self.port = port
        self.password = password


@contextlib.contextmanager
def redis_server(password="redis-adm1n-pw"):
    version = testdep("redis.sh")
    assert "Redis server" in version, version
    with tempfile.TemporaryDirectory(prefix="nuv-redis-") as workdir:
        port = free_port()
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--requirepass", password, "--dir", workdir]

        def ready():
            import redis

            return redis.Redis(port=port, password=password, socket_timeout=1).ping()

        with process(args, "redis-server", ready, Path(workdir, "redis.log")):
            yield Redis(port, password)
