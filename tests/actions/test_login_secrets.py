"""`login` and `secrets` against a real CouchDB-protocol server (pouchdb-server)."""

import pytest

import cli
from harness import ControllerRejects, http_response, json_request, web_args

PASSWORD = "devel-Passw0rd!"
SYSTEM_ENV = {
    "REDIS_URL": "redis://devel:pw@redis:6379",
    "REDIS_PREFIX": "devel:",
    "S3_HOST": "nuvolaris-minio.nuvolaris.svc.cluster.local",
    "S3_PORT": "9000",
    "S3_ACCESS_KEY": "devel",
    "S3_SECRET_KEY": "s3-secret",
    "S3_BUCKET_DATA": "devel-data",
    "S3_BUCKET_STATIC": "devel-web",
    "S3_API_URL": "http://s3.example.com",
    "POSTGRES_URL": "postgresql://devel:pw@postgres:5432/devel",
    "MONGODB_URL": "mongodb://devel_ferretdb:pw@ferretdb:27017/devel_ferretdb",
    "MILVUS_TOKEN": "devel:pw",
}


# Every key the operator provisions (inventory §10.4 and §12.1).
PROVISIONED_KEYS = """
    MONGODB_URL POSTGRES_DATABASE POSTGRES_HOST POSTGRES_PASSWORD POSTGRES_PORT POSTGRES_URL
    POSTGRES_USERNAME REDIS_PREFIX REDIS_URL REDIS_ALT_URL REDIS_SERVICE REDIS_PORT REDIS_PROVIDER
    REDIS_PASSWORD S3_HOST S3_PORT S3_SECRET_KEY S3_ACCESS_KEY S3_BUCKET_STATIC S3_BUCKET_DATA
    S3_PROVIDER S3_API_URL S3_CONSOLE_URL MILVUS_HOST MILVUS_PORT MILVUS_TOKEN MILVUS_DB_NAME
    USER_REST_API_URL USER_V1_API_URL STATIC_CONTENT_URL
""".split()


@pytest.fixture(scope="module")
def users(installation):
    return {
        "devel": installation.add_user("devel", PASSWORD, SYSTEM_ENV),
        "other": installation.add_user("otheruser", "other-pw", {"REDIS_PREFIX": "otheruser:"}),
        "blocked": installation.add_user("blockeduser", "blocked-pw", {}, blocked=True),
        "full": installation.add_user("fulluser", "full-pw", {k: f"value-of-{k}" for k in PROVISIONED_KEYS}),
        # Stored data the CLI could not take as is: an override and a nesting clash.
        "legacy": installation.add_user(
            "legacyuser",
            "legacy-pw",
            {"REDIS_URL": "redis://system", "S3_HOST": "minio"},
            userenv={"REDIS_URL": "redis://mine", "S3": "clash", "AUTH": "not-mine"},
        ),
    }


@pytest.fixture(scope="module")
def login_container(actions, installation, users):
    return actions("login", installation.inputs())


@pytest.fixture(scope="module")
def secrets_action(actions, installation, users):
    return actions("secrets", installation.inputs())


def call_login(container, body, label=None):
    return http_response(container.run(json_request(body), label=label))


def call_secrets(container, auth, body, path="/api/v1/web/whisk-system/nuv/secrets", label=None):
    # The CLI builds the URL twice: the action sees the second half as its path.
    args = json_request(body, headers={"Authorization": auth}, path=path)
    return http_response(container.run(args, label=label))


def test_login_answers_a_flat_string_map_the_cli_can_store(login_container, users):
    response = call_login(login_container, {"login": "devel", "password": PASSWORD}, label="ok (bcrypt cost 12)")
    assert response.status == 200, response
    assert response.content_type == "application/json"
    env = cli.decode_login(response.json())
    cli.store_nested(env)
    assert env["AUTH"] == users["devel"]
    assert {k: env[k] for k in SYSTEM_ENV} == SYSTEM_ENV
    for key in ("S3_API_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET_STATIC"):
        assert env[key], f"ops util upload needs {key}"


