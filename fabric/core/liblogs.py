"""Third-party libraries' log records stay off stderr: a device's failure reaches the user as fabric's one line.

pyeapi logs every refused connection with ``_LOGGER.exception`` (a traceback) and ``pyeapi.utils`` adds its own
stderr handler on import; paramiko, netmiko, napalm, ncclient, asyncssh and urllib3 log their own errors too.
Their records go nowhere: a NullHandler each, no propagation to the root or to logging's last-resort handler.
"""

from __future__ import annotations

import logging

THIRD_PARTY_LOGGERS = ("pyeapi", "paramiko", "netmiko", "napalm", "ncclient", "asyncssh", "urllib3")


def quiet_third_party_loggers() -> None:
    """Keep third-party log records (and their tracebacks) off stderr; idempotent."""
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    # pyeapi.utils sets its own level and stderr/syslog handlers on import; ``disabled`` survives the import
    logging.getLogger("pyeapi.utils").disabled = True
