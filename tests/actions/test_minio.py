"""`minio`, `devel_upload`, `devel_download` and `content` against a real
MinIO, as users whose keys the storage's policy confines to their buckets."""

import base64
import io
import json
import os

import pytest

import servers
from harness import http_response, json_request, web_args

DEVEL_SECRET = "devel-s3-secret-key"


@pytest.fixture(scope="module")
def storage():
    with servers.minio() as server:
        root = server.client()
        for bucket in ("devel-data", "devel-web", "otheruser-data"):
            root.make_bucket(bucket)
        root.put_object("otheruser-data", "theirs.txt", io.BytesIO(b"theirs"), 6)
        # What the operator gives a user: its own keys, a policy on its buckets only.
        server.import_iam(
            users={"devel": DEVEL_SECRET, "otheruser": "otheruser-s3-secret"},
            policies={
                "devel_rw_policy": servers.bucket_policy(["devel-data", "devel-web"]),
                "otheruser_rw_policy": servers.bucket_policy(["otheruser-data"]),
            },
            mappings={"devel": "devel_rw_policy", "otheruser": "otheruser_rw_policy"},
        )
        yield server


def s3_env(storage, access_key, secret_key, data="devel-data", static="devel-web"):
    return {
        "S3_HOST": storage.host,
        "S3_PORT": str(storage.port),
        "S3_ACCESS_KEY": access_key,
        "S3_SECRET_KEY": secret_key,
        "S3_BUCKET_DATA": data,
        "S3_BUCKET_STATIC": static,
        "S3_PROVIDER": "minio",
    }


@pytest.fixture(scope="module")
def users(installation, storage):
    return {
        "devel": installation.add_user("devel", "pw", s3_env(storage, "devel", DEVEL_SECRET)),
        "wrongkey": installation.add_user("wrongkey", "pw", s3_env(storage, "devel", "not-the-secret")),
        # Metadata that names another user's bucket: the storage still says no.
        "liar": installation.add_user(
            "liar", "pw", s3_env(storage, "devel", DEVEL_SECRET, data="otheruser-data")
        ),
        "nos3": installation.add_user("nos3", "pw", {}),
    }


@pytest.fixture(scope="module")
def start(actions, installation, storage, users):
    def start(name):
        if name == "content":
            return actions(name, {"minio_host": storage.host, "minio_port": str(storage.port)})
        return actions(name, installation.inputs())

    return start


def impersonate(auth):
    return {"x-impersonate-auth": base64.b64encode(auth.encode()).decode()}


def minio(start, auth, command, *args, label=None):
    body = {"command": command, "args": list(args)} if args else {"command": command}
    return http_response(start("minio").run(json_request(body, headers=impersonate(auth), raw=True), label=label))


def upload(start, auth, bucket, name, data, label=None):
    # The CLI sends the file labelled application/json: OpenWhisk passes it base64-encoded.
    args = web_args(
        method="put", body=data, content_type="application/json", headers=impersonate(auth), raw=True,
        path=f"/{bucket}/{name}",
    )
    return http_response(start("devel_upload").run(args, label=label))


def download(start, auth, bucket, name, label=None):
    args = web_args(method="get", headers=impersonate(auth), raw=True, path=f"/{bucket}/{name}")
    return http_response(start("devel_download").run(args, label=label))


def stored(storage, bucket, name):
    response = storage.client().get_object(bucket, name)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def test_upload_then_download_the_same_bytes(start, users, storage):
    text = b'{"hello": "world"}\n'
    response = upload(start, users["devel"], "devel-data", "dir/hello.json", text, label="text file")
    assert (response.status, response.text()) == (200, "uploaded devel-data/dir/hello.json (19 bytes)")
    assert stored(storage, "devel-data", "dir/hello.json") == text
    binary = os.urandom(200_000)
    assert upload(start, users["devel"], "devel-data", "blob.bin", binary, label="200 KB").status == 200
    fetched = download(start, users["devel"], "devel-data", "blob.bin", label="200 KB")
    assert (fetched.status, fetched.content_type) == (200, "application/octet-stream")
    assert fetched.body == binary


def test_ls_cp_mv_rm(start, users, storage):
    auth = users["devel"]
    upload(start, auth, "devel-data", "index.html", b"<h1>hi</h1>")
    buckets = minio(start, auth, "ls", label="ls")
    assert buckets.json() == [{"name": "devel-data"}, {"name": "devel-web"}]
    listing = minio(start, auth, "ls", "devel-data", label="ls bucket").json()
    index = next(o for o in listing if o["name"] == "index.html")
    assert index["size"] == 11 and index["last_modified"]

    copied = minio(start, auth, "cp", "devel-data", "index.html", "devel-web", "tidy/content.html", label="cp")
    assert copied.text() == "copied devel-data/index.html to devel-web/tidy/content.html"
    assert stored(storage, "devel-web", "tidy/content.html") == b"<h1>hi</h1>"
    moved = minio(start, auth, "mv", "devel-web", "tidy/content.html", "devel-web", "moved.html")
    assert moved.status == 200, moved
    assert [o.object_name for o in storage.client().list_objects("devel-web", recursive=True)] == ["moved.html"]
    removed = minio(start, auth, "rm", "devel-web", "moved.html", label="rm")
    assert removed.text() == "removed devel-web/moved.html"
    assert list(storage.client().list_objects("devel-web")) == []
    assert minio(start, auth, "rm", "devel-web", "moved.html").status == 404


