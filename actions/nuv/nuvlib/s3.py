"""Object storage (MinIO, or any S3 API) with a user's own keys.

A user's metadata names its endpoint (S3_HOST, S3_PORT), its keys
(S3_ACCESS_KEY, S3_SECRET_KEY) and its buckets (S3_BUCKET_DATA,
S3_BUCKET_STATIC). The storage's policy confines the keys to those buckets;
the actions also refuse any other bucket name before calling it.
"""

import urllib.parse

import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError

from nuvlib.web import HttpError, path_segments

# Storage has no region here; naming one spares a GetBucketLocation call.
REGION = "us-east-1"
_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchObject"})
_DENIED = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})


def client(host, port, access_key, secret_key):
    """A client for `host` (a name, or a URL whose scheme says http/https) and `port`."""
    secure = False
    if "://" in host:
        url = urllib.parse.urlsplit(host)
        secure = url.scheme == "https"
        host = url.netloc
    endpoint = host if ":" in host or not port else f"{host}:{port}"
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=10, read=60),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
    )
    return Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=REGION, http_client=http)


def user_client(user):
    return client(
        user.require("S3_HOST", "Object storage"),
        user.env.get("S3_PORT", ""),
        user.require("S3_ACCESS_KEY", "Object storage"),
        user.require("S3_SECRET_KEY", "Object storage"),
    )


def user_buckets(user):
    buckets = []
    for key in ("S3_BUCKET_DATA", "S3_BUCKET_STATIC"):
        bucket = user.env.get(key)
        if bucket and bucket not in buckets:
            buckets.append(bucket)
    return buckets


def require_bucket(user, bucket):
    if not isinstance(bucket, str) or bucket not in user_buckets(user):
        raise HttpError(403, f"bucket {bucket!r} is not one of user {user.login}'s buckets")
    return bucket


def object_in_path(args):
    """(bucket, object name) from a request path `/<bucket>/<object…>`."""
    segments = path_segments(args)
    if len(segments) < 2:
        raise HttpError(400, "expected the path /<bucket>/<file>")
    return segments[0], "/".join(segments[1:])


def call(operation, what, *args, **kwargs):
    """Runs one storage call; its failures become HTTP errors with the S3 code."""
    try:
        return operation(*args, **kwargs)
    except S3Error as e:
        if e.code in _NOT_FOUND:
            raise HttpError(404, f"{what}: {e.code}") from None
        if e.code in _DENIED:
            raise HttpError(403, f"{what}: {e.code}") from None
        raise HttpError(400, f"{what}: {e.code}: {e.message}") from None
    except (ServerError, InvalidResponseError) as e:
        raise HttpError(502, f"{what}: the storage answered {type(e).__name__}: {str(e)[:200]}") from None
    except urllib3.exceptions.HTTPError as e:
        raise HttpError(502, f"{what}: the storage is unreachable: {type(e).__name__}") from None
