"""`redis` against a real redis-server, as a user with an ACL on its key prefix."""

import base64
import json
import textwrap

import pytest
import redis

import servers
from harness import http_response, json_request, web_args

DEVEL_REDIS_PASSWORD = "devel-redis-pw"


@pytest.fixture(scope="module")
def redis_admin():
    with servers.redis_server() as server:
        admin = redis.Redis(port=server.port, password=server.password, decode_responses=True)
        # What the operator gives a user: its own login, confined to its prefix.
        admin.execute_command("ACL", "SETUSER", "devel", "on", f">{DEVEL_REDIS_PASSWORD}", "~devel:*", "+@all")
        admin.execute_command("ACL", "SETUSER", "otheruser", "on", ">other-pw", "~otheruser:*", "+@all")
        admin.set("otheruser:secret", "theirs")
        yield server, admin


@pytest.fixture(scope="module")
def users(installation, redis_admin):
    server, _ = redis_admin
    url = f"redis://devel:{DEVEL_REDIS_PASSWORD}@127.0.0.1:{server.port}"
    return {
        "devel": installation.add_user("devel", "pw", {"REDIS_URL": url, "REDIS_PREFIX": "devel:"}),
        "noredis": installation.add_user("noredis", "pw", {}),
        "badpass": installation.add_user(
            "badpass", "pw", {"REDIS_URL": f"redis://devel:wrong@127.0.0.1:{server.port}", "REDIS_PREFIX": "devel:"}
        ),
    }


@pytest.fixture(scope="module")
def action(actions, installation, users):
    return actions("redis", installation.inputs())


def header(auth):
    return base64.b64encode(auth.encode()).decode()


def run(action, auth, command, label=None, content_type="application/json"):
    args = web_args(
        body=json.dumps({"command": command}),
        content_type=content_type,
        headers={"x-impersonate-auth": header(auth)},
        raw=True,
    )
    return http_response(action.run(args, label=label))


def test_commands_on_the_users_prefix(action, users, redis_admin):
    _, admin = redis_admin
    auth = users["devel"]
    assert run(action, auth, "SET devel:key1 giggino", label="SET").text() == "OK"
    assert run(action, auth, "GET devel:key1", label="GET").text() == "giggino"
    assert admin.get("devel:key1") == "giggino", "written as the user, in Redis"
    assert run(action, auth, 'SET devel:q "hello world"').text() == "OK"
    assert run(action, auth, "GET devel:q").text() == "hello world"
    assert run(action, auth, "GET devel:missing").text() == "(nil)"
    assert run(action, auth, "INCR devel:n").text() == "1"
    assert run(action, auth, "HSET devel:h f v").text() == "1"
    hash_reply = run(action, auth, "HGETALL devel:h")
    assert (hash_reply.content_type, hash_reply.json()) == ("application/json", ["f", "v"])
    assert sorted(run(action, auth, "KEYS devel:*", label="KEYS").json()) == [
        "devel:h",
        "devel:key1",
        "devel:n",
        "devel:q",
    ]


def test_the_psql_cli_style_text_plain_body_works_too(action, users):
    assert run(action, users["devel"], "PING", content_type="text/plain;charset=UTF-8").text() == "PONG"


def test_a_wrapped_base64_header_works(action, users):
    wrapped = "\n".join(textwrap.wrap(header(users["devel"]), 76))
    args = json_request({"command": "PING"}, headers={"x-impersonate-auth": wrapped}, raw=True)
    assert http_response(action.run(args)).text() == "PONG"


@pytest.mark.parametrize(
    "command, status, message",
    [
        ("GET otheruser:secret", 403, "no permissions"),
        ("SET otheruser:secret mine", 403, "no permissions"),
        ("FLUSHALL", 403, "FLUSHALL is not allowed"),
        ("CONFIG GET *", 403, "CONFIG is not allowed"),
        ("SELECT 1", 403, "SELECT is not allowed"),
        ("KEYS *", 403, "prefix devel:"),
        ("SCAN 0", 403, "prefix devel:"),
        ("NOSUCHCOMMAND x", 400, "unknown command"),
        ('SET devel:x "unbalanced', 400, "cannot parse"),
    ],
)
def test_commands_outside_the_users_rights_are_refused(action, users, redis_admin, command, status, message):
    response = run(action, users["devel"], command)
    assert response.status == status, response
    assert message in response.text()
    assert redis_admin[1].get("otheruser:secret") == "theirs"


def test_scan_inside_the_prefix_is_allowed(action, users):
    run(action, users["devel"], "SET devel:s 1")
    cursor, keys = run(action, users["devel"], "SCAN 0 MATCH devel:* COUNT 1000").json()
    assert cursor == "0" and "devel:s" in keys


@pytest.mark.parametrize(
    "who, headers, status, message",
    [
        ("devel", {}, 401, "missing header x-impersonate-auth"),
        ("devel", {"x-impersonate-auth": "%%%"}, 401, "neither uuid:key nor its base64"),
        ("wrong", None, 401, "unknown or blocked"),
        ("noredis", None, 404, "Redis is not enabled for user noredis"),
        ("badpass", None, 502, "refused the credentials of user badpass"),
    ],
)
def test_who_may_call(action, users, who, headers, status, message):
    auths = {**users, "wrong": users["devel"][:-4] + "XXXX"}
    if headers is None:
        headers = {"x-impersonate-auth": header(auths[who])}
    response = http_response(action.run(json_request({"command": "PING"}, headers=headers, raw=True)))
    assert response.status == status, response
    assert message in response.text()


@pytest.mark.parametrize(
    "args, status, message",
    [
        (web_args(body="GET devel:k", content_type="text/plain", raw=True), 400, "not valid JSON"),
        (json_request({"cmd": "PING"}, raw=True), 400, "field 'command'"),
        (json_request({"command": ["PING"]}, raw=True), 400, "field 'command'"),
        (json_request({"command": "x" * 10_000_000}, raw=True), 413, "too large"),
        (web_args(body="", raw=True), 400, "empty"),
        (web_args(method="get", raw=True), 405, "use POST"),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(action, users, args, status, message):
    args["__ow_headers"]["x-impersonate-auth"] = header(users["devel"])
    response = http_response(action.run(args))
    assert response.status == status, response
    assert message in response.text()


def test_no_traceback_in_the_logs(action):
    assert "Traceback" not in action.stderr()
