"""whisk-system/nuv/devel_upload — `ops devel minio put`.

Raw web action. Request: PUT `…/devel_upload/<bucket>/<file>` with the file
as the body (the CLI labels it application/json, so OpenWhisk passes it
base64-encoded), header `x-impersonate-auth: base64(uuid:key)`. The bucket
must be one of the user's; the upload uses the user's own keys.

Answer: text naming the object and its size.
"""

import io
import mimetypes

from nuvlib import s3
from nuvlib.users import impersonated_user
from nuvlib.web import UPLOAD_BODY, body_bytes, require_method, text_response, web_action


@web_action
def main(args):
    require_method(args, "put", "post")
    bucket, name = s3.object_in_path(args)
    data = body_bytes(args, UPLOAD_BODY)
    user = impersonated_user(args)
    s3.require_bucket(user, bucket)
    client = s3.user_client(user)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    s3.call(
        client.put_object,
        f"uploading {bucket}/{name}",
        bucket,
        name,
        io.BytesIO(data),
        len(data),
        content_type=content_type,
    )
    return text_response(f"uploaded {bucket}/{name} ({len(data)} bytes)")
