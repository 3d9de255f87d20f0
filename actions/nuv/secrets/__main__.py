"""whisk-system/nuv/secrets — `ops env add/remove/list`.

Web action. Request: POST, JSON body `{"login": <namespace>, "env": {K: "v"}}`
with header `Authorization: <uuid:key>` (raw; `Basic <base64>` is accepted
too). `"v"` adds or changes K, `""` removes it; no `env` (or `{}`) lists.
The CLI builds the URL twice, so the request path ends in
`…/nuv/secrets/api/v1/web/whisk-system/nuv/secrets`: the path is ignored.

The auth must belong to the namespace `login` (resolved like OpenWhisk
does, through the subjects database). The secrets live in the `userenv` list
of the user's metadata document; the operator's values stay in `env`.

Answer 200: `{"env": {...}, "sysenv": {...}, "added": [...], "changed": [...],
"removed": [...]}` — `env` is what `login` would give (the user's values over
the provisioned ones), `sysenv` the provisioned values the user overrode.
"""

from nuvlib import couch
from nuvlib.envkeys import first_conflict, is_reserved, valid_key
from nuvlib.users import USERS_METADATA, authenticated_user, env_dict, env_list, load_user, valid_login
from nuvlib.web import (
    SMALL_BODY,
    HttpError,
    json_response,
    request_fields,
    require_method,
    string_field,
    web_action,
)

MAX_SECRETS = 200
MAX_VALUE = 16 * 1024
# Writes retried after a concurrent update of the same document.
MAX_CONFLICTS = 3


def requested_changes(fields):
    env = fields.get("env")
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise HttpError(400, "field 'env' must be an object of strings")
    if len(env) > MAX_SECRETS:
        raise HttpError(413, f"too many secrets in one request: at most {MAX_SECRETS}")
    for key, value in env.items():
        if not isinstance(value, str):
            raise HttpError(400, f"secret {key}: the value must be a string")
        if len(value) > MAX_VALUE:
            raise HttpError(413, f"secret {key}: the value is longer than {MAX_VALUE} characters")
    return env


def apply_changes(sysenv, userenv, changes):
    """The new userenv and the keys added, changed and removed; 400 for a key
    the CLI could not store next to the others."""
    new = dict(userenv)
    added, changed, removed = [], [], []
    for key, value in changes.items():
        if value == "":
            if key in new:
                del new[key]
                removed.append(key)
        elif key not in new:
            new[key] = value
            added.append(key)
        elif new[key] != value:
            new[key] = value
            changed.append(key)
    for key in added + changed:
        if not valid_key(key):
            raise HttpError(400, f"invalid secret name {key!r}: use letters and digits separated by single '_'")
        if is_reserved(key):
            raise HttpError(400, f"secret name {key} is reserved")
        # Overriding a provisioned key itself is allowed (reported in sysenv).
        clash = first_conflict(key, [k for k in sysenv if k != key] + [k for k in new if k != key])
        if clash is not None:
            raise HttpError(400, f"secret {key} cannot coexist with {clash}: one name nests the other")
    return new, added, changed, removed


def answer(document, added, changed, removed):
    sysenv = env_dict(document, "env")
    userenv = env_dict(document, "userenv")
    return json_response(
        {
            "env": {**sysenv, **userenv},
            "sysenv": {k: v for k, v in sysenv.items() if k in userenv},
            "added": added,
            "changed": changed,
            "removed": removed,
        }
    )


@web_action
def main(args):
    require_method(args, "post")
    fields = request_fields(args, SMALL_BODY)
    login = valid_login(string_field(fields, "login", 256))
    db, user = authenticated_user(args, "authorization")
    if user.login != login:
        raise HttpError(403, f"the authorization does not belong to user {login}")
    changes = requested_changes(fields)
    for _ in range(MAX_CONFLICTS):
        document = user.document
        userenv, added, changed, removed = apply_changes(user.env, env_dict(document, "userenv"), changes)
        if not (added or changed or removed):
            return answer(document, [], [], [])
        document["userenv"] = env_list(userenv)
        try:
            db.put_document(USERS_METADATA, document)
            return answer(document, added, changed, removed)
        except couch.Conflict:
            user = load_user(db, login)
            if user is None:
                raise HttpError(404, f"no metadata for user {login}") from None
    raise HttpError(409, f"the metadata of user {login} kept changing; try again")