def test_login_returns_every_key_the_operator_provisions(login_container, users):
    response = call_login(login_container, {"login": "fulluser", "password": "full-pw"})
    env = cli.decode_login(response.json())
    cli.store_nested(env)
    assert sorted(env) == sorted(["AUTH", *PROVISIONED_KEYS])


def test_login_refuses_a_wrong_password_and_an_unknown_user_alike(login_container, users):
    wrong = call_login(login_container, {"login": "devel", "password": "not-it"}, label="wrong password")
    unknown = call_login(login_container, {"login": "nobody", "password": PASSWORD}, label="unknown user")
    for response in (wrong, unknown):
        assert response.status == 401, response
        assert response.text() == "invalid login or password"


def test_login_keeps_overridden_system_values_and_drops_keys_the_cli_cannot_store(login_container, users):
    response = call_login(login_container, {"login": "legacyuser", "password": "legacy-pw"})
    assert response.status == 200, response
    env = cli.decode_login(response.json())
    cli.store_nested(env)
    assert env["AUTH"] == users["legacy"], "a user secret never replaces AUTH"
    assert env["REDIS_URL"] == "redis://mine"
    assert env["SYSTEM_REDIS_URL"] == "redis://system"
    assert env["S3_HOST"] == "minio"
    assert "S3" not in env, "S3 nests with S3_HOST: left out"


@pytest.mark.parametrize(
    "args, status, message",
    [
        (web_args(body="login=devel&password=x", content_type="text/plain"), 400, "not valid JSON"),
        (web_args(body=b"\x89PNG\r\n", content_type="image/png"), 400, "not valid JSON"),
        (json_request(["devel", PASSWORD]), 400, "must be a JSON object"),
        (json_request({"login": "devel"}), 400, "missing field 'password'"),
        (json_request({"password": PASSWORD}), 400, "missing field 'login'"),
        (json_request({"login": 7, "password": PASSWORD}), 400, "must be a string"),
        (json_request({"login": "../_users", "password": PASSWORD}), 400, "invalid login"),
        (json_request({"login": "devel", "password": "p" * 10_000_000}), 413, "too large"),
        (web_args(body="x" * 10_000_000, content_type="text/plain"), 413, "too large"),
        (web_args(method="get", body=None), 405, "use POST"),
    ],
    ids=[
        "text-body",
        "binary-body",
        "json-array",
        "no-password",
        "no-login",
        "number-login",
        "path-login",
        "10MB-password",
        "10MB-body",
        "get",
    ],
)
def test_login_bad_input_is_a_4xx_with_a_message(login_container, args, status, message):
    response = http_response(login_container.run(args))
    assert response.status == status, response
    assert message in response.text()
    assert "Traceback" not in response.text()


def test_a_body_that_is_not_json_under_a_json_content_type_never_reaches_the_action():
    with pytest.raises(ControllerRejects) as rejected:
        web_args(body="{not json", content_type="application/json")
    assert rejected.value.status == 400


