"""whisk-system/nuv/login — `ops -login`.

Web action. Request: POST, JSON body `{"login": <user>, "password": <password>}`,
no auth header. The password is checked against the bcrypt hash in the
user's metadata document. Answer 200: a flat JSON object of strings — AUTH
and the user's environment (S3_*, REDIS_*, POSTGRES_*, MONGODB_*, MILVUS_*,
the user's own secrets), shaped so the CLI can store every key (see
nuvlib.envkeys). Wrong login or password: 401, one message for both.
"""

import bcrypt

from nuvlib import couch
from nuvlib.envkeys import AUTH, login_env
from nuvlib.users import load_user, valid_login
from nuvlib.web import SMALL_BODY, HttpError, json_response, request_fields, require_method, string_field, web_action

# bcrypt reads at most 72 bytes; a longer password is a mistake or an attack.
MAX_PASSWORD = 1024
# Checked when the user does not exist, so that an unknown login takes as
# long as a wrong password (cost 12, like the stored hashes).
_TIMING_HASH = b"$2b$12$l0Nb1d.YlKAGxEnEk9ofJuY842tdDcY6ScWaj9tG6st7WyTj3kiJm"


def password_matches(password, stored_hash):
    candidate = password.encode("utf-8")[:72]
    if not isinstance(stored_hash, str) or not stored_hash.startswith("$2"):
        bcrypt.checkpw(candidate, _TIMING_HASH)
        return False
    try:
        return bcrypt.checkpw(candidate, stored_hash.encode("ascii"))
    except ValueError:
        raise HttpError(500, "the stored password hash is not a valid bcrypt hash") from None


@web_action
def main(args):
    require_method(args, "post")
    fields = request_fields(args, SMALL_BODY)
    login = valid_login(string_field(fields, "login", 256))
    password = string_field(fields, "password", MAX_PASSWORD)
    user = load_user(couch.from_inputs(args), login)
    if user is None:
        bcrypt.checkpw(password.encode("utf-8")[:72], _TIMING_HASH)
        raise HttpError(401, "invalid login or password")
    if not password_matches(password, user.document.get("password")):
        raise HttpError(401, "invalid login or password")
    env = login_env(user.document)
    if AUTH not in env:
        raise HttpError(500, f"the metadata of user {login} has no AUTH")
    return json_response(env)
