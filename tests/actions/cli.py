"""What the `ops` CLI does with the actions' answers, to check them against.

`ops -login` (openserverless-cli auth/login.go) decodes the login answer as a
map of strings and stores each key in config.json nested on '_'; a key that
is a prefix of another, or has an empty segment, cannot be stored.
"""


def decode_login(body):
    """The map the CLI's JSON decoding into map[string]string accepts, or AssertionError."""
    assert isinstance(body, dict), f"login answer is not a JSON object: {body!r}"
    for key, value in body.items():
        assert isinstance(value, str), f"login answer: {key} is not a string: {value!r}"
    return body


def store_nested(config):
    """Stores the keys as the CLI's config does, nested on '_'; fails like it would."""
    root = {}
    for key in config:
        segments = key.split("_")
        assert all(segments), f"key {key!r} has an empty segment"
        node = root
        for segment in segments[:-1]:
            child = node.setdefault(segment, {})
            assert isinstance(child, dict), f"key {key!r} nests under another key's value"
            node = child
        assert segments[-1] not in node, f"key {key!r} collides with a key nested below it"
        node[segments[-1]] = config[key]
    return root
