"""This project's model of the launcher of OpenWhisk's Python runtime
(apache/openserverless-runtimes, runtime/python/v3.12/lib/launcher.py at tag
v3.12-2501141314), which the harness copies next to the unpacked action as
`exec__.py`, as the runtime's `compile` step does.

The protocol it follows is the runtime's:

* the action's `__main__.py` has been renamed `main__.py`; `main` is imported
  from it before anything else (an import error ends the process);
* with `__OW_WAIT_FOR_ACK` set, `{"ok": true}` is written to file descriptor 3
  once the import is done; this launcher adds `import_seconds` to that line;
* each line on stdin is a JSON object: `value` is the argument of `main`, every
  other key K is exported as the environment variable `__OW_<K upper-cased>`;
* the result of `main` (or `{"error": str(exception)}`, with the traceback on
  stderr) is written to file descriptor 3 as one JSON line.

Init parameters reach the process as environment variables (the proxy's
`/init` sets them); the harness starts this launcher with them.
"""

import json
import os
import sys
import time
import traceback

_started = time.perf_counter()
from main__ import main  # noqa: E402  (the runtime imports the action first, too)

_import_seconds = time.perf_counter() - _started

out = os.fdopen(3, "wb")
if os.getenv("__OW_WAIT_FOR_ACK", "") != "":
    out.write(json.dumps({"ok": True, "import_seconds": _import_seconds}).encode("utf-8") + b"\n")
    out.flush()

for line in sys.stdin:
    if not line.strip():
        continue
    request = json.loads(line)
    payload = {}
    for key, value in request.items():
        if key == "value":
            payload = value
        else:
            os.environ[f"__OW_{key.upper()}"] = str(value)
    try:
        result = main(payload)
    except Exception as ex:  # noqa: BLE001 - what the runtime does
        print(traceback.format_exc(), file=sys.stderr)
        result = {"error": str(ex)}
    out.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n")
    sys.stdout.flush()
    sys.stderr.flush()
    out.flush()
