"""EOS ``show`` commands of the twin, in both eAPI formats (JSON object and text), fed by the device state.

JSON shapes follow what EOS returns and what real consumers read (napalm eos, ANTA, Arista's own SNMP
extensions): ``show version`` (napalm's fixture fields), ``show configuration sessions``, ``show priority-flow-control
counters`` (``interfaceCounters.<port>.rxFrames/txFrames``), ``... counters detail`` (``interfaces.<port>
.priorities.<p>.rxFrames/txFrames``), ``show interfaces counters queue [detail]`` (``egressQueueCounters.interfaces
.<port>.ucastQueues.trafficClasses.TC<n>`` with enqueued/dropped packets/bytes; detail adds ``dropPrecedences.DP0``)
and ``show qos interfaces ecn counters queue`` (``intfQueueCounters.<port>.queueCounters.<q>``, marked packets).
Text layouts of the counter commands are the lab's approximation of EOS tables.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fabric.lab.device import LabDevice
from fabric.lab.eos_config import (
    MODEL,
    VERSION,
    ConfigError,
    Syntax,
    Walk,
    diff,
    hostname,
    interface_name,
    refusal,
    render_body,
    render_json,
    walk,
)
from fabric.lab.eos_state import EosState


class CommandError(Exception):
    """A command eAPI refuses: JSON-RPC ``code``, the ``kind`` of its message, and EOS's error text."""

    def __init__(self, code: int, kind: str, error: str) -> None:
        super().__init__(error)
        self.code, self.kind, self.error = code, kind, error


def invalid(error: str) -> CommandError:
    return CommandError(1002, "invalid command", error)


def failed(error: str) -> CommandError:
    return CommandError(1000, "could not run command", error)


@dataclass
class Output:
    """One command's result: its text, and its JSON object (None: EOS has no JSON form of it)."""

    text: str = ""
    json: dict[str, Any] | None = field(default_factory=dict)


@dataclass
class ShowContext:
    device: LabDevice
    state: EosState
    session: str | None  # the configuration session the CLI is in, if any


# -- device and configuration ----------------------------------------------------------------------

