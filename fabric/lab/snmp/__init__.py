"""The twin's SNMP agent: every switch answers v2c and v3 (authPriv SHA/AES-128) with live counters.

The community and the v3 keys are lab secrets derived from the lab password, so ``fabric lab status``
never prints them. A test or a collector gets them with ``load_credentials(lab)``::

    creds = load_credentials(lab)   # SnmpCredentials(community='...', user='fabric', auth_key=..., priv_key=...)
    ep = lab.endpoint("leaf1", "snmp")   # {"address": "127.0.1.11", "port": 40123, ...}

This module imports no pysnmp: the agent lives in ``fabric.lab.snmp.agent``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Protocol

V3_USER = "fabric"
AUTH_PROTOCOL = "SHA"  # usmHMACSHAAuthProtocol; net-snmp -a SHA
PRIV_PROTOCOL = "AES"  # usmAesCfb128Protocol (AES-128); net-snmp -x AES


@dataclass(frozen=True)
class SnmpCredentials:
    """What an SNMP manager needs to poll the twin's switches."""

    community: str
    user: str
    auth_key: str
    priv_key: str

    def __repr__(self) -> str:  # keep secrets out of pytest output and logs
        return f"SnmpCredentials(user={self.user!r}, community=..., auth_key=..., priv_key=...)"


class HasPassword(Protocol):
    @property
    def password(self) -> str: ...


def _derive(password: str, purpose: str) -> str:
    return hmac.new(password.encode(), f"fabric-lab-snmp:{purpose}".encode(), hashlib.sha256).hexdigest()[:24]


def derive_credentials(password: str) -> SnmpCredentials:
    """The SNMP secrets of a lab whose password is ``password`` (same password, same secrets)."""
    return SnmpCredentials(_derive(password, "community"), V3_USER, _derive(password, "auth"),
                           _derive(password, "priv"))


def endpoint_keys() -> dict[str, Any]:
    """What ``lab.json`` says about an SNMP endpoint beyond address and port: where the secrets come from."""
    return {"versions": ["2c", "3"], "community": "derived: fabric.lab.snmp.load_credentials(lab).community",
            "v3_user": V3_USER, "v3_auth": AUTH_PROTOCOL, "v3_priv": "AES128",
            "credentials": "credentials.json#password -> fabric.lab.snmp.load_credentials(lab)"}


def load_credentials(lab: HasPassword) -> SnmpCredentials:
    """The SNMP secrets of a running lab (``fabric.lab.control.Lab``), read from its state dir."""
    return derive_credentials(lab.password)


__all__ = ["AUTH_PROTOCOL", "PRIV_PROTOCOL", "V3_USER", "SnmpCredentials", "derive_credentials", "endpoint_keys",
           "load_credentials"]
