"""whisk-system/nuv/redis — `ops devel redis`.

Raw web action. Request: POST, JSON body `{"command": "<redis command line>"}`,
header `x-impersonate-auth: base64(uuid:key)`. The command runs with the
user's own Redis credentials (REDIS_URL of its metadata), so Redis' ACL
confines it to the user's key prefix (REDIS_PREFIX). On top of that the
action refuses commands that reach outside the prefix or administer the
server (FLUSHALL, CONFIG, KEYS without the prefix, ...), which an ACL of
`+@all ~<prefix>*` would let through.

Answer: a list or map reply as JSON; anything else as text ("(nil)" for a
missing value). A command Redis refuses for permissions: 403; another Redis
error: 400 with Redis' message.
"""

import json
import shlex

import redis

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

TIMEOUT_SECONDS = 30.0

# Commands that act on the whole server or on other users' data whatever the
# key ACL says, change the connection, or block without returning.
DENIED = frozenset(
    """
    ACL AUTH BGREWRITEAOF BGSAVE BLMPOP CLIENT CLUSTER CONFIG DEBUG FAILOVER
    FLUSHALL FLUSHDB FUNCTION HELLO LASTSAVE LATENCY MIGRATE MODULE MONITOR MOVE
    PSUBSCRIBE PSYNC QUIT RANDOMKEY REPLCONF REPLICAOF RESET SAVE SCRIPT SELECT
    SHUTDOWN SLAVEOF SLOWLOG SSUBSCRIBE SUBSCRIBE SWAPDB SYNC WAIT WAITAOF
    """.split()
)
# Commands whose pattern argument must stay inside the user's prefix.
PATTERN_COMMANDS = frozenset({"KEYS", "SCAN"})


def parse_command(body):
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise HttpError(400, "field 'command' must be a non-empty string")
    try:
        parts = shlex.split(command)
    except ValueError as e:
        raise HttpError(400, f"cannot parse the command: {e}") from None
    if not parts:
        raise HttpError(400, "field 'command' must be a non-empty string")
    return parts


def pattern_of(parts):
    name = parts[0].upper()
    if name == "KEYS":
        return parts[1] if len(parts) > 1 else None
    for i, word in enumerate(parts[:-1]):
        if i >= 2 and word.upper() == "MATCH":
            return parts[i + 1]
    return None


def check_allowed(parts, prefix):
    name = parts[0].upper()
    if name in DENIED:
        raise HttpError(403, f"command {name} is not allowed through this action")
    if name in PATTERN_COMMANDS:
        pattern = pattern_of(parts)
        if not prefix or pattern is None or not pattern.startswith(prefix):
            raise HttpError(403, f"{name} must use a pattern starting with your prefix {prefix or '(none)'}")


def render(reply):
    """A Redis reply as JSON-ready data (bytes decoded, undecodable bytes escaped)."""
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="backslashreplace")
    if isinstance(reply, (list, tuple, set)):
        return [render(r) for r in reply]
    if isinstance(reply, dict):
        return {str(render(k)): render(v) for k, v in reply.items()}
    return reply


def answer(reply):
    value = render(reply)
    if isinstance(value, (list, dict)):
        return json_response(value)
    if value is None:
        return text_response("(nil)")
    if isinstance(value, str):
        return text_response(value)
    return text_response(json.dumps(value))


@web_action
def main(args):
    require_method(args, "post")
    parts = parse_command(json_body(args, COMMAND_BODY))
    user = impersonated_user(args)
    url = user.require("REDIS_URL", "Redis")
    check_allowed(parts, user.env.get("REDIS_PREFIX", ""))
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=10)
    # Raw replies, as redis-cli shows them (no per-command conversions).
    client.response_callbacks.clear()
    try:
        reply = client.execute_command(*parts)
    except redis.exceptions.AuthenticationError:
        raise HttpError(502, f"Redis refused the credentials of user {user.login}") from None
    except redis.exceptions.NoPermissionError as e:
        raise HttpError(403, f"Redis: {e}") from None
    except redis.exceptions.ResponseError as e:
        status = 403 if str(e).startswith("NOPERM") else 400
        raise HttpError(status, f"Redis: {e}") from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
        raise HttpError(502, f"Redis is unreachable: {e}") from None
    finally:
        client.close()
    return answer(reply)