def _version(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    name, boot = ctx.device.name, ctx.device.counters.boot_time
    serial = "JPE" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()
    mac = "00:1c:73:" + ":".join(f"{int(o):02x}" for o in ctx.device.address.split(".")[1:])
    uptime = time.time() - boot
    data = {"mfgName": "Arista", "modelName": MODEL, "hardwareRevision": "11.00", "serialNumber": serial,
            "systemMacAddress": mac, "hwMacAddress": mac, "configMacAddress": "00:00:00:00:00:00",
            "version": VERSION, "architecture": "x86_64", "internalVersion": f"{VERSION}-31408673.4300F",
            "internalBuildId": "a35f0dc7-2d65-4f2a-a010-279cf445fd8c", "imageFormatVersion": "3.0",
            "imageOptimization": "Strata-4GB", "bootupTimestamp": boot, "uptime": uptime,
            "memTotal": 8099732, "memFree": 5713840, "isIntlVersion": False}
    hours, minutes = int(uptime // 3600), int(uptime % 3600 // 60)
    text = (f"Arista {MODEL}\nHardware version: 11.00\nSerial number: {serial}\nHardware MAC address: {mac}\n"
            f"System MAC address: {mac}\n\nSoftware image version: {VERSION}\nArchitecture: x86_64\n"
            f"Internal build version: {data['internalVersion']}\nInternal build ID: {data['internalBuildId']}\n"
            f"Image format version: 3.0\nImage optimization: Strata-4GB\n\n"
            f"Uptime: {hours} hours and {minutes} minutes\nTotal memory: 8099732 kB\nFree memory: 5713840 kB\n\n")
    return Output(text, data)


def _hostname(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    name = hostname(ctx.state.running)
    return Output(f"Hostname: {name}\nFQDN:     {name}\n", {"hostname": name, "fqdn": name})


def _running(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    body = render_body(ctx.state.running)
    data = {**render_json(ctx.state.running), "header": [body[0], body[2]]}
    return Output(ctx.state.show(ctx.state.running, " ".join(("show", *words))), data)


def _startup(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    return Output("! Command: show startup-config\n" + ctx.state.startup, None)


def _session_config(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    name = words[words.index("named") + 1] if "named" in words else ctx.session
    if name is None:
        raise failed("Not currently in a configuration session")
    try:
        session = ctx.state.pending(name)
    except ConfigError as error:
        raise failed(str(error)) from None
    if words[-1] == "diffs":
        return Output(diff(render_body(ctx.state.running), render_body(session.config), name), None)
    return Output(ctx.state.show(session.config, " ".join(("show", *words))), None)


def _sessions(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    data = ctx.state.sessions_json()
    rows = [f"  {n:<24} {s['state']:<12} {s['commitUser']}" for n, s in data["sessions"].items()]
    text = (f"Maximum number of completed sessions: {data['maxSavedSessions']}\n"
            f"Maximum number of pending sessions: {data['maxOpenSessions']}\n\n"
            f"  {'Name':<24} {'State':<12} User\n  {'-' * 24} {'-' * 12} ----\n" + "".join(r + "\n" for r in rows))
    return Output(text, data)


# -- counters --------------------------------------------------------------------------------------

def _ports(ctx: ShowContext, words: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """The counters of the port named in ``words``, or of every port."""
    named = [w for w in words if interface_name(w) is not None]
    ports = ctx.device.counters.ports
    if not named:
        return ports
    if named[0] not in ports:
        raise failed("Interface does not exist")
    return {named[0]: ports[named[0]]}


def _table(header: str, rows: list[str]) -> str:
    return "".join(line + "\n" for line in [header, *rows])


def _short(port: str) -> str:
    return port.replace("Ethernet", "Et")


def _pfc(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    ports = _ports(ctx, words)
    if "detail" in words:
        data = {"interfaces": {p: {"priorities": {str(pr): {"rxFrames": c[f"rx_pfc{pr}_frames"],
                                                            "txFrames": c[f"tx_pfc{pr}_frames"]} for pr in range(8)}}
                               for p, c in ports.items()}}
        rows = [f"{_short(p):<12}{pr:>9}{v['rxFrames']:>16}{v['txFrames']:>16}"
                for p, d in data["interfaces"].items() for pr, v in d["priorities"].items()]
        return Output(_table(f"{'Port':<12}{'Priority':>9}{'RxPfc':>16}{'TxPfc':>16}", rows), data)
    totals = {p: {"rxFrames": sum(c[f"rx_pfc{pr}_frames"] for pr in range(8)),
                  "txFrames": sum(c[f"tx_pfc{pr}_frames"] for pr in range(8))} for p, c in ports.items()}
    rows = [f"{_short(p):<12}{v['rxFrames']:>16}{v['txFrames']:>16}" for p, v in totals.items()]
    return Output(_table(f"{'Port':<12}{'RxPfc':>16}{'TxPfc':>16}", rows), {"interfaceCounters": totals})


def _queue_counts(c: dict[str, int], q: int, detail: bool) -> dict[str, Any]:
    counts: dict[str, Any] = {"enqueuedPackets": c[f"q{q}_tx_pkts"], "enqueuedBytes": c[f"q{q}_tx_bytes"],
                              "droppedPackets": c[f"q{q}_drop_pkts"], "droppedBytes": c[f"q{q}_drop_bytes"]}
    return {**counts, "dropPrecedences": {"DP0": dict(counts)}} if detail else counts


def _queues(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    ports, detail = _ports(ctx, words), "detail" in words
    egress = {p: {"ucastQueues": {"trafficClasses": {f"TC{q}": _queue_counts(c, q, detail) for q in range(8)}},
                  "mcastQueues": {"trafficClasses": {}}} for p, c in ports.items()}
    rows = [f"{_short(p):<12}UC{q:<4}{c[f'q{q}_tx_pkts']:>16}{c[f'q{q}_tx_bytes']:>18}{c[f'q{q}_drop_pkts']:>14}"
            f"{c[f'q{q}_drop_bytes']:>16}" for p, c in ports.items() for q in range(8)]
    head = f"{'Port':<12}{'TxQ':<6}{'Counter/pkts':>16}{'Counter/bytes':>18}{'Drop/pkts':>14}{'Drop/bytes':>16}"
    return Output(_table(head, rows),
                  {"egressQueueCounters": {"interfaces": egress}, "ingressVoqCounters": {"interfaces": {}}})


def _ecn(ctx: ShowContext, words: tuple[str, ...]) -> Output:
    ports = _ports(ctx, words)
    data = {"intfQueueCounters": {p: {"queueCounters": {str(q): c[f"q{q}_ecn_marked_pkts"] for q in range(8)}}
                                  for p, c in ports.items()}}
    rows = [f"{_short(p):<12}{q:>6}{n:>20}" for p, d in data["intfQueueCounters"].items()
            for q, n in d["queueCounters"].items()]
    return Output(_table(f"{'Port':<12}{'TxQ':>6}{'ECN Marked Pkts':>20}", rows), data)


Handler = Callable[[ShowContext, tuple[str, ...]], Output]

SHOW: list[tuple[Syntax, Handler]] = [
    (Syntax("show version"), _version),
    (Syntax("show hostname"), _hostname),
    (Syntax("show running-config [sanitized]"), _running),  # the model holds no secrets: sanitized is the same
    (Syntax("show startup-config"), _startup),
    (Syntax("show session-config [named <WORD>] [diffs]"), _session_config),
    (Syntax("show configuration sessions [detail]"), _sessions),
    (Syntax("show priority-flow-control [interfaces <IFNAME>] counters [detail]"), _pfc),
    (Syntax("show interfaces [<IFNAME>] priority-flow-control counters [detail]"), _pfc),
    (Syntax("show interfaces [<IFNAME>] counters queue [detail]"), _queues),
    (Syntax("show qos interfaces [<IFNAME>] ecn counters queue"), _ecn),
]


def show(ctx: ShowContext, command: str) -> Output:
    """Run a show command, with EOS output pipes (``| include|exclude|begin|section REGEX``) on its text."""
    command, *pipes = command.split(" | ")
    tokens = command.split()
    best = Walk("fail", 0)
    for syntax, handler in SHOW:
        for pattern in syntax.patterns:
            found = walk(pattern, tokens)
            if found.status == "full":
                return _piped(handler(ctx, found.canon[1:]), pipes)
            best = best.better(found)
    raise invalid(str(refusal(tokens, best)))


def _piped(output: Output, pipes: list[str]) -> Output:
    if not pipes:
        return output
    text = output.text
    for pipe in pipes:
        verb, _, pattern = pipe.strip().partition(" ")
        if verb not in ("include", "exclude", "begin", "section") or not pattern:
            raise invalid(f"Invalid input (at token 0: '{verb}')")
        text = _filter(text, verb, re.compile(pattern))
    return Output(text, None)  # a filtered output has no JSON form


def _filter(text: str, verb: str, pattern: re.Pattern[str]) -> str:
    lines = text.splitlines()
    if verb == "begin":
        start = next((i for i, line in enumerate(lines) if pattern.search(line)), len(lines))
        kept = lines[start:]
    elif verb == "section":
        blocks: list[list[str]] = []
        for line in lines:
            if line.startswith(" ") and blocks:
                blocks[-1].append(line)
            else:
                blocks.append([line])
        kept = [line for block in blocks if any(pattern.search(x) for x in block) for line in block]
    else:
        kept = [line for line in lines if bool(pattern.search(line)) == (verb == "include")]
    return "".join(line + "\n" for line in kept)
