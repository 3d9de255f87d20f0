"""whisk-system/nuv/psql — `ops devel psql`.

Raw web action. Request: POST, JSON body `{"command": "<SQL>"}` (the CLI sends
it as text/plain), header `x-impersonate-auth: base64(uuid:key)`. The SQL
runs, autocommitted, as the user (POSTGRES_URL of its metadata), so
PostgreSQL's privileges confine it to the user's database.

Answer: the rows of a statement that returns rows as a JSON array of
objects (column → value; values JSON has no type for, such as dates and
decimals, as text); otherwise the command tag as text ("CREATE TABLE",
"INSERT 0 1"). A privilege error: 403; another SQL error: 400 with
PostgreSQL's message.
"""

import datetime
import decimal
import math
import uuid

import psycopg

from nuvlib.users import impersonated_user
from nuvlib.web import (
    COMMAND_BODY,
    HttpError,
    json_body,
    json_response,
    require_method,
    text_response,
    web_action,
)

CONNECT_TIMEOUT_SECONDS = 10


def parse_command(body):
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise HttpError(400, "field 'command' must be a non-empty string")
    return command


def json_value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, datetime.timedelta)):
        return str(value)
    return str(value)


def sql_message(error):
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return primary or str(error).strip() or type(error).__name__


@web_action
def main(args):
    require_method(args, "post")
    command = parse_command(json_body(args, COMMAND_BODY))
    user = impersonated_user(args)
    url = user.require("POSTGRES_URL", "PostgreSQL")
    try:
        connection = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True)
    except psycopg.OperationalError as e:
        raise HttpError(502, f"cannot connect to PostgreSQL as user {user.login}: {sql_message(e)}") from None
    try:
        with connection.cursor() as cursor:
            cursor.execute(command)
            if cursor.description is None:
                return text_response(cursor.statusmessage or "OK")
            columns = [c.name for c in cursor.description]
            rows = [{col: json_value(v) for col, v in zip(columns, row)} for row in cursor.fetchall()]
            return json_response(rows)
    except psycopg.errors.InsufficientPrivilege as e:
        raise HttpError(403, f"PostgreSQL: {sql_message(e)}") from None
    except psycopg.Error as e:
        raise HttpError(400, f"PostgreSQL: {sql_message(e)}") from None
    finally:
        connection.close()
