"""Who is calling: OpenWhisk subjects and the users' metadata documents.

* `<prefix>subjects` holds one document per OpenWhisk namespace,
  `{subject, namespaces: [{name, uuid, key}], blocked?}`. OpenWhisk resolves
  an auth key through the view `subjects.v2.0.0/identities` keyed by
  `[uuid, key]`, which leaves blocked subjects out; the actions use the same
  view, so a key works here exactly when it works on the OpenWhisk API.
* `<prefix>users_metadata` holds one document per user, `_id` = login =
  namespace: `{login, password (bcrypt), email, env: [{key, value}],
  userenv?: [{key, value}], quota: [...]}`. `env` is what the operator
  provisioned (AUTH, REDIS_URL, S3_*, POSTGRES_*, ...); `userenv` the user's
  own secrets, written by the `secrets` action.

The devel actions act for the user named by `x-impersonate-auth` with the
credentials of that user's `env`, never with the admin's.
"""

import base64
import binascii
import re

from nuvlib import couch
from nuvlib.web import HttpError, headers

SUBJECTS = "subjects"
USERS_METADATA = "users_metadata"
IDENTITIES_DESIGN = "subjects.v2.0.0"
IDENTITIES_VIEW = "identities"

# OpenWhisk auth: a UUID, a colon, a key (64 alphanumerics when generated).
_AUTH = re.compile(r"^[A-Za-z0-9_-]{1,128}:[A-Za-z0-9_-]{1,256}$")
# Namespace / login names: what OpenWhisk and the WhiskUser CRD accept, without spaces.
_LOGIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,255}$")


class User:
    """A user whose metadata document was found."""

    def __init__(self, login, document):
        self.login = login
        self.document = document
        self.env = env_dict(document, "env")

    def require(self, key, service):
        """A value the operator provisioned, or a 404 naming the service."""
        value = self.env.get(key)
        if not value:
            raise HttpError(404, f"{service} is not enabled for user {self.login} (no {key} in its metadata)")
        return value


def valid_login(login):
    if not isinstance(login, str) or not _LOGIN.match(login):
        raise HttpError(400, "invalid login: expected a namespace name")
    return login


def env_dict(document, field):
    """A `[{key, value}]` list of the metadata document as a dict of strings
    (malformed entries are ignored; later entries win)."""
    entries = document.get(field)
    result = {}
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str) and entry.get("value") is not None:
                value = entry["value"]
                result[entry["key"]] = value if isinstance(value, str) else str(value)
    return result


def env_list(mapping):
    return [{"key": k, "value": v} for k, v in mapping.items()]


def parse_auth(value, header_name):
    """`uuid:key` from a header that carries it raw, as `Basic base64`, or as base64."""
    value = value.strip()
    if value[:6].lower() == "basic ":
        value = value[6:].strip()
    if ":" not in value:
        # base64 has no ':'; `base64` tools wrap long output, so drop whitespace.
        try:
            value = base64.b64decode("".join(value.split()), validate=True).decode("utf-8").strip()
        except (binascii.Error, ValueError):
            raise HttpError(401, f"{header_name} is neither uuid:key nor its base64") from None
    if not _AUTH.match(value):
        raise HttpError(401, f"{header_name} does not carry an OpenWhisk auth (uuid:key)")
    return value


def namespace_of(db, auth):
    """The namespace an auth (`uuid:key`) belongs to, or None (unknown or blocked)."""
    uuid, key = auth.split(":", 1)
    rows = db.view(SUBJECTS, IDENTITIES_DESIGN, IDENTITIES_VIEW, [uuid, key])
    for row in rows:
        value = row.get("value") if isinstance(row, dict) else None
        if isinstance(value, dict) and value.get("uuid") == uuid and value.get("key") == key:
            namespace = value.get("namespace")
            if isinstance(namespace, str) and namespace:
                return namespace
    return None


def load_user(db, login):
    document = db.get_document(USERS_METADATA, login)
    if document is None:
        return None
    return User(login, document)


def authenticated_user(args, header_name):
    """The user whose auth is in `header_name`: resolved through the subjects
    database, then its metadata document. 401 when the header is missing or
    the auth unknown; 404 when the namespace has no metadata."""
    raw = headers(args).get(header_name)
    if not raw:
        raise HttpError(401, f"missing header {header_name}")
    auth = parse_auth(raw, header_name)
    db = couch.from_inputs(args)
    namespace = namespace_of(db, auth)
    if namespace is None:
        raise HttpError(401, f"{header_name}: unknown or blocked OpenWhisk auth")
    user = load_user(db, namespace)
    if user is None:
        raise HttpError(404, f"no metadata for user {namespace}")
    return db, user


def impersonated_user(args):
    """The user of the devel actions (`x-impersonate-auth: base64(uuid:key)`)."""
    return authenticated_user(args, "x-impersonate-auth")[1]
