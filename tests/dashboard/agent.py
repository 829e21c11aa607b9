"""The scripted cursor-agent, with its scenario picked from markers in the prompt.

``[hang]`` runs until stopped, ``[crash]`` crashes, ``[write NAME]`` writes NAME through a
tool call; anything else succeeds. It lets one configuration serve every dashboard test.
"""

from __future__ import annotations

import os
import re
import sys

from ado.testing.fake_cursor_agent import main

prompt = " ".join(sys.argv[1:])
for marker in ("hang", "crash", "rate_limit"):
    if f"[{marker}]" in prompt:
        os.environ["FAKE_CURSOR_SCENARIO"] = marker
write = re.search(r"\[write ([^\]]+)\]", prompt)
if write:
    os.environ["FAKE_CURSOR_WRITE"] = f"{write.group(1)}:written by the scripted agent\n"
raise SystemExit(main())
