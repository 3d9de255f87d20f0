"""whisk-system/nuv/devel_download — `ops devel minio get`.

Raw web action. Request: GET `…/devel_download/<bucket>/<file>`, header
`x-impersonate-auth: base64(uuid:key)`. The bucket must be one of the user's;
the download uses the user's own keys.

Answer: the file's bytes (application/octet-stream; base64 in the action
result, decoded by the controller). OpenWhisk caps an action's result
(1 MiB by default), so larger files are refused with 413.
"""

from nuvlib import s3
from nuvlib.users import impersonated_user
from nuvlib.web import HttpError, binary_response, require_method, web_action

# Base64 grows data by 4/3; this keeps the result under OpenWhisk's default 1 MiB.
MAX_DOWNLOAD = 768 * 1024


def read_object(client, bucket, name):
    response = s3.call(client.get_object, f"{bucket}/{name}", bucket, name)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


@web_action
def main(args):
    require_method(args, "get")
    bucket, name = s3.object_in_path(args)
    user = impersonated_user(args)
    s3.require_bucket(user, bucket)
    client = s3.user_client(user)
    size = s3.call(client.stat_object, f"{bucket}/{name}", bucket, name).size
    if size > MAX_DOWNLOAD:
        raise HttpError(413, f"{bucket}/{name} has {size} bytes: this action returns at most {MAX_DOWNLOAD}")
    return binary_response(read_object(client, bucket, name))
