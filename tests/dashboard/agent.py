"""The scripted cursor-agent, with its scenario picked from markers in the prompt.

``[hang]`` runs until stopped, ``[crash]`` crashes, ``[write NAME]`` writes NAME through a
tool call, ``[error-result]`` ends with the agent's own error (a ``result`` with
``is_error``); anything else succeeds. It lets one configuration serve every dashboard test.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid

from ado.testing.fake_cursor_agent import main

prompt = " ".join(sys.argv[1:])
if "[error-result]" in prompt and "--version" not in sys.argv:
    # cursor-agent's stream-json: init, then a final result that reports the agent gave up.
    session = str(uuid.uuid4())
    for line in (
        {"type": "system", "subtype": "init", "apiKeySource": "login", "session_id": session},
        {
            "type": "result",
            "subtype": "error",
            "is_error": True,
            "result": "could not apply the patch: src/app.py is read-only",
            "session_id": session,
        },
    ):
        print(json.dumps(line), flush=True)
    raise SystemExit(1)
for marker in ("hang", "crash", "rate_limit"):
    if f"[{marker}]" in prompt:
        os.environ["FAKE_CURSOR_SCENARIO"] = marker
write = re.search(r"\[write ([^\]]+)\]", prompt)
if write:
    os.environ["FAKE_CURSOR_WRITE"] = f"{write.group(1)}:written by the scripted agent\n"
raise SystemExit(main())