def test_clean_dry_run_then_for_real(start, users, storage):
    auth = users["devel"]
    for name in ("logs/a.log", "logs/b.log", "keep.txt"):
        upload(start, auth, "devel-data", name, b"x")
    dry = minio(start, auth, "clean", "devel-data", r"\.log$", "true").json()
    assert dry == {"dry_run": True, "removed": ["logs/a.log", "logs/b.log"]}
    assert len(list(storage.client().list_objects("devel-data", prefix="logs/", recursive=True))) == 2
    real = minio(start, auth, "clean", "devel-data", r"\.log$", "false", label="clean").json()
    assert real == {"dry_run": False, "removed": ["logs/a.log", "logs/b.log"]}
    assert list(storage.client().list_objects("devel-data", prefix="logs/", recursive=True)) == []
    assert minio(start, auth, "clean", "devel-data", "([").status == 400


@pytest.mark.parametrize(
    "who, call, status, message",
    [
        ("devel", lambda s, a: minio(s, a, "ls", "otheruser-data"), 403, "not one of user devel's buckets"),
        ("devel", lambda s, a: upload(s, a, "otheruser-data", "x", b"x"), 403, "not one of user devel's buckets"),
        ("devel", lambda s, a: download(s, a, "otheruser-data", "theirs.txt"), 403, "not one of"),
        ("devel", lambda s, a: minio(s, a, "cp", "devel-data", "index.html", "otheruser-data", "x"), 403, "not one"),
        ("liar", lambda s, a: minio(s, a, "ls", "otheruser-data"), 403, "AccessDenied"),
        ("liar", lambda s, a: download(s, a, "otheruser-data", "theirs.txt"), 403, "AccessDenied"),
        ("wrongkey", lambda s, a: minio(s, a, "ls", "devel-data"), 403, "SignatureDoesNotMatch"),
        ("nos3", lambda s, a: minio(s, a, "ls"), 404, "Object storage is not enabled for user nos3"),
        ("devel", lambda s, a: download(s, a, "devel-data", "no/such/file"), 404, "NoSuchKey"),
        ("devel", lambda s, a: minio(s, a, "rm", "devel-data"), 400, "takes 2 arguments"),
        ("devel", lambda s, a: minio(s, a, "rm", "devel-data", ""), 400, "must not be empty"),
        ("devel", lambda s, a: minio(s, a, "format", "devel-data"), 400, "unknown command"),
    ],
)
def test_refusals(start, users, storage, who, call, status, message):
    response = call(start, users[who])
    assert response.status == status, response
    assert message in response.text()
    assert stored(storage, "otheruser-data", "theirs.txt") == b"theirs"


def test_a_download_larger_than_an_action_result_is_refused(start, users):
    upload(start, users["devel"], "devel-data", "big.bin", os.urandom(800_000))
    response = download(start, users["devel"], "devel-data", "big.bin")
    assert response.status == 413 and "at most" in response.text(), response


def test_content_puts_and_deletes_in_the_users_web_bucket(start, storage):
    page = b"<html>static</html>"
    put = web_args(
        method="put", body=page, content_type="text/html", headers={"minioauth": DEVEL_SECRET}, path="/devel/index.html"
    )
    response = http_response(start("content").run(put, label="PUT"))
    assert response.status == 200, response
    assert response.json() == {"user": "devel", "filename": "index.html", "bucket": "devel-web", "operation": "PUT"}
    assert stored(storage, "devel-web", "index.html") == page
    wrong = {**put, "__ow_headers": {**put["__ow_headers"], "minioauth": "nope"}}
    assert http_response(start("content").run(wrong)).status == 403
    other = web_args(method="put", body=page, content_type="text/html", headers={"minioauth": DEVEL_SECRET},
                     path="/otheruser/index.html")
    assert http_response(start("content").run(other)).status == 403, "devel's key is not otheruser's"
    delete = web_args(method="delete", headers={"minioauth": DEVEL_SECRET}, path="/devel/index.html")
    assert http_response(start("content").run(delete)).json()["operation"] == "DELETE"
    assert list(storage.client().list_objects("devel-web")) == []


def test_no_traceback_in_the_logs(start):
    for name in ("minio", "devel_upload", "devel_download", "content"):
        assert "Traceback" not in start(name).stderr(), name


def test_listing_answers_json_the_cli_table_format_reads(start, users):
    body = minio(start, users["devel"], "ls", "devel-data").json()
    assert isinstance(body, list) and all(isinstance(o, dict) for o in body)
    json.dumps(body)
