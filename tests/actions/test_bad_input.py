"""Every action starts in the runtime's way, and answers malformed requests
with a 4xx and a message — never a traceback. (The happy paths are in the
per-service modules.)"""

import base64

import pytest

from harness import http_response, json_request, web_args

RAW_COMMAND_ACTIONS = ["redis", "psql", "minio", "ferretdb"]
ALL_ACTIONS = ["login", "secrets", "content", "redis", "psql", "minio", "devel_upload", "devel_download", "ferretdb"]
SOME_AUTH = base64.b64encode(b"00000000-0000-0000-0000-000000000000:" + b"k" * 64).decode()
MINIO_INPUTS = {"minio_host": "127.0.0.1", "minio_port": "1"}


@pytest.fixture(scope="module")
def start(actions, installation):
    def start(name):
        inputs = MINIO_INPUTS if name == "content" else installation.inputs()
        return actions(name, inputs)

    return start


@pytest.mark.parametrize("name", ALL_ACTIONS)
def test_every_action_imports_and_refuses_a_wrong_method(start, name):
    container = start(name)
    method = "patch"
    response = http_response(container.run(web_args(method=method, raw=name not in ("login", "secrets", "content"))))
    assert response.status == 405, response
    assert "not allowed" in response.text()


@pytest.mark.parametrize("name", RAW_COMMAND_ACTIONS)
@pytest.mark.parametrize(
    "make_args, status, message",
    [
        (lambda: web_args(body="SELECT 1", content_type="text/plain", raw=True), 400, "not valid JSON"),
        (lambda: web_args(body="", raw=True), 400, "empty"),
        (lambda: web_args(body="[1, 2]", content_type="text/plain", raw=True), 400, "must be a JSON object"),
        (lambda: web_args(body=b"\xff\xfe", content_type="application/octet-stream", raw=True), 400, "not valid"),
        (lambda: json_request({"command": "x" * 10_000_000}, raw=True), 413, "too large"),
        (lambda: {**web_args(raw=True), "__ow_body": "not base64!"}, 400, "not the base64"),
    ],
    ids=["text", "empty", "array", "binary", "10MB", "bad-base64"],
)
def test_raw_actions_refuse_malformed_bodies(start, name, make_args, status, message):
    args = make_args()
    if args["__ow_body"] == "not base64!":
        args["__ow_headers"]["content-type"] = "application/json"
    args["__ow_headers"]["x-impersonate-auth"] = SOME_AUTH
    response = http_response(start(name).run(args))
    assert response.status == status, response
    assert message in response.text()


@pytest.mark.parametrize("name", RAW_COMMAND_ACTIONS)
def test_raw_actions_need_the_impersonation_header(start, name):
    body = {"find": "c"} if name == "ferretdb" else {"command": "ls" if name == "minio" else "PING"}
    response = http_response(start(name).run(json_request(body, raw=True)))
    assert response.status == 401, response
    assert "missing header x-impersonate-auth" in response.text()


@pytest.mark.parametrize(
    "name, args, status, message",
    [
        ("devel_upload", web_args(method="put", body=b"data", raw=True, path="/onlybucket"), 400, "/<bucket>/<file>"),
        ("devel_upload", web_args(method="put", body=b"data", raw=True, path="/b/f"), 401, "x-impersonate-auth"),
        ("devel_download", web_args(method="get", raw=True, path=""), 400, "/<bucket>/<file>"),
        ("devel_download", web_args(method="get", raw=True, path="/b/f"), 401, "x-impersonate-auth"),
        ("content", web_args(method="put", body=b"x", content_type="text/plain", path="/devel"), 400, "/<user>/<file>"),
        ("content", web_args(method="put", body=b"x", content_type="text/plain", path="/devel/f"), 401, "minioauth"),
        ("content", web_args(method="delete", path="/../x/f", headers={"minioauth": "s"}), 400, "invalid login"),
    ],
)
def test_path_and_credential_errors(start, name, args, status, message):
    response = http_response(start(name).run(args))
    assert response.status == status, response
    assert message in response.text()


def test_init_parameters_win_over_request_arguments(start, installation):
    """A request cannot redirect an action to another CouchDB: init parameters
    are environment variables, and the action reads those first."""
    args = json_request({"login": "nobody", "password": "x"})
    args["couchdb_host"] = "203.0.113.1"  # would hang or fail if used
    response = http_response(start("login").run(args))
    assert response.status == 401, response


def test_no_traceback_in_any_log(start):
    for name in ALL_ACTIONS:
        assert "Traceback" not in start(name).stderr(), name
