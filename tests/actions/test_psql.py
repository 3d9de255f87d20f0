"""`psql` against a real PostgreSQL, as a user that owns its own database."""

import base64
import json

import pytest

import servers
from harness import http_response, json_request, web_args

DEVEL_PG_PASSWORD = "devel-pg-pw"


@pytest.fixture(scope="module")
def pg():
    with servers.postgres() as server:
        with server.connect() as admin:
            # What the operator gives a user (inventory §12.1 step 8): a role, its
            # database, a schema on its search path.
            for user, password in (("devel", DEVEL_PG_PASSWORD), ("otheruser", "other-pw")):
                admin.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
                admin.execute(f"CREATE DATABASE {user} OWNER {user}")
                admin.execute(f"REVOKE ALL ON DATABASE {user} FROM PUBLIC")
        with server.connect("devel") as admin:
            admin.execute("CREATE SCHEMA devel_schema AUTHORIZATION devel")
            admin.execute("ALTER ROLE devel SET search_path = devel_schema")
            # A table of the administrator's in the user's database, not granted.
            admin.execute("CREATE TABLE public.admin_only (secret text)")
            admin.execute("INSERT INTO public.admin_only VALUES ('hidden')")
        yield server


@pytest.fixture(scope="module")
def users(installation, pg):
    return {
        "devel": installation.add_user(
            "devel", "pw", {"POSTGRES_URL": pg.url("devel", DEVEL_PG_PASSWORD, "devel")}
        ),
        "nopg": installation.add_user("nopg", "pw", {}),
        "badpass": installation.add_user("badpass", "pw", {"POSTGRES_URL": pg.url("devel", "wrong", "devel")}),
    }


@pytest.fixture(scope="module")
def action(actions, installation, users):
    return actions("psql", installation.inputs())


def run(action, auth, command, label=None):
    # The CLI's fetch sends the JSON as text/plain.
    args = web_args(
        body=json.dumps({"command": command}),
        content_type="text/plain;charset=UTF-8",
        headers={"x-impersonate-auth": base64.b64encode(auth.encode()).decode()},
        raw=True,
    )
    return http_response(action.run(args, label=label))


def test_statements_and_queries_as_the_user(action, users, pg):
    auth = users["devel"]
    created = run(
        action,
        auth,
        "CREATE TABLE IF NOT EXISTS nuvolaris_table (id serial PRIMARY KEY, message varchar(100), at date)",
        label="CREATE TABLE",
    )
    assert (created.status, created.text()) == (200, "CREATE TABLE")
    inserted = run(action, auth, "INSERT INTO nuvolaris_table(message, at) VALUES ('Hello, World!', '2025-01-14')")
    assert inserted.text() == "INSERT 0 1", inserted
    rows = run(action, auth, "SELECT id, message, at FROM nuvolaris_table", label="SELECT")
    assert rows.content_type == "application/json"
    assert rows.json() == [{"id": 1, "message": "Hello, World!", "at": "2025-01-14"}]
    described = run(
        action,
        auth,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'nuvolaris_table' ORDER BY ordinal_position",
    )
    assert [r["column_name"] for r in described.json()] == ["id", "message", "at"]
    with pg.connect("devel") as admin:
        owner, schema = admin.execute(
            "SELECT tableowner, schemaname FROM pg_tables WHERE tablename = 'nuvolaris_table'"
        ).fetchone()
    assert (owner, schema) == ("devel", "devel_schema"), "created as the user, in its schema"
    assert run(action, auth, "SELECT 1 AS one WHERE false").json() == []


@pytest.mark.parametrize(
    "command, status, message",
    [
        ("SELECT * FROM public.admin_only", 403, "permission denied"),
        ("CREATE DATABASE stolen", 403, "permission denied"),
        ("DROP DATABASE otheruser", 403, "must be owner"),
        ("SELEC 1", 400, "syntax error"),
        ("SELECT * FROM no_such_table", 400, "does not exist"),
    ],
)
def test_what_the_user_may_not_do(action, users, command, status, message):
    response = run(action, users["devel"], command)
    assert response.status == status, response
    assert message in response.text()


@pytest.mark.parametrize(
    "who, status, message",
    [
        ("nopg", 404, "PostgreSQL is not enabled for user nopg"),
        ("badpass", 502, "cannot connect to PostgreSQL as user badpass"),
    ],
)
def test_users_without_a_working_database(action, users, who, status, message):
    response = run(action, users[who], "SELECT 1")
    assert response.status == status, response
    assert message in response.text()
    assert "wrong" not in response.text(), "no password in the message"


def test_bad_input(action, users):
    header = {"x-impersonate-auth": base64.b64encode(users["devel"].encode()).decode()}
    for body, status in ((json_request({"command": ""}, raw=True), 400), (json_request({"sql": "x"}, raw=True), 400)):
        body["__ow_headers"].update(header)
        response = http_response(action.run(body))
        assert response.status == status and "field 'command'" in response.text(), response


def test_no_traceback_in_the_logs(action):
    assert "Traceback" not in action.stderr()
