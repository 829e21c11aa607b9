"""A scripted stand-in for an agent CLI, run by the run-loop tests.

Usage: ``python fake_agent.py '<json list of steps>'``. Each step is a list:

    ["out", text]          a line on stdout        ["err", text]       a line on stderr
    ["file", path]         every line of a file    ["err_file", path]  ... on stderr
    ["text", n]            a claude assistant line with n characters of text
    ["flood", n]           n small claude assistant lines
    ["garbage"]            lines that are not JSON, or not UTF-8, or not objects
    ["grandchild", path]   start a sleeping grandchild, write its pid to path
    ["sleep", seconds]     ["exit", code]
"""

import json
import subprocess
import sys
import time


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def assistant(text: str) -> str:
    content = [{"type": "text", "text": text}]
    return json.dumps({"type": "assistant", "message": {"role": "assistant", "content": content}})


def main() -> int:
    for step in json.loads(sys.argv[1]):
        action, args = step[0], step[1:]
        if action == "out":
            out(args[0])
        elif action == "err":
            sys.stderr.write(args[0] + "\n")
            sys.stderr.flush()
        elif action in ("file", "err_file"):
            stream = sys.stdout if action == "file" else sys.stderr
            with open(args[0], encoding="utf-8") as f:
                stream.write(f.read())
            stream.flush()
        elif action == "text":
            out(assistant("x" * args[0]))
        elif action == "flood":
            for i in range(args[0]):
                sys.stdout.write(assistant(f"line {i}") + "\n")
            sys.stdout.flush()
        elif action == "garbage":
            sys.stdout.buffer.write(b'not json at all\n{"type": "assistant", broken\n')
            sys.stdout.buffer.write(b"[1, 2, 3]\n\xff\xfe\x00 binary \x80\n\n   \n42\n")
            sys.stdout.buffer.write(b'{"type": "assistant", "message": "not a dict"}\n')
            sys.stdout.buffer.write(b'{"type": "no-such-event", "x": 1}\n')
            sys.stdout.flush()
        elif action == "grandchild":
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            with open(args[0], "w") as f:
                f.write(str(child.pid))
        elif action == "sleep":
            time.sleep(args[0])
        elif action == "exit":
            return int(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
