"""Code shared by the whisk-system `nuv` actions.

The build (build.rs) copies this package into every action zip next to the
action's `__main__.py`, so `import nuvlib.web` works inside the OpenWhisk
Python runtime, which runs the action from the unpacked zip directory.

Only the standard library is imported here; each action imports the client
library it needs (redis, psycopg, pymongo, minio, bcrypt), all shipped by the
runtime image (see actions/README.md).
"""
