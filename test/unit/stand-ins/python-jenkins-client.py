"""Drives a Jenkins (here: the stand-in) with Debian's python3-jenkins, a client no one here wrote.

Usage: /usr/bin/python3 python-jenkins-client.py URL USER TOKEN STEPS_JSON
STEPS_JSON is a list of [method, *args] calls on one jenkins.Jenkins; prints a JSON list with
{"ok": return value} or {"error": exception class, "message": text} for each step.
"""
import json
import sys

import jenkins

url, user, token, steps = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
server = jenkins.Jenkins(url, username=user, password=token, timeout=10)
out = []
for method, *args in steps:
    try:
        out.append({"ok": getattr(server, method)(*args)})
    except Exception as e:  # the test asserts on the class and message
        out.append({"error": type(e).__name__, "message": str(e)})
print(json.dumps(out))
