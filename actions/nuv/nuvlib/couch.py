"""A small CouchDB client on the standard library (urllib), as the admin.

The admin credentials come from the action's inputs `couchdb_host`,
`couchdb_port`, `couchdb_user`, `couchdb_password` and the optional
`couchdb_db_prefix` (default `nuvolaris_`, as `setup couchdb` uses).
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from nuvlib.web import HttpError, setting

TIMEOUT_SECONDS = 10.0


class Conflict(Exception):
    """A document write lost against a concurrent writer (HTTP 409)."""


class CouchDB:
    def __init__(self, base_url, user, password, prefix):
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix
        token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
        self._authorization = f"Basic {token}"

    def database(self, name):
        """The full name of one of the installation's databases (`subjects` → `nuvolaris_subjects`)."""
        return f"{self.prefix}{name}"

    def request(self, method, path, body=None):
        """(status, parsed JSON or None). Connection failures become a 502."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": self._authorization,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise HttpError(502, f"CouchDB is unreachable: {reason}") from None
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def get_document(self, database, doc_id):
        """The document, or None when it does not exist."""
        path = f"/{quote(self.database(database))}/{quote(doc_id)}"
        status, value = self.request("GET", path)
        if status == 404:
            return None
        if status != 200 or not isinstance(value, dict):
            raise unexpected(status, f"reading {database}/{doc_id}")
        return value

    def put_document(self, database, doc):
        """Writes the document (with its `_rev`); raises Conflict on 409."""
        path = f"/{quote(self.database(database))}/{quote(doc['_id'])}"
        status, _ = self.request("PUT", path, doc)
        if status == 409:
            raise Conflict(doc["_id"])
        if status not in (200, 201, 202):
            raise unexpected(status, f"writing {database}/{doc['_id']}")

    def view(self, database, design, view, key):
        """The rows of a view for one key."""
        query = urllib.parse.urlencode({"key": json.dumps(key), "limit": "2"})
        path = f"/{quote(self.database(database))}/_design/{quote(design)}/_view/{quote(view)}?{query}"
        status, value = self.request("GET", path)
        if status != 200 or not isinstance(value, dict):
            raise unexpected(status, f"querying {database}/_design/{design}/_view/{view}")
        rows = value.get("rows")
        return rows if isinstance(rows, list) else []


def quote(segment):
    return urllib.parse.quote(segment, safe="")


def unexpected(status, what):
    # Only the status: CouchDB error bodies are not for the action's caller.
    return HttpError(502, f"CouchDB answered HTTP {status} {what}")


def from_inputs(args):
    """The CouchDB of the installation, as the admin, from the action's inputs."""
    base_url = setting(args, "couchdb_host")
    if "://" not in base_url:
        base_url = f"http://{base_url}"
    if urllib.parse.urlsplit(base_url).port is None:
        base_url = f"{base_url.rstrip('/')}:{setting(args, 'couchdb_port', '5984')}"
    return CouchDB(
        base_url,
        setting(args, "couchdb_user"),
        setting(args, "couchdb_password"),
        setting(args, "couchdb_db_prefix", "nuvolaris_"),
    )