def test_secrets_lists_adds_changes_and_removes(secrets_action, login_container, installation, users):
    auth = users["devel"]
    listed = call_secrets(secrets_action, auth, {"login": "devel"}, label="list")
    assert listed.status == 200, listed
    body = listed.json()
    assert body["env"]["REDIS_PREFIX"] == "devel:"
    assert (body["sysenv"], body["added"], body["changed"], body["removed"]) == ({}, [], [], [])

    added = call_secrets(
        secrets_action, auth, {"login": "devel", "env": {"OPENAI_KEY": "sk-1", "MY_TOKEN": "t"}}, label="add"
    )
    assert added.status == 200, added
    assert sorted(added.json()["added"]) == ["MY_TOKEN", "OPENAI_KEY"]
    assert added.json()["env"]["OPENAI_KEY"] == "sk-1"
    stored = installation.metadata("devel")
    assert {e["key"]: e["value"] for e in stored["userenv"]} == {"OPENAI_KEY": "sk-1", "MY_TOKEN": "t"}
    assert {e["key"] for e in stored["env"]} == {"AUTH", *SYSTEM_ENV}, "provisioned values untouched"

    changed = call_secrets(
        secrets_action, auth, {"login": "devel", "env": {"OPENAI_KEY": "sk-2", "MY_TOKEN": "t"}}, label="change"
    )
    assert (changed.json()["added"], changed.json()["changed"]) == ([], ["OPENAI_KEY"])

    overridden = call_secrets(secrets_action, auth, {"login": "devel", "env": {"REDIS_PREFIX": "mine:"}})
    assert overridden.json()["sysenv"] == {"REDIS_PREFIX": "devel:"}
    assert overridden.json()["env"]["REDIS_PREFIX"] == "mine:"

    env = cli.decode_login(call_login(login_container, {"login": "devel", "password": PASSWORD}).json())
    cli.store_nested(env)
    assert (env["OPENAI_KEY"], env["REDIS_PREFIX"], env["SYSTEM_REDIS_PREFIX"]) == ("sk-2", "mine:", "devel:")

    removed = call_secrets(
        secrets_action,
        auth,
        {"login": "devel", "env": {"OPENAI_KEY": "", "REDIS_PREFIX": "", "ABSENT": ""}},
        label="remove",
    )
    assert sorted(removed.json()["removed"]) == ["OPENAI_KEY", "REDIS_PREFIX"]
    assert removed.json()["sysenv"] == {}
    assert {e["key"] for e in installation.metadata("devel")["userenv"]} == {"MY_TOKEN"}


def test_secrets_accepts_the_path_once_or_twice_and_basic_auth(secrets_action, users):
    import base64

    auth = users["devel"]
    for path in ("", "/api/v1/web/whisk-system/nuv/secrets"):
        assert call_secrets(secrets_action, auth, {"login": "devel"}, path=path).status == 200
    basic = "Basic " + base64.b64encode(auth.encode()).decode()
    assert call_secrets(secrets_action, basic, {"login": "devel"}).status == 200


@pytest.mark.parametrize(
    "who, login, env, status, message",
    [
        (None, "devel", None, 401, "missing header authorization"),
        ("garbage", "devel", None, 401, "neither uuid:key nor its base64"),
        ("wrong", "devel", None, 401, "unknown or blocked"),
        ("blocked", "blockeduser", None, 401, "unknown or blocked"),
        ("other", "devel", None, 403, "does not belong to user devel"),
        ("devel", "devel", {"AUTH": "x"}, 400, "reserved"),
        ("devel", "devel", {"SYSTEM_X": "x"}, 400, "reserved"),
        ("devel", "devel", {"REDIS": "x"}, 400, "cannot coexist with REDIS_URL"),
        ("devel", "devel", {"A__B": "x"}, 400, "invalid secret name"),
        ("devel", "devel", {"OK_KEY": 3}, 400, "must be a string"),
        ("devel", "devel", ["A"], 400, "must be an object"),
        ("devel", "devel", {"BIG": "v" * 100_000}, 413, "longer than"),
    ],
)
def test_secrets_refusals(secrets_action, users, who, login, env, status, message):
    auths = {**users, "garbage": "%%%", "wrong": users["devel"][:-4] + "XXXX"}
    headers = {} if who is None else {"Authorization": auths[who]}
    body = {"login": login} if env is None else {"login": login, "env": env}
    response = http_response(secrets_action.run(json_request(body, headers=headers)))
    assert response.status == status, response
    assert message in response.text()


def test_no_traceback_reached_a_caller_or_the_logs(login_container, secrets_action):
    for container in (login_container, secrets_action):
        assert "Traceback" not in container.stderr()
