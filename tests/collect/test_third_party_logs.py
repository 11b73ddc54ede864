"""Third-party libraries (pyeapi above all, which logs each refused connection with a traceback and adds its
own stderr handler) never print to stderr from ``fabric collect`` or ``fabric deploy``: a device's failure is
our one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import logging, socket
logging.basicConfig(level=logging.WARNING)  # as `fabric collect` does; deploy leaves logging's last resort
from {module} import quiet_third_party_loggers
quiet_third_party_loggers()
import pyeapi
from pyeapi.eapilib import _LOGGER
from pyeapi.utils import debug
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
except OSError as exc:
    _LOGGER.exception(exc)
debug("pyeapi note")
node = pyeapi.connect(transport="http", host="127.0.0.1", port=9, username="u", password="p", timeout=2)
try:
    node.execute(["show version"])
except Exception:
    pass
for name in ("paramiko.transport", "netmiko", "napalm", *{extra}):
    logging.getLogger(name).error("boom", exc_info=(ValueError, ValueError("x"), None))
print("done")
"""


@pytest.mark.parametrize(("module", "extra"), [("fabric.collect.run", ("asyncssh",)), ("fabric.deploy.run", ())])
def test_pyeapi_and_ssh_library_tracebacks_stay_off_stderr(module: str, extra: tuple[str, ...]) -> None:
    script = SCRIPT.format(module=module, extra=extra)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "done", result.stderr
    assert result.stderr == ""
