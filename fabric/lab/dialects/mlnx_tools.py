"""MLNX_OFED's ``mlnx_qos`` (Mellanox/mlnx-tools python/mlnx_qos) on a lab host's mlx5 DCB state.

mlnx_qos follows the tool's own order: dcbx, cable_len, -P/-F, pfc, dscp2prio, defltprio, trust, buffers,
ratelimit, ets; each step is a dcbnl request that the kernel may refuse, and a refusal ends the run with the
tool's message for that step (earlier steps stay applied, as on a real host). Every run ends by printing the
state (its ``pretty_print``): DCBX mode, trust, the DSCP app table in kernel list order, buffers, cable length,
PFC, and each TC with its priorities. Refusals: no CAP_NET_ADMIN (not root) or the ``reject-config`` fault ->
``Netlink error: Operation not permitted (1)``; mlx5 rejecting a value (ETS sum != 100, unknown app entry) ->
``Netlink error: Bad value. see dmesg.``; an unknown netdev -> ``Netlink error: No such device (19)``.
"""

from __future__ import annotations

import io
import optparse  # the real tool parses with optparse: same option syntax and error texts
from collections.abc import Callable

from fabric.lab.dialects.host_shell import Ctx, Result
from fabric.lab.dialects.host_state import TSA_NAMES, QosState

PORT_BUFFER_BYTES = 262016  # a ConnectX port receive buffer as mlx5 reports it (DCB_ATTR_DCB_BUFFER total)
BUFFER_CELL = 128
EPERM = "Netlink error: Operation not permitted (1)"
EINVAL = "Netlink error: Bad value. see dmesg."
TYPE_ERROR = ('\nDuring handling of the above exception, another exception occurred:\n\n'
              'Traceback (most recent call last):\n  File "/usr/bin/mlnx_qos", in <module>\n'
              'TypeError: can only concatenate str (not "OSError") to str\n')


class NetlinkError(Exception):
    """A dcbnl request the kernel refused; the text is what mlnx_qos's netlink layer raises."""


class Exit(Exception):
    """The tool's sys.exit: status, and the text printed before it."""

    def __init__(self, status: int, text: str = "") -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class _Parser(optparse.OptionParser):
    """optparse that writes into a buffer and raises Exit instead of ending the process."""

    def __init__(self) -> None:
        super().__init__(usage="%prog -i <interface> [options]", version="%prog 1.2", prog="mlnx_qos")
        self.buffer = io.StringIO()
        for short, long, dest in (("-f", "--pfc", "pfc"), ("-F", "--specific_pfc", "specific_pfc"),
                                  ("-P", "--get_pfc", "get_pfc"), ("-p", "--prio_tc", "prio_tc"),
                                  ("-s", "--tsa", "tsa"), ("-t", "--tcbw", "tc_bw"), ("-r", "--ratelimit", "ratelimit"),
                                  ("-d", "--dcbx", "dcbx"), ("-i", "--interface", "intf")):
            self.add_option(short, long, dest=dest, metavar="LIST")
        for long in ("trust", "defltprio", "cable_len", "prio2buffer", "buffer_size"):
            self.add_option("--" + long, dest=long)
        self.add_option("--dscp2prio", dest="dscp2prio", action="append")
        self.add_option("-a", action="store_true", dest="printall", default=False)

    def print_usage(self, file: object = None) -> None:
        self.buffer.write(self.get_usage() + "\n")

    def print_help(self, file: object = None) -> None:
        self.buffer.write(self.format_help())

    def print_version(self, file: object = None) -> None:
        self.buffer.write(self.get_version() + "\n")

    def exit(self, status: int = 0, msg: str | None = None) -> None:  # type: ignore[override]
        raise Exit(status, self.buffer.getvalue() + (msg or ""))

    def error(self, msg: str) -> None:  # type: ignore[override]
        self.print_usage()
        self.exit(2, f"mlnx_qos: error: {msg}\n")


class Dcb:
    """The dcbnl view of one netdev: gets fail only for a missing device, sets also without privilege."""

    def __init__(self, ctx: Ctx, ifname: str) -> None:
        dev = ctx.host.state.netdevs.get(ifname)
        self.qos = dev.qos if dev else None
        self.missing = "Netlink error: No such device (19)" if dev is None else \
            "Netlink error: Operation not supported (95)"
        self.denied = not ctx.root or ctx.host.rejecting

    def get(self) -> QosState:
        if self.qos is None:
            raise NetlinkError(self.missing)
        return self.qos

    def set(self, change: Callable[[QosState], bool]) -> None:
        if self.denied:
            raise NetlinkError(EPERM)
        if not change(self.get()):
            raise NetlinkError(EINVAL)


