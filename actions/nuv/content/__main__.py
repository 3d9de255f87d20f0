"""whisk-system/nuv/content — upload to or delete from a user's web bucket.

Web action (no CLI task calls it; kept for compatibility). Request:
PUT or DELETE `…/content/<user>/<path>` with header `minioauth: <the user's
storage secret key>`; PUT carries the file as the body. The object is
`<path>` in the bucket `<user>-web` of the storage at the inputs
`minio_host`:`minio_port`, reached with the user's own keys (access key =
user name), so the storage's policy decides what is allowed.

Answer: JSON `{user, filename, bucket, operation}`.
"""

import io
import mimetypes

from nuvlib import s3
from nuvlib.users import valid_login
from nuvlib.web import (
    UPLOAD_BODY,
    HttpError,
    body_bytes,
    headers,
    json_response,
    method,
    path_segments,
    require_method,
    setting,
    web_action,
)


@web_action
def main(args):
    require_method(args, "put", "delete")
    segments = path_segments(args)
    if len(segments) < 2:
        raise HttpError(400, "expected the path /<user>/<file>")
    user, name = valid_login(segments[0]), "/".join(segments[1:])
    secret = headers(args).get("minioauth")
    if not secret:
        raise HttpError(401, "missing header minioauth")
    client = s3.client(setting(args, "minio_host"), setting(args, "minio_port", "9000"), user, secret)
    bucket = f"{user}-web"
    operation = method(args).upper()
    if operation == "PUT":
        data = body_bytes(args, UPLOAD_BODY)
        if not data:
            raise HttpError(400, "no file content received")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        s3.call(client.put_object, f"uploading {bucket}/{name}", bucket, name, io.BytesIO(data), len(data),
                content_type=content_type)
    else:
        s3.call(client.stat_object, f"{bucket}/{name}", bucket, name)
        s3.call(client.remove_object, f"removing {bucket}/{name}", bucket, name)
    return json_response({"user": user, "filename": name, "bucket": bucket, "operation": operation})
