"""whisk-system/nuv/ferretdb — `ops devel ferretdb`.

Raw web action. Request: POST, a MongoDB command as the JSON body
(`{"find": c}`, `{"insert": c, "documents": [...]}`,
`{"delete": c, "deletes": [{"q": {}, "limit": 0}]}`, ...; MongoDB extended
JSON such as `{"$oid": ...}` is understood), header
`x-impersonate-auth: base64(uuid:key)`. The command runs with the user's own
credentials (MONGODB_URL of its metadata) on the database that URL names.

Answer: the command's reply as JSON (relaxed extended JSON for ObjectIds and
dates); the CLI unwraps `cursor.firstBatch`. A command the server refuses:
400 (403 when unauthorised) with its message; refused credentials: 502.
"""

import json
import re

import pymongo
from bson import json_util
from bson.errors import BSONError
from pymongo.errors import ConfigurationError, ConnectionFailure, OperationFailure, PyMongoError

from nuvlib.users import impersonated_user
from nuvlib.web import COMMAND_BODY, HttpError, json_body, json_response, require_method, web_action

TIMEOUT_MS = 10_000
# MongoDB error codes: the credentials were refused; the command is not allowed.
AUTHENTICATION_FAILED = 18
UNAUTHORIZED = 13
# FerretDB 1.x checks PLAIN credentials only when it first connects to PostgreSQL as the
# user, and reports a refusal as an InternalError carrying PostgreSQL's SQLSTATE.
REFUSED_BY_POSTGRES = re.compile(r"SQLSTATE (28P01|28000)")
# FerretDB prefixes its messages with its call stack: `[file.go:52 pkg.Func] ...`.
_STACK = re.compile(r"^(\[[^\]]*\]\s*)+")


def server_message(error):
    message = (error.details or {}).get("errmsg") or str(error)
    return _STACK.sub("", str(message)).strip()[:500]


def extended_json(text):
    try:
        return json_util.loads(text)
    except (TypeError, BSONError) as e:
        raise ValueError(str(e)) from None


def parse_command(args):
    command = json_body(args, COMMAND_BODY, loads=extended_json)
    if not command:
        raise HttpError(400, "the command is empty")
    if "$db" in command:
        raise HttpError(403, "the command cannot name another database ($db)")
    return command


@web_action
def main(args):
    require_method(args, "post")
    command = parse_command(args)
    user = impersonated_user(args)
    url = user.require("MONGODB_URL", "MongoDB (FerretDB)")
    client = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=TIMEOUT_MS, connectTimeoutMS=TIMEOUT_MS, socketTimeoutMS=60_000
    )
    try:
        try:
            database = client.get_default_database()
        except ConfigurationError:
            raise HttpError(500, f"the MONGODB_URL of user {user.login} names no database") from None
        reply = database.command(command)
    except OperationFailure as e:
        if e.code == AUTHENTICATION_FAILED or REFUSED_BY_POSTGRES.search(server_message(e)):
            raise HttpError(502, f"MongoDB (FerretDB) refused the credentials of user {user.login}") from None
        status = 403 if e.code == UNAUTHORIZED else 400
        raise HttpError(status, f"MongoDB: {server_message(e)}") from None
    except ConnectionFailure as e:
        raise HttpError(502, f"MongoDB (FerretDB) is unreachable: {str(e)[:300]}") from None
    except PyMongoError as e:
        raise HttpError(400, f"MongoDB: {str(e)[:300]}") from None
    finally:
        client.close()
    return json_response(json.loads(json_util.dumps(reply, json_options=json_util.RELAXED_JSON_OPTIONS)))