def assign(name: str, value: object) -> Callable[[QosState], bool]:
    """A dcbnl set that mlx5 always accepts: one QosState field takes ``value``."""
    def change(qos: QosState) -> bool:
        setattr(qos, name, value)
        return True
    return change


def parse_int(text: str, low: int, high: int, what: str, usage: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise Exit(1, f"Bad value for {what}: {exc}\n{usage}") from None
    if not low <= value <= high:
        raise Exit(1, f"Bad value for {what}: {value} is not in the range {low}..{high}\n{usage}")
    return value


def parse_list(text: str, count: int, what: str, item: Callable[[str], int]) -> list[int]:
    values: list[int] = []
    for token in text.split(","):
        if len(values) >= count:
            raise Exit(1, f"Too many items for {what}\n")
        values.append(item(token))
    return values


def _traceback(error: str) -> str:
    return f'Traceback (most recent call last):\n  File "/usr/bin/mlnx_qos", in <module>\nOSError: {error}\n'


def mlnx_qos(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    parser = _Parser()
    out = io.StringIO()
    try:
        options, args = parser.parse_args(argv[1:])
        usage = parser.get_usage() + "\n"
        if args:
            raise Exit(1, "Bad arguments\n" + usage)
        if options.intf is None:
            raise Exit(1, "Interface name is required\n" + usage)
        _run(Dcb(ctx, options.intf), options, usage, out)
    except Exit as done:
        return Result(out=out.getvalue() + done.text, status=done.status)
    return Result(out=out.getvalue())


def _run(dcb: Dcb, options: optparse.Values, usage: str, out: io.StringIO) -> None:
    _dcbx(dcb, options.dcbx)
    _pfc(dcb, options, usage)
    _dscp2prio(dcb, options)
    _defltprio(dcb, options.defltprio)
    trust = _trust(dcb, options.trust, out)
    buffers = _buffers(dcb, options, usage, out)
    _ratelimit(dcb, options.ratelimit, usage, out)
    try:
        qos = dcb.get()
    except NetlinkError:
        raise Exit(1, "ETS features are not supported on your system\n") from None
    _ets(dcb, qos, options, usage)
    out.write(pretty(qos, trust, buffers, options.printall))


def _dcbx(dcb: Dcb, mode: str | None) -> None:
    if mode is None or mode == "get":
        return
    if mode not in ("os", "fw"):
        raise Exit(1, "Invalid dcbx mode command. Refer to the help.\n")
    try:
        dcb.set(assign("dcbx_host", mode == "os"))
    except NetlinkError as exc:
        raise Exit(1, _traceback(str(exc))) from None


def _pfc(dcb: Dcb, options: optparse.Values, usage: str) -> None:
    if options.cable_len:
        length = parse_int(options.cable_len, 0, 0xFFFF, "cable_len", usage)
        _set_pfc(dcb, assign("cable_len_m", length))
    if options.get_pfc:
        index = int(options.get_pfc)
        if index not in range(8):
            raise Exit(1, "pfc index must be in range of 0-7\n")
        raise Exit(0, f"{dcb.get().pfc_en >> index & 1}\n")
    if options.specific_pfc:
        _specific_pfc(dcb, options.specific_pfc.split(","))
    if options.pfc:
        bits = parse_list(options.pfc, 8, "PFC", lambda t: parse_int(t, 0, 1, "PFC", usage))
        if len(bits) != 8:
            raise Exit(1, "pfc list must have 8 items\n")
        _set_pfc(dcb, assign("pfc_en", sum(bit << prio for prio, bit in enumerate(bits))))


def _specific_pfc(dcb: Dcb, items: list[str]) -> None:
    if len(items) != 8:
        raise Exit(1, "pfc list must have 8 items\n")
    for item in items:
        if item != "x" and item not in ("0", "1"):
            raise Exit(1, f"Bad value for 'PFC': {item}\n")

    def change(q: QosState) -> bool:
        for prio, item in enumerate(items):
            if item != "x":
                q.pfc_en = q.pfc_en & ~(1 << prio) | int(item) << prio
        return True
    _set_pfc(dcb, change)
    raise Exit(0)


def _set_pfc(dcb: Dcb, change: Callable[[QosState], bool]) -> None:
    try:
        dcb.set(change)
    except NetlinkError as exc:
        raise Exit(1, _traceback(str(exc)) + TYPE_ERROR) from None


def _dscp2prio(dcb: Dcb, options: optparse.Values) -> None:
    if options.dscp2prio and options.trust:
        raise Exit(1, "trust and dscp2prio commands cannot be used at the same time.\n")
    entries: list[tuple[str, int, int]] = []
    for opt in options.dscp2prio or []:
        if opt == "flush":
            entries.append(("flush", 0, 0))
            continue
        try:
            action, dscp, prio = opt.split(",")
            entry = (action, int(dscp), int(prio))
        except ValueError:
            raise Exit(1, "Invalid dscp2prio command. Refer to the help.\n") from None
        if action not in ("set", "del") or entry[1] > 63 or entry[2] > 7:
            raise Exit(1, "Invalid dscp2prio command. Refer to the help.\n")
        entries.append(entry)
    try:
        for action, dscp, prio in entries:
            dcb.set(_app_change(action, dscp, prio))
    except NetlinkError:
        raise Exit(1, "dscp2prio command failed\n") from None


def _app_change(action: str, dscp: int, prio: int) -> Callable[[QosState], bool]:
    def change(q: QosState) -> bool:
        if action == "flush":
            q.dscp_apps.clear()
            return True
        if action == "del":
            return q.del_dscp_app(dscp, prio)
        if dscp < 0 or prio < 0:  # struct.pack("BBH") fails before anything is sent
            raise NetlinkError(EINVAL)
        q.set_dscp_app(dscp, prio)
        return True
    return change


def _defltprio(dcb: Dcb, option: str | None) -> None:
    if not option:
        return
    try:
        action, prio = option.split(",")
        if action not in ("set", "del") or not 0 <= int(prio) <= 7:
            raise ValueError
    except ValueError:
        raise Exit(1, "Invalid defltprio command. Refer to the help.\n") from None
    try:
        dcb.set(lambda q: False)  # mlx5e_dcbnl_ieee_setapp accepts only DSCP app entries: -EINVAL
    except NetlinkError:
        raise Exit(1, "defltprio command failed\n") from None


def _trust(dcb: Dcb, option: str | None, out: io.StringIO) -> str:
    if option and option not in ("dscp", "pcp"):
        raise Exit(1, "Invalid trust state command. Refer to the help.\n")
    try:
        trust = dcb.get().trust
        if option and option != trust:
            if option == "dscp":
                for dscp in range(64):  # setDefaultAppEntry: the firmware default map, DSCP n -> priority n >> 3
                    dcb.set(_app_change("set", dscp, dscp >> 3))
            else:
                dcb.set(_app_change("flush", 0, 0))
            trust = dcb.get().trust
    except NetlinkError:
        out.write("Priority trust state is not supported on your system\n")
        if option:
            raise Exit(1) from None
        trust = "none"
    return trust


def _buffers(dcb: Dcb, options: optparse.Values, usage: str, out: io.StringIO) -> bool:
    """--prio2buffer/--buffer_size; False when the device has no buffer support (lines left out)."""
    try:
        qos = dcb.get()
    except NetlinkError:
        out.write("Buffers commands are not supported on your system\n")
        if options.buffer_size or options.prio2buffer:
            raise Exit(1) from None
        return False
    prio2buffer, sizes = list(_prio2buffer(qos)), list(qos.buffer_size)
    try:
        if options.prio2buffer:
            values = parse_list(options.prio2buffer, 8, "prio2buffer", lambda t: parse_int(t, 0, 7, "prio buffer",
                                                                                           usage))
            prio2buffer[:len(values)] = values
        if options.buffer_size:
            values = parse_list(options.buffer_size, 8, "buffer_size", int)
            sizes[:len(values)] = [v // BUFFER_CELL * BUFFER_CELL for v in values]
        if options.buffer_size or options.prio2buffer:
            dcb.set(lambda q: _set_buffers(q, prio2buffer, sizes))
    except (NetlinkError, ValueError):
        raise Exit(1, "Buffers commands error\n") from None
    return True


def _prio2buffer(qos: QosState) -> list[int]:
    """Until set by hand, firmware puts the PFC priorities in buffer 1 and the rest in buffer 0."""
    if qos.prio2buffer is not None:
        return qos.prio2buffer
    return [1 if qos.pfc_enabled(p) else 0 for p in range(8)]


def _set_buffers(qos: QosState, prio2buffer: list[int], sizes: list[int]) -> bool:
    if sum(sizes) > PORT_BUFFER_BYTES or any(s < 0 for s in sizes):
        return False
    qos.prio2buffer, qos.buffer_size = prio2buffer, sizes
    return True


def _ratelimit(dcb: Dcb, option: str | None, usage: str, out: io.StringIO) -> None:
    if option:
        rates = parse_list(option, 8, "ratelimit", lambda t: parse_int(t, 0, 1000000, "ratelimit", usage))
        if len(rates) != 8:
            raise Exit(1, "ratelimit must have 8 items\n")
        try:
            dcb.set(assign("ratelimit_kbps", [rate * 1000 * 1000 for rate in rates]))
        except NetlinkError:
            out.write("Rate limit is not supported on your system!\n")
    try:
        dcb.get()
    except NetlinkError:
        out.write("Rate limit is not supported on your system!\n")


def _ets(dcb: Dcb, qos: QosState, options: optparse.Values, usage: str) -> None:
    tsa, tc_bw, prio_tc = list(qos.tsa), list(qos.tc_bw), list(qos.prio_tc)
    if options.tsa:
        names = options.tsa.split(",")
        for index, name in enumerate(names):
            if index >= 8:
                raise Exit(1, "Too many items for TSA\n")
            if name not in TSA_NAMES:
                raise Exit(1, f"('Bad TSA value: ', '{name}')\n{usage}")
            tsa[index] = name
        if len(names) != 8:
            raise Exit(1, "tsa list must have 8 items\n")
    if options.tc_bw:
        bws = parse_list(options.tc_bw, 8, "ETS BW", lambda t: parse_int(t, 0, 100, "ETS BW", usage))
        for index, bw in enumerate(bws):
            if tsa[index] != "ets" and bw != 0:
                raise Exit(1, f"ETS BW for a strict/vendor TC must be 0\n{usage}")
        if len(bws) != 8:
            raise Exit(1, "tcbw list must have 8 items\n")
        tc_bw = bws
    if options.prio_tc:
        prio_tc = parse_list(options.prio_tc, 8, "UP => TC mapping",
                             lambda t: parse_int(t, 0, 7, "UP => TC mapping", usage))
        if len(prio_tc) != 8:
            raise Exit(1, "prio_tc list must have 8 items\n")
    if options.tsa or options.tc_bw or options.prio_tc:
        try:
            dcb.set(lambda q: _set_ets(q, prio_tc, tsa, tc_bw))
        except NetlinkError as exc:
            raise Exit(1, f"{exc}\n") from None


def _set_ets(qos: QosState, prio_tc: list[int], tsa: list[str], tc_bw: list[int]) -> bool:
    """mlx5e_dbcnl_validate_ets: the ETS TCs' bandwidths sum to 100; other TCs read back as 100 %."""
    ets_sum = sum(bw for kind, bw in zip(tsa, tc_bw, strict=True) if kind == "ets")
    if "ets" in tsa and ets_sum != 100:
        return False
    qos.prio_tc, qos.tsa = prio_tc, tsa
    qos.tc_bw = [bw if kind == "ets" else 100 for kind, bw in zip(tsa, tc_bw, strict=True)]
    return True


def pretty(qos: QosState, trust: str, buffers: bool, printall: bool) -> str:
    """mlnx_qos's state printout (pretty_print of mlnx-tools)."""
    lines = [f"DCBX mode: {'OS controlled' if qos.dcbx_host else 'Firmware controlled'}",
             f"Priority trust state: {trust}"]
    if trust == "dscp":
        lines.append("dscp2prio mapping:")
        for prio in range(8):
            listed = "".join(f"{dscp:02d}," for dscp, p in qos.dscp_apps if p == prio)
            lines += [f"\tprio:{prio} dscp:{listed[i:i + 24]}" for i in range(0, len(listed), 24)]
    lines.append("default priority:")
    if buffers:
        sizes = "".join(f"{size},"for size in qos.buffer_size)
        lines.append(f"Receive buffer size (bytes): {sizes}max_buffer_size={PORT_BUFFER_BYTES}")
    lines += [f"Cable len: {qos.cable_len_m}", "PFC configuration:", "\tpriority    0   1   2   3   4   5   6   7"]
    enabled = "\tenabled     " + "".join(f"{qos.pfc_en >> p & 1}   " for p in range(8))
    if buffers:
        enabled += "\n\tbuffer      " + "".join(f"{b}   " for b in _prio2buffer(qos))
    lines.append(enabled)
    tcs = sorted(set(range(8)) | set(qos.prio_tc)) if printall else sorted(set(qos.prio_tc))
    for tc in tcs:
        rate = f"{qos.ratelimit_kbps[tc] / 1000 / 1000:.1f} Gbps" if qos.ratelimit_kbps[tc] > 0 else "unlimited"
        kind = qos.tsa[tc]
        lines.append(f"tc: {tc} ratelimit: {rate}, tsa: " + (f"ets, bw: {qos.tc_bw[tc]}%" if kind == "ets" else kind))
        lines += [f"\t priority:  {prio}" for prio in range(8) if qos.prio_tc[prio] == tc]
    return "\n".join(lines) + "\n"
