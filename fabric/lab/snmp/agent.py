"""The SNMP command responder of the twin: one pysnmp engine in the twin's loop, one UDP socket per switch.

The switch answering a request is the one whose socket it arrived on: each socket is registered under its own
transport domain (``udp.DOMAIN_NAME + (n,)``), and the MIB instrumentation looks the domain up in the
request's execution context. ``snmp-timeout`` drops datagrams on the socket, so the manager sees no answer at
all, not even to v3 engine discovery.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c
from pysnmp.smi import error as smi_error

from fabric.lab.device import LabDevice
from fabric.lab.snmp import AUTH_PROTOCOL, PRIV_PROTOCOL, SnmpCredentials
from fabric.lab.snmp.mib import DeviceMib

SNMP_PORT = 161
COMMUNITY_INDEX = "fabric-lab"
READ_VIEW = (1,)
V2C, USM = 2, 3


class DeviceUdpTransport(udp.UdpAsyncioTransport):  # type: ignore[misc]
    """A switch's UDP socket; silent while the switch has an ``snmp-timeout`` fault, and answering each request
    ``faults.slow_s`` late under ``slow`` (a busy control plane delays SNMP as it delays the CLI)."""

    def __init__(self, device: LabDevice) -> None:
        super().__init__()
        self.device = device

    def datagram_received(self, datagram: bytes, address: Any) -> None:
        if self.device.faults.active("snmp-timeout"):
            return
        if self.device.faults.active("slow"):
            asyncio.get_running_loop().call_later(self.device.faults.slow_s, super().datagram_received, datagram,
                                                  address)
            return
        super().datagram_received(datagram, address)


class LabMibInstrum:
    """pysnmp MIB instrumentation answering from the switch whose socket the request arrived on."""

    def __init__(self) -> None:
        self.by_domain: dict[tuple[int, ...], DeviceMib] = {}

    def _mib(self, var_binds: tuple[Any, ...], context: dict[str, Any]) -> DeviceMib:
        snmp_engine = context["snmpEngine"]
        request = snmp_engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        if var_binds:  # VACM: the group's view is all of 1, so one check stands for every varbind
            context["acFun"]("read", (var_binds[0][0], None), idx=0, **context)
        return self.by_domain[tuple(request["transportDomain"])]

    def read_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        mib = self._mib(var_binds, context)
        return [(name, mib.get(tuple(name))) for name, _ in var_binds]

    def read_next_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        mib = self._mib(var_binds, context)
        return [mib.next(tuple(name)) or (name, rfc1905.endOfMibView) for name, _ in var_binds]

    def write_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        name = var_binds[0][0] if var_binds else None
        raise smi_error.NoAccessError(name=name, idx=0)  # read-only community and user, as rocommunity


class LabBulkResponder(cmdrsp.BulkCommandResponder):  # type: ignore[misc]
    """GETBULK that stops repeating once every repeated varbind is past the end of the MIB view.

    Why: pysnmp's responder fills all M repetitions with endOfMibView; net-snmp's agent ends the response
    there (RFC 3416 §4.2.3 allows it), so ``snmpbulkwalk`` prints the end of the view once.
    """

    def handle_management_operation(self, snmpEngine: Any, stateReference: Any, contextName: Any,
                                    PDU: Any) -> None:
        var_binds = list(v2c.apiPDU.get_varbinds(PDU))
        non_repeaters = min(max(int(v2c.apiBulkPDU.get_non_repeaters(PDU)), 0), len(var_binds))
        repeated = var_binds[non_repeaters:]
        repetitions = max(int(v2c.apiBulkPDU.get_max_repetitions(PDU)), 0)
        if repeated:
            repetitions = min(repetitions, self.max_varbinds // len(repeated))
        read_next = self.snmpContext.get_mib_instrum(contextName).read_next_variables
        context = {"snmpEngine": snmpEngine, "acFun": self.verify_access, "cbCtx": self.cbCtx}
        response = read_next(*var_binds[:non_repeaters], **context) if non_repeaters else []
        while repetitions and repeated:
            repeated = read_next(*repeated, **context)
            response.extend(repeated)
            if all(value is rfc1905.endOfMibView for _, value in repeated):
                break
            repetitions -= 1
        self.send_varbinds(snmpEngine, stateReference, 0, 0, response)
        self.release_state_information(stateReference)


@dataclass
class SnmpAgent:
    """The running agent: ``ports`` gives each switch's (address, port); ``close()`` stops it."""

    engine: Any
    ports: dict[str, tuple[str, int]] = field(default_factory=dict)

    def close(self) -> None:
        self.engine.close_dispatcher()


def _engine(credentials: SnmpCredentials) -> Any:
    snmp_engine = engine.SnmpEngine()
    config.add_v1_system(snmp_engine, COMMUNITY_INDEX, credentials.community)
    config.add_vacm_user(snmp_engine, V2C, COMMUNITY_INDEX, "noAuthNoPriv", READ_VIEW)
    auth = {"SHA": config.USM_AUTH_HMAC96_SHA}[AUTH_PROTOCOL]
    priv = {"AES": config.USM_PRIV_CFB128_AES}[PRIV_PROTOCOL]
    config.add_v3_user(snmp_engine, credentials.user, auth, credentials.auth_key, priv, credentials.priv_key)
    config.add_vacm_user(snmp_engine, USM, credentials.user, "authPriv", READ_VIEW)
    return snmp_engine


def _socket(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    sock.setblocking(False)
    return sock


def start_snmp(devices: list[LabDevice], credentials: SnmpCredentials, free_ports: bool) -> SnmpAgent:
    """Serve SNMP for ``devices`` (switches) from the running asyncio loop, on port 161 or free ports."""
    snmp_engine = _engine(credentials)
    instrum = LabMibInstrum()
    agent = SnmpAgent(snmp_engine)
    for n, device in enumerate(devices, start=1):
        sock = _socket(device.address, 0 if free_ports else SNMP_PORT)
        domain = (*udp.DOMAIN_NAME, n)
        config.add_transport(snmp_engine, domain, DeviceUdpTransport(device).open_server_mode(sock=sock))
        instrum.by_domain[domain] = DeviceMib(device)
        agent.ports[device.name] = sock.getsockname()
    snmp_context = context.SnmpContext(snmp_engine)
    snmp_context.unregister_context_name(b"")
    snmp_context.register_context_name(b"", instrum)
    for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder, LabBulkResponder,
                      cmdrsp.SetCommandResponder):
        responder(snmp_engine, snmp_context)
    return agent
