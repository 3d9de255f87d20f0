"""The environment keys `ops -login` receives and stores.

The CLI keeps them in its config.json nested on '_' (`S3_API_URL` is
`S3 → API → URL`), so each '_'-separated segment must be non-empty and no
key may be a prefix of another (`REDIS` and `REDIS_URL` cannot both exist).
`login` only ever returns such a set, and `secrets` refuses a key that would
break it.
"""

import re

from nuvlib.users import env_dict
from nuvlib.web import log

# Reserved: the CLI logs in to OpenWhisk with AUTH, and login reports a
# system value the user overrode as SYSTEM_<key>.
AUTH = "AUTH"
SYSTEM_PREFIX = "SYSTEM"

_KEY = re.compile(r"^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$")


def valid_key(key):
    return isinstance(key, str) and len(key) <= 128 and bool(_KEY.match(key))


def is_reserved(key):
    return key == AUTH or key == SYSTEM_PREFIX or key.startswith(SYSTEM_PREFIX + "_")


def conflicts(a, b):
    """True when the CLI could not store both keys (equal, or one nests the other)."""
    return a == b or a.startswith(b + "_") or b.startswith(a + "_")


def first_conflict(key, keys):
    for other in keys:
        if conflicts(key, other):
            return other
    return None


def login_env(document):
    """The flat string→string map `login` answers: AUTH and the provisioned
    values (`env`), with the user's secrets (`userenv`) on top. A system value
    the user overrode stays available as SYSTEM_<key>. A key the CLI could not
    store (bad segments, or nesting with one already taken) is left out, and
    the activation log says which."""
    sysenv = env_dict(document, "env")
    userenv = {k: v for k, v in env_dict(document, "userenv").items() if not is_reserved(k)}
    candidates = []
    if AUTH in sysenv:
        candidates.append((AUTH, sysenv[AUTH]))
    for key, value in sysenv.items():
        if key != AUTH:
            candidates.append((f"{SYSTEM_PREFIX}_{key}" if key in userenv else key, value))
    candidates.extend(userenv.items())
    result = {}
    for key, value in candidates:
        if not valid_key(key):
            log(f"login: leaving out key {key!r}: not storable by the CLI")
            continue
        clash = first_conflict(key, result)
        if clash is not None:
            log(f"login: leaving out key {key}: it nests with {clash}")
            continue
        result[key] = value
    return result
