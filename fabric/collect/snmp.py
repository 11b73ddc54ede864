"""SNMP source: one pysnmp engine, every device polled concurrently with GETBULK over all wanted columns at
once (one request walks every column in step), each device under its own deadline.

Measurements (DESIGN §7): ``interface`` (IF-MIB HC octets/packets, 32-bit discards/errors, IEEE PFC totals),
``pfc`` (per priority, CISCO-PFC-EXT-MIB), ``queue`` (per egress queue, CISCO-SWITCH-QOS-MIB), ``device``
(sysUpTime, used by processing to detect reboots).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from fabric.collect.table import snmp_groups
from fabric.core.sample import Sample

Oid = tuple[int, ...]

SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
IF_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IEEE_PFC: Oid = (1, 3, 111, 2, 802, 1, 1, 21, 1, 1, 1)
CPFC_PRIORITY: Oid = (1, 3, 6, 1, 4, 1, 9, 9, 813, 1, 2, 1)
CSQ_VALUE: Oid = (1, 3, 6, 1, 4, 1, 9, 9, 580, 1, 5, 5, 1, 4)

# (column oid, measurement, field, counter width in bits; 0 = a gauge/state, not a counter)
COLUMNS: dict[str, tuple[tuple[Oid, str, str, int], ...]] = {
    "if": (((*IFX_ENTRY, 1), "interface", "name", 0),
           ((*IF_ENTRY, 8), "interface", "oper_status", 0),
           ((*IFX_ENTRY, 6), "interface", "rx_octets", 64), ((*IFX_ENTRY, 7), "interface", "rx_ucast_pkts", 64),
           ((*IFX_ENTRY, 10), "interface", "tx_octets", 64), ((*IFX_ENTRY, 11), "interface", "tx_ucast_pkts", 64),
           ((*IF_ENTRY, 13), "interface", "rx_discards", 32), ((*IF_ENTRY, 14), "interface", "rx_errors", 32),
           ((*IF_ENTRY, 19), "interface", "tx_discards", 32), ((*IF_ENTRY, 20), "interface", "tx_errors", 32)),
    "ieee_pfc": (((*IEEE_PFC, 2), "interface", "tx_pfc_frames", 32),
                 ((*IEEE_PFC, 3), "interface", "rx_pfc_frames", 32)),
    "cisco_pfc": (((*CPFC_PRIORITY, 2), "pfc", "tx_pfc_frames", 64),
                  ((*CPFC_PRIORITY, 3), "pfc", "rx_pfc_frames", 64)),
    "cisco_queue": ((CSQ_VALUE, "queue", "", 64),),
}
# what a failed request's error indication means for the operator (the agent's reason is kept first)
HINTS = {"RequestTimedOut": "; check the address and UDP port, and that the agent allows this collector",
         "RequestTimedOut/v2c": "; check the address and UDP port, that the agent allows this collector, and the v2c "
                                "community (FABRIC_SNMP_COMMUNITY): agents ignore a wrong one",
         "WrongDigest": "; the agent does not accept the SNMPv3 auth key (FABRIC_SNMP_AUTH_KEY, SHA)",
         "DecryptionError": "; the agent does not accept the SNMPv3 privacy key (FABRIC_SNMP_PRIV_KEY, AES-128)",
         "UnknownUserName": "; the agent has no such SNMPv3 user (FABRIC_SNMP_USER)",
         "UnsupportedSecurityLevel": "; the agent's SNMPv3 user is not set up for authPriv (SHA/AES-128)"}
CSQ_STATS = {1: "tx_pkts", 2: "tx_bytes", 5: "drop_pkts", 6: "drop_bytes"}
EGRESS = 2

WIDTHS: dict[tuple[str, str], int] = {(m, f): w for cols in COLUMNS.values() for _, m, f, w in cols if w}
WIDTHS |= {("queue", name): 64 for name in CSQ_STATS.values()}


@dataclass(frozen=True)
class SnmpAuth:
    """v2c community, or v3 authPriv SHA/AES user and keys. ``repr`` never shows a secret."""

    community: str | None = None
    user: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"SnmpAuth(v3 user={self.user})" if self.user else "SnmpAuth(v2c)"


@dataclass(frozen=True)
class SnmpTarget:
    """One agent to poll."""

    device: str
    platform: str
    address: str
    port: int = 161


@dataclass
class PollResult:
    """Samples of one device, or the reason it produced none this cycle."""

    device: str
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


class SnmpPoller:
    """Polls many agents concurrently through one pysnmp engine (cheap per-device state, one UDP dispatcher)."""

    def __init__(self, auth: SnmpAuth, timeout_s: float = 2.0, retries: int = 1, max_repetitions: int = 32,
                 varbinds_per_pdu: int = 256) -> None:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        self.auth, self.timeout_s, self.retries, self.max_repetitions = auth, timeout_s, retries, max_repetitions
        self.varbinds_per_pdu = varbinds_per_pdu
        self.engine = SnmpEngine()
        self._auth_data = self._make_auth()
        self._targets: dict[SnmpTarget, str] = {}

    def _make_auth(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, UsmUserData, usmAesCfb128Protocol, usmHMACSHAAuthProtocol

        if self.auth.user:
            return UsmUserData(self.auth.user, self.auth.auth_key, self.auth.priv_key,
                               authProtocol=usmHMACSHAAuthProtocol, privProtocol=usmAesCfb128Protocol)
        return CommunityData(self.auth.community or "public")

    def close(self) -> None:
        self.engine.close_dispatcher()

    async def poll_all(self, targets: list[SnmpTarget], deadline_s: float) -> list[PollResult]:
        """Every target at once; a device past ``deadline_s`` is reported failed, never waited for."""
        return list(await asyncio.gather(*(self.poll(t, deadline_s) for t in targets)))

    async def poll(self, target: SnmpTarget, deadline_s: float) -> PollResult:
        """One device's samples. A walk the deadline cuts keeps the columns it finished and the rows it read of
        the others (the in-step walk finishes IF-MIB and PFC first; the deep queue table walks last), so a big or
        slow agent still gives its ports' counters."""
        start = time.monotonic()
        walk = Walk()
        try:
            await asyncio.wait_for(self._poll(target, walk), deadline_s)
            return PollResult(target.device, walk.samples(target.device), walk.problem(), time.monotonic() - start)
        except TimeoutError:
            return self._cut(target, walk, deadline_s, start)
        except SnmpError as exc:
            return PollResult(target.device, [], str(exc), time.monotonic() - start)

    @staticmethod
    def _cut(target: SnmpTarget, walk: Walk, deadline_s: float, start: float) -> PollResult:
        """What a walk the deadline stopped read, with the line that says so."""
        if not any(walk.found):
            return PollResult(target.device, [], f"no answer within {deadline_s:g} s", time.monotonic() - start)
        try:
            samples = walk.samples(target.device)
        except SnmpError as exc:
            return PollResult(target.device, [], str(exc), time.monotonic() - start)
        finished = sum(1 for k in range(len(walk.found)) if k not in walk.cursor)
        return PollResult(target.device, samples, f"walk cut at the {deadline_s:g} s deadline: {finished} of "
                          f"{len(walk.found)} columns read whole, the rest in part; a longer --deadline reads them "
                          "whole", time.monotonic() - start)

    async def _transport(self, target: SnmpTarget) -> str:
        """The engine's target name for ``target``, configured once (hlapi's LCD: transport, auth, params)."""
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget
        from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD

        if target not in self._targets:
            from pysnmp.error import PySnmpError
            from pysnmp.hlapi.v3arch.asyncio import Udp6TransportTarget

            kind = Udp6TransportTarget if ":" in target.address else UdpTransportTarget  # IPv6 management
            try:
                transport = await kind.create((target.address, target.port), timeout=self.timeout_s,
                                              retries=self.retries)
            except PySnmpError as exc:  # a name that does not resolve (typo, DNS down): this device's failure
                cause = exc.cause[1] if isinstance(getattr(exc, "cause", None), tuple) else None  # sys.exc_info()
                why = cause.strerror if isinstance(cause, OSError) and cause.strerror else exc
                raise SnmpError(f"cannot resolve SNMP address {target.address!r} ({why}); fix the "
                                "device's hostname in the inventory or its DNS record") from None
            try:
                self._targets[target] = LCD.configure(self.engine, self._auth_data, transport, b"")[0]
            except PySnmpError:  # pysnmp refuses the USM keys themselves
                raise SnmpError("the SNMPv3 auth or privacy key is not usable (RFC 3414 wants 8 characters or "
                                "more); fix FABRIC_SNMP_AUTH_KEY/FABRIC_SNMP_PRIV_KEY") from None
        return str(self._targets[target])

    async def _request(self, target: SnmpTarget, name: str, oids: list[Oid], repetitions: int = 0) -> list[Any]:
        """One GET (``repetitions`` 0) or GETBULK with raw OIDs, through pysnmp's command generators directly:
        hlapi would resolve every OID against the MIB tree on each request (and build pysmi's MIB compiler on the
        first, over a second of CPU), work a poller that never prints names does not need. (name, value) pairs."""
        from pysnmp.entity.rfc3413 import cmdgen
        from pysnmp.proto.rfc1902 import Null, ObjectName

        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()

        def done(_engine: Any, _handle: Any, error: Any, status: Any, index: Any, binds: Any, _ctx: Any) -> None:
            if future.cancelled():
                return
            if error:
                kind = type(error).__name__ + ("/v2c" if not self.auth.user else "")
                future.set_exception(SnmpError(f"{error}{HINTS.get(kind, HINTS.get(type(error).__name__, ''))}"))
            elif status:
                future.set_exception(AgentError(status.prettyPrint(), int(index or 0)))
            else:
                future.set_result(list(binds))

        binds = [(ObjectName(oid), Null("")) for oid in oids]
        if repetitions:
            cmdgen.BulkCommandGenerator().send_varbinds(self.engine, name, None, b"", 0, repetitions, binds, done)
        else:
            cmdgen.GetCommandGenerator().send_varbinds(self.engine, name, None, b"", binds, done)
        return await future

    async def _poll(self, target: SnmpTarget, walk: Walk) -> None:
        name = await self._transport(target)
        walk.started_ns = time.time_ns()
        binds = await self._request(target, name, [SYS_UPTIME])
        # an agent whose view leaves out sysUpTime (a view of IF-MIB only) answers noSuchObject: no device
        # sample, and a reboot still shows as counters that fell
        walk.uptime = None if binds[0][1].tagSet in _END_TAGS else int(binds[0][1])
        walk.columns = [col for group in snmp_groups(target.platform) for col in COLUMNS[group]]
        await self._walk(target, name, [col[0] for col in walk.columns], walk)

    async def _walk(self, target: SnmpTarget, name: str, roots: list[Oid], walk: Walk) -> None:
        """GETBULK every column in step until each leaves its subtree, into ``walk.found`` ({index suffix: value}
        per column); ``walk.cursor`` holds the columns not finished. An error status from the agent (genErr: a
        subagent behind net-snmp that timed out) ends the walk in step: the columns then go one at a time, and a
        column the agent fails even one row at a time ends there, counted in ``walk.failed`` (a GETBULK's error
        index is not reliable, and a column running past its end reaches the failing subtree too)."""
        walk.found, walk.cursor = [{} for _ in roots], dict(enumerate(roots))
        alone = False
        while walk.cursor:
            active = list(walk.cursor)[:1] if alone else list(walk.cursor)
            # keep each response near the same size as the columns finish (the deep queue table walks last)
            repetitions = max(self.max_repetitions, self.varbinds_per_pdu // len(active))
            try:
                binds = await self._request(target, name, [walk.cursor[k] for k in active], repetitions)
            except AgentError as exc:
                if not alone:
                    alone = True
                    continue
                try:  # one row: a column that ends right before the failing subtree still ends well
                    binds = await self._request(target, name, [walk.cursor[active[0]]], 1)
                except AgentError:
                    walk.failed[active[0]] = exc.status
                    walk.cursor.pop(active[0])
                    continue
            self._take(binds, active, roots, walk)

    @staticmethod
    def _take(binds: list[Any], active: list[int], roots: list[Oid], walk: Walk) -> None:
        """File one GETBULK response's rows under their columns; a column that left its subtree is finished."""
        done: set[int] = set()
        for n, (oid_value, value) in enumerate(binds):
            k = active[n % len(active)]
            if k in done:
                continue
            oid, root = oid_value.asTuple(), roots[k]
            # an OID that does not increase (a broken agent) would walk the same rows until the deadline
            if oid[:len(root)] != root or value.tagSet in _END_TAGS or oid <= walk.cursor[k]:
                done.add(k)
                continue
            walk.found[k][oid[len(root):]] = value
            walk.cursor[k] = oid
        for k in active:
            if k in done or not binds:
                walk.cursor.pop(k, None)


@dataclass
class Walk:
    """One device's poll as it goes: what the deadline leaves of it is still worth writing."""

    started_ns: int = 0
    uptime: int | None = None
    columns: list[tuple[Oid, str, str, int]] = field(default_factory=list)
    found: list[dict[Oid, Any]] = field(default_factory=list)
    cursor: dict[int, Oid] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)  # columns the agent answered with an error status

    def problem(self) -> str | None:
        """The line for columns the agent would not serve, if any."""
        if not self.failed:
            return None
        oids = ", ".join(".".join(map(str, self.columns[k][0])) for k in sorted(self.failed))
        statuses = "/".join(sorted(set(self.failed.values())))
        return f"the agent answered {statuses} walking {oids}; the rows before it and the other columns were read"

    def samples(self, device: str) -> list[Sample]:
        ts_ns = (self.started_ns + time.time_ns()) // 2  # the middle of the walk: the counters' best common time
        head = [] if self.uptime is None else [Sample("device", {"device": device}, {"uptime_ticks": self.uptime},
                                                      ts_ns)]
        return [*head, *assemble(device, self.columns, self.found, ts_ns)]


