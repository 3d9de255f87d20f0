"""`ferretdb` against a real FerretDB (1.x, on a real PostgreSQL), as a user
whose PostgreSQL role FerretDB acts as (PLAIN authentication)."""

import base64
import json

import pymongo
import pytest

import servers
from harness import http_response, json_request, web_args

DEVEL_PASSWORD = "devel-mongo-pw"


@pytest.fixture(scope="module")
def mongo():
    with servers.postgres() as pg:
        with pg.connect() as admin:
            for role, password in (("devel_ferretdb", DEVEL_PASSWORD), ("otheruser_ferretdb", "other-pw")):
                admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        with servers.ferretdb(pg) as server:
            with pg.connect("ferretdb") as admin:
                for role in ("devel_ferretdb", "otheruser_ferretdb"):
                    admin.execute(f"GRANT CREATE ON DATABASE ferretdb TO {role}")
            other = pymongo.MongoClient(server.url("otheruser_ferretdb", "other-pw", "otheruser_ferretdb"))
            other.get_default_database()["private"].insert_one({"secret": "theirs"})
            other.close()
            yield server


@pytest.fixture(scope="module")
def users(installation, mongo):
    return {
        "devel": installation.add_user(
            "devel", "pw", {"MONGODB_URL": mongo.url("devel_ferretdb", DEVEL_PASSWORD, "devel_ferretdb")}
        ),
        "nomongo": installation.add_user("nomongo", "pw", {}),
        "badpass": installation.add_user(
            "badpass", "pw", {"MONGODB_URL": mongo.url("devel_ferretdb", "wrong", "devel_ferretdb")}
        ),
    }


@pytest.fixture(scope="module")
def action(actions, installation, users):
    return actions("ferretdb", installation.inputs())


def run(action, auth, command, label=None):
    # The CLI posts the command as text (fetch's default text/plain).
    args = web_args(
        body=command if isinstance(command, str) else json.dumps(command),
        content_type="text/plain;charset=UTF-8",
        headers={"x-impersonate-auth": base64.b64encode(auth.encode()).decode()},
        raw=True,
    )
    return http_response(action.run(args, label=label))


def first_batch(response):
    """What the CLI shows: `cursor.firstBatch` unwrapped."""
    body = response.json()
    return body["cursor"]["firstBatch"] if "cursor" in body else body


def test_insert_find_delete_as_the_user(action, users):
    auth = users["devel"]
    documents = [
        {"Name": "Affare", "Surname": "fatto"},
        {"Name": "Nuvolaris", "Surname": "rocks"},
        {"Name": "Gigi", "Surname": "La trottola", "Age": 65},
    ]
    inserted = run(action, auth, {"insert": "nuvolaris", "documents": documents}, label="insert")
    assert inserted.status == 200, inserted
    assert (inserted.json()["n"], inserted.json()["ok"]) == (3, 1.0)
    found = first_batch(run(action, auth, {"find": "nuvolaris"}, label="find"))
    assert sorted(d["Name"] for d in found) == ["Affare", "Gigi", "Nuvolaris"]
    assert all(set(d["_id"]) == {"$oid"} for d in found), "ObjectIds as relaxed extended JSON"
    old = first_batch(run(action, auth, {"find": "nuvolaris", "filter": {"Age": {"$gte": 60}}}))
    assert [d["Name"] for d in old] == ["Gigi"]
    deleted = run(action, auth, {"delete": "nuvolaris", "deletes": [{"q": {}, "limit": 0}]}, label="delete")
    assert deleted.json()["n"] == 3
    assert first_batch(run(action, auth, {"find": "nuvolaris"})) == []


def test_extended_json_in_a_command(action, users):
    auth = users["devel"]
    oid = "65a3f0c2e4b0a1b2c3d4e5f6"
    command = '{"insert": "ext", "documents": [{"_id": {"$oid": "%s"}, "n": {"$numberLong": "7"}}]}' % oid
    assert run(action, auth, command).json()["n"] == 1
    found = first_batch(run(action, auth, {"find": "ext", "filter": {"_id": {"$oid": oid}}}))
    assert found == [{"_id": {"$oid": oid}, "n": 7}]


@pytest.mark.parametrize(
    "who, command, status, message",
    [
        ("devel", {"find": "private", "$db": "otheruser_ferretdb"}, 403, "another database"),
        ("devel", {"nosuchcommand": 1}, 400, "MongoDB:"),
        ("devel", {}, 400, "empty"),
        ("devel", '{"find": "x", "filter": {"_id": {"$oid": "zz"}}}', 400, "not valid JSON"),
        ("devel", "[1]", 400, "must be a JSON object"),
        ("nomongo", {"find": "x"}, 404, "MongoDB (FerretDB) is not enabled for user nomongo"),
        ("badpass", {"find": "x"}, 502, "refused the credentials of user badpass"),
    ],
)
def test_refusals(action, users, who, command, status, message):
    response = run(action, users[who], command)
    assert response.status == status, response
    assert message in response.text()
    assert "wrong" not in response.text()


def test_the_user_cannot_read_another_users_database(mongo):
    """What confines the action's commands: FerretDB acts as the user's role."""
    client = pymongo.MongoClient(mongo.url("devel_ferretdb", DEVEL_PASSWORD, "devel_ferretdb"))
    try:
        with pytest.raises(pymongo.errors.OperationFailure):
            client["otheruser_ferretdb"]["private"].find_one()
    finally:
        client.close()


def test_json_content_type_body_works_too(action, users):
    header = {"x-impersonate-auth": base64.b64encode(users["devel"].encode()).decode()}
    response = http_response(action.run(json_request({"ping": 1}, headers=header, raw=True)))
    assert response.json()["ok"] == 1.0


def test_no_traceback_in_the_logs(action):
    assert "Traceback" not in action.stderr()
