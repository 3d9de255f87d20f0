"""Real servers for the action tests, each a child process on a free loopback
port, stopped when its context ends. The programs come from the project's
tools/testdeps scripts (installed when missing, cached outside the repo); a
missing program makes the test fail with the reason, never skip.
"""

import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
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


def _run_as_postgres():
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    return "postgres" if os.geteuid() == 0 else None


def _chown_for(user, path):
    if user is not None:
        shutil.chown(path, user=user)
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                shutil.chown(os.path.join(root, name), user=user)


class Postgres:
    def __init__(self, port, password):
        self.host = "127.0.0.1"
        self.port = port
        self.superuser = "postgres"
        self.password = password

    def url(self, user, password, database):
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database}"

    def connect(self, database="postgres", user=None, password=None):
        import psycopg

        return psycopg.connect(
            self.url(user or self.superuser, password or self.password, database), autocommit=True
        )


@contextlib.contextmanager
def postgres():
    """A PostgreSQL cluster of its own (initdb in a temp dir, scram-sha-256 on 127.0.0.1)."""
    bindir = Path(testdep("postgres.sh"))
    user = _run_as_postgres()
    workdir = tempfile.mkdtemp(prefix="nuv-pg-")
    try:
        password = secrets.token_hex(16)
        Path(workdir, "pwfile").write_text(password + "\n")
        _chown_for(user, workdir)
        data = Path(workdir, "data")
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", f"{workdir}/pwfile"]
        initdb += ["--auth", "scram-sha-256", "--encoding", "UTF8", "--no-locale"]
        result = subprocess.run(initdb, capture_output=True, text=True, user=user)
        if result.returncode != 0:
            raise AssertionError(f"initdb failed: {result.stdout}\n{result.stderr}")
        port = free_port()
        args = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", workdir]
        args += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"]
        server = Postgres(port, password)

        def ready():
            with server.connect():
                return True

        with process(args, "postgres", ready, Path(workdir, "postgres.log"), user=user):
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class Minio:
    """MinIO with its root user as the admin; users and policies go in through
    the admin API's IAM import (a plain zip, SigV4-signed)."""

    def __init__(self, port, root_user, root_password):
        self.host = "127.0.0.1"
        self.port = port
        self.root_user = root_user
        self.root_password = root_password

    def client(self, access_key=None, secret_key=None):
        from minio import Minio as Client

        return Client(
            f"{self.host}:{self.port}",
            access_key=access_key or self.root_user,
            secret_key=secret_key or self.root_password,
            secure=False,
            region="us-east-1",
        )

    def import_iam(self, users, policies, mappings):
        """users {access: secret}, policies {name: document}, mappings {access: policy name}."""
        import datetime
        import hashlib
        import io
        import zipfile

        from minio.credentials import Credentials
        from minio.signer import sign_v4_s3

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("iam-assets/policies.json", json.dumps(policies))
            archive.writestr(
                "iam-assets/users.json",
                json.dumps({u: {"secretKey": s, "status": "enabled"} for u, s in users.items()}),
            )
            archive.writestr(
                "iam-assets/user_mappings.json", json.dumps({u: {"policy": p} for u, p in mappings.items()})
            )
        body = buffer.getvalue()
        url = urllib.parse.urlsplit(f"http://{self.host}:{self.port}/minio/admin/v3/import-iam")
        sha = hashlib.sha256(body).hexdigest()
        headers = {"Host": url.netloc, "x-amz-content-sha256": sha}
        headers["x-amz-date"] = (now := datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        headers = sign_v4_s3(
            "PUT", url, "us-east-1", headers, Credentials(self.root_user, self.root_password), sha, now
        )
        request = urllib.request.Request(url.geturl(), data=body, method="PUT", headers=dict(headers))
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200, response.read()


def bucket_policy(buckets):
    """What the operator grants a user: everything on its own buckets only."""
    resources = [f"arn:aws:s3:::{b}" for b in buckets] + [f"arn:aws:s3:::{b}/*" for b in buckets]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": resources}]}


@contextlib.contextmanager
def minio():
    binary = testdep("minio.sh")
    with tempfile.TemporaryDirectory(prefix="nuv-minio-") as workdir:
        port = free_port()
        root_user, root_password = "minioadmin", secrets.token_hex(16)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": workdir,
            "MINIO_ROOT_USER": root_user,
            "MINIO_ROOT_PASSWORD": root_password,
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
        }
        args = [binary, "server", str(Path(workdir, "data")), "--address", f"127.0.0.1:{port}", "--quiet"]
        args += ["--console-address", f"127.0.0.1:{free_port()}"]

        def ready():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/minio/health/ready", timeout=1) as r:
                return r.status == 200

        with process(args, "minio", ready, Path(workdir, "minio.log"), env=env):
            yield Minio(port, root_user, root_password)


class Ferretdb:
    def __init__(self, port, postgres):
        self.host = "127.0.0.1"
        self.port = port
        self.postgres = postgres

    def url(self, user, password, database):
        return f"mongodb://{user}:{password}@{self.host}:{self.port}/{database}?authMechanism=PLAIN"


@contextlib.contextmanager
def ferretdb(postgres_server, database="ferretdb"):
    """FerretDB 1.x on `postgres_server`'s database `database` (created here):
    clients authenticate with PLAIN and act as that PostgreSQL role."""
    binary = testdep("ferretdb.sh")
    with postgres_server.connect() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    with tempfile.TemporaryDirectory(prefix="nuv-ferretdb-") as workdir:
        port = free_port()
        pg_url = f"postgres://{postgres_server.host}:{postgres_server.port}/{database}"
        # tools/testdeps/ferretdb's wrapper: the postgresql handler, telemetry off.
        args = [binary, f"--postgresql-url={pg_url}", f"--listen-addr=127.0.0.1:{port}", "--log-level=warn"]

        def ready():
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True

        with process(args, "ferretdb", ready, Path(workdir, "ferretdb.log")):
            yield Ferretdb(port, postgres_server)
