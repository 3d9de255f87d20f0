"""Fixtures of the action tests: the built zips, action containers, and an
installation's data in a real CouchDB-protocol server (subjects with
OpenWhisk's identities view, users' metadata documents).

Run through `cargo test --test nuv_actions`, which writes the zips embedded
in the operator to a directory and names it in NUV_ACTIONS_ZIP_DIR.
"""

import base64
import itertools
import json
import os
import secrets
import statistics
import string
import sys
import uuid
from pathlib import Path

import bcrypt
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import harness  # noqa: E402
import servers  # noqa: E402

DESIGN_DIR = servers.REPO / "deploy" / "couchdb-init" / "design" / "subjects"
# The production default cost (setup couchdb, Python bcrypt): login's figure is realistic.
BCRYPT_COST = 12
_prefixes = itertools.count()


@pytest.fixture(scope="session")
def zips():
    directory = os.environ.get("NUV_ACTIONS_ZIP_DIR")
    if not directory:
        raise AssertionError(
            "NUV_ACTIONS_ZIP_DIR is not set: run these tests through `cargo test --test nuv_actions`, "
            "which writes the zips embedded in the operator there"
        )
    found = {p.stem: p for p in Path(directory).glob("*.zip")}
    if len(found) != 9:
        raise AssertionError(f"expected the 9 action zips in {directory}, found {sorted(found)}")
    return found


@pytest.fixture(scope="module")
def actions(zips):
    """`actions(name, init_env)` starts (once per module and inputs) a warm container of an action."""
    started = {}

    def start(name, init_env):
        key = (name, json.dumps(init_env, sort_keys=True))
        if key not in started:
            started[key] = harness.ActionContainer(name, zips[name], init_env, sys.executable)
        return started[key]

    yield start
    for container in started.values():
        container.close()


@pytest.fixture(scope="module")
def couch():
    with servers.couchdb() as server:
        yield server


class Installation:
    """One installation's databases (under their own prefix) in the CouchDB server."""

    def __init__(self, couch, prefix):
        self.couch = couch
        self.prefix = prefix
        for name in ("subjects", "users_metadata"):
            couch.put(f"/{prefix}{name}")
        design = json.loads((DESIGN_DIR / "subjects.v2.0.0.json").read_text())
        couch.put(f"/{prefix}subjects/{design['_id']}", design)

    def inputs(self):
        """The admin inputs of the CouchDB actions (deployed as init parameters)."""
        return {
            "couchdb_host": self.couch.host,
            "couchdb_port": str(self.couch.port),
            "couchdb_user": self.couch.admin,
            "couchdb_password": self.couch.password,
            "couchdb_db_prefix": self.prefix,
        }

    def add_user(self, login, password, env=None, userenv=None, blocked=False):
        """A subject with a fresh auth and a metadata document; returns the auth `uuid:key`."""
        key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(64))
        auth = f"{uuid.uuid4()}:{key}"
        user_uuid, key = auth.split(":")
        subject = {"_id": login, "subject": login, "namespaces": [{"name": login, "uuid": user_uuid, "key": key}]}
        if blocked:
            subject["blocked"] = True
        self.couch.put(f"/{self.prefix}subjects/{login}", subject)
        document = {
            "_id": login,
            "login": login,
            "password": bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode(),
            "email": f"{login}@example.com",
            "env": [{"key": k, "value": v} for k, v in {"AUTH": auth, **(env or {})}.items()],
            "quota": [],
        }
        if userenv is not None:
            document["userenv"] = [{"key": k, "value": v} for k, v in userenv.items()]
        self.couch.put(f"/{self.prefix}users_metadata/{login}", document)
        return auth

    def metadata(self, login):
        status, document = self.couch.get(f"/{self.prefix}users_metadata/{login}")
        assert status == 200, (status, document)
        return document


@pytest.fixture(scope="module")
def installation(couch):
    return Installation(couch, f"inst{next(_prefixes)}_")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def pytest_terminal_summary(terminalreporter):
    if not harness.FIGURES:
        return
    write = terminalreporter.write_line
    write("")
    write("action figures (this run; real servers on loopback; ms):")
    write(f"  {'action':<16}{'import':>8}{'cold start':>12}{'calls':>7}{'first':>9}{'median':>9}{'max':>9}")
    for name, f in sorted(harness.FIGURES.items()):
        times = [t * 1000 for _, t in f["calls"]]
        if not times:
            continue
        write(
            f"  {name:<16}{(f['import'] or 0) * 1000:>8.1f}{f['cold_start'] * 1000:>12.1f}{len(times):>7}"
            f"{times[0]:>9.1f}{statistics.median(times):>9.1f}{max(times):>9.1f}"
        )
    labelled = [(n, label, t) for n, f in harness.FIGURES.items() for label, t in f["calls"] if label]
    if labelled:
        write("  named calls:")
        for name, label, t in sorted(labelled):
            write(f"    {name}/{label}: {t * 1000:.1f} ms")
