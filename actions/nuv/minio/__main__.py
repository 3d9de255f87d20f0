"""whisk-system/nuv/minio — `ops devel minio`.

Raw web action. Request: POST, JSON body `{"command": c, "args": [...]}`,
header `x-impersonate-auth: base64(uuid:key)`:

| command | args | answer |
|---|---|---|
| `ls` | none | JSON array of the user's buckets `[{name}]` |
| `ls` | `[bucket]` | JSON array of its objects, recursively `[{name, size, last_modified, etag}]` |
| `rm` | `[bucket, file]` | text |
| `cp`, `mv` | `[bucket, file, dest_bucket, dest_file]` | text |
| `clean` | `[bucket, regex?, dry_run?]` | JSON `{dry_run, removed: [names]}`: the objects whose name matches the regex (default `.*`); `"true"` only lists them |

Every bucket must be one of the user's (S3_BUCKET_DATA, S3_BUCKET_STATIC);
the calls use the user's own keys.
"""

import re

from minio.commonconfig import CopySource

from nuvlib import s3
from nuvlib.users import impersonated_user
from nuvlib.web import COMMAND_BODY, HttpError, json_body, json_response, require_method, text_response, web_action

MAX_PATTERN = 1024


def string_args(body, count_min, count_max, command):
    args = body.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise HttpError(400, "field 'args' must be a list of strings")
    if not count_min <= len(args) <= count_max:
        wanted = str(count_min) if count_min == count_max else f"{count_min} to {count_max}"
        raise HttpError(400, f"{command} takes {wanted} arguments, got {len(args)}")
    return args


def names(args, command):
    """The bucket and file names of `rm`, `cp`, `mv`: all required."""
    if not all(args):
        raise HttpError(400, f"{command}: bucket and file names must not be empty")
    return args


def list_buckets(client, user):
    return [{"name": b} for b in s3.user_buckets(user) if s3.call(client.bucket_exists, f"bucket {b}", b)]


def list_objects(client, bucket):
    objects = s3.call(lambda: list(client.list_objects(bucket, recursive=True)), f"listing {bucket}")
    return [
        {
            "name": o.object_name,
            "size": o.size,
            "last_modified": o.last_modified.isoformat() if o.last_modified else None,
            "etag": o.etag,
        }
        for o in objects
    ]


def copy(client, source_bucket, source, dest_bucket, dest):
    s3.call(
        client.copy_object,
        f"copying {source_bucket}/{source} to {dest_bucket}/{dest}",
        dest_bucket,
        dest,
        CopySource(source_bucket, source),
    )


def clean(client, bucket, pattern, dry_run):
    if len(pattern) > MAX_PATTERN:
        raise HttpError(400, f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise HttpError(400, f"invalid regular expression {pattern!r}: {e}") from None
    matching = [o["name"] for o in list_objects(client, bucket) if regex.search(o["name"])]
    if not dry_run:
        for name in matching:
            s3.call(client.remove_object, f"removing {bucket}/{name}", bucket, name)
    return {"dry_run": dry_run, "removed": matching}


@web_action
def main(args):
    require_method(args, "post")
    body = json_body(args, COMMAND_BODY)
    command = body.get("command")
    user = impersonated_user(args)
    client = s3.user_client(user)
    if command == "ls":
        ls_args = string_args(body, 0, 1, command)
        if not ls_args:
            return json_response(list_buckets(client, user))
        return json_response(list_objects(client, s3.require_bucket(user, ls_args[0])))
    if command == "rm":
        bucket, name = names(string_args(body, 2, 2, command), command)
        s3.call(client.stat_object, f"{bucket}/{name}", s3.require_bucket(user, bucket), name)
        s3.call(client.remove_object, f"removing {bucket}/{name}", bucket, name)
        return text_response(f"removed {bucket}/{name}")
    if command in ("cp", "mv"):
        bucket, name, dest_bucket, dest = names(string_args(body, 4, 4, command), command)
        s3.require_bucket(user, bucket)
        s3.require_bucket(user, dest_bucket)
        copy(client, bucket, name, dest_bucket, dest)
        if command == "mv":
            if (bucket, name) != (dest_bucket, dest):
                s3.call(client.remove_object, f"removing {bucket}/{name}", bucket, name)
            return text_response(f"moved {bucket}/{name} to {dest_bucket}/{dest}")
        return text_response(f"copied {bucket}/{name} to {dest_bucket}/{dest}")
    if command == "clean":
        clean_args = string_args(body, 1, 3, command)
        bucket = s3.require_bucket(user, clean_args[0])
        pattern = clean_args[1] if len(clean_args) > 1 and clean_args[1] else ".*"
        dry_run = len(clean_args) > 2 and clean_args[2].lower() == "true"
        return json_response(clean(client, bucket, pattern, dry_run))
    raise HttpError(400, f"unknown command {command!r}: use ls, rm, cp, mv or clean")