class SnmpError(Exception):
    """An agent answered with an error, or the request failed below the deadline (auth, unreachable)."""


class AgentError(SnmpError):
    """The agent answered a request with an error status (``genErr``...) at ``index`` (1-based, 0: the whole
    request)."""

    def __init__(self, status: str, index: int) -> None:
        super().__init__(f"the agent answered {status}")
        self.status, self.index = status, index


def _end_tags() -> set[Any]:
    from pysnmp.proto import rfc1905

    return {rfc1905.endOfMibView.tagSet, rfc1905.noSuchObject.tagSet, rfc1905.noSuchInstance.tagSet}


_END_TAGS = _end_tags()


def assemble(device: str, columns: list[tuple[Oid, str, str, int]], rows: list[dict[Oid, Any]],
             ts_ns: int) -> list[Sample]:
    """Pure: walked columns -> samples keyed by ifName, priority and queue (a pysnmp value is ``int()``-able).
    Points are keyed by plain tuples and their tags built once per point (tens of thousands of values a cycle)."""
    names: dict[int, str] = {}
    for (_, _, name, _), values in zip(columns, rows, strict=True):
        if name == "name":
            names = {index[0]: str(value) for index, value in values.items()}
    points: dict[tuple[str, int, str], dict[str, int | float | str | bool]] = {}
    for (column, measurement, field_name, _), values in zip(columns, rows, strict=True):
        if field_name == "name":
            continue
        for index, value in values.items():
            if measurement == "interface":
                key, name = (measurement, index[0], ""), field_name
            elif measurement == "pfc" and len(index) == 2:
                key, name = (measurement, index[0], str(index[1])), field_name
            elif measurement == "queue" and len(index) == 4 and index[1] == EGRESS and index[3] in CSQ_STATS:
                key, name = (measurement, index[0], str(index[2] - 1)), CSQ_STATS[index[3]]
            else:
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                oid = ".".join(map(str, (*column, *index)))
                raise SnmpError(f"{oid} is {value.prettyPrint()!r} ({type(value).__name__}), not a "
                                "counter; the agent serves a wrong type there (check its MIB support)") from None
            fields = points.get(key)
            if fields is None:
                fields = points[key] = {}
            fields[name] = number
    sub = {"pfc": "priority", "queue": "queue"}
    samples = []
    for (measurement, if_index, detail), fields in points.items():
        # an empty ifName (some agents' internal or logical ports) would drop the tag and merge those ports into
        # one series: they keep their ifIndex instead, as a port without an ifName does
        tags = {"device": device, "interface": names.get(if_index, "").strip() or str(if_index)}
        if detail:
            tags[sub[measurement]] = detail
        samples.append(Sample(measurement, tags, fields, ts_ns))
    return samples
