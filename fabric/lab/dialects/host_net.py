"""iproute2 ``ip link`` and ``ethtool`` on a lab host, with mlx5's counter names (reference/lossless.md §6.5).

``ethtool -S`` reads ``LabDevice.counters`` of the netdev: the canonical names map to mlx5's
(rx_pfc{p}_frames -> rx_prio{p}_pause, tx_pfc{p}_pause_us -> tx_prio{p}_pause_duration, q{q}_tx_bytes ->
tx_prio{q}_bytes, ...); an mlx5 name the store holds itself (written by a congestion model) is read as is. As in
mlx5 (en_stats.c), the per-priority pause counters are listed only for priorities with PFC on, and the global
pause counters only while 802.3x pause is on. ``ethtool -A`` goes the netlink path: an unchanged setting returns 0.
"""

from __future__ import annotations

from collections.abc import Callable

from fabric.lab.dialects.host_shell import Ctx, Result
from fabric.lab.dialects.host_state import Netdev

Counters = dict[str, int]
FIRMWARE = {"ConnectX-7": "28.39.1002 (MT_0000000834)", "ConnectX-6": "20.39.1002 (MT_0000000222)",
            "ConnectX-6 Dx": "22.39.1002 (MT_0000000359)"}


Source = str | Callable[[Counters], int]  # a counter-store key, or how to derive the value


def _sum(prefix: str, suffix: str) -> Callable[[Counters], int]:
    return lambda c: sum(c.get(f"{prefix}{p}{suffix}", 0) for p in range(8))


BASIC: list[tuple[str, Source]] = [("rx_packets", "rx_ucast_pkts"), ("rx_bytes", "rx_octets"),
                                   ("tx_packets", "tx_ucast_pkts"), ("tx_bytes", "tx_octets")]
PORT: list[tuple[str, Source]] = [
    ("rx_out_of_buffer", "rx_out_of_buffer"), ("rx_vport_unicast_packets", "rx_ucast_pkts"),
    ("rx_vport_unicast_bytes", "rx_octets"), ("tx_vport_unicast_packets", "tx_ucast_pkts"),
    ("tx_vport_unicast_bytes", "tx_octets"), ("rx_packets_phy", "rx_ucast_pkts"), ("tx_packets_phy", "tx_ucast_pkts"),
    ("rx_bytes_phy", "rx_octets"), ("tx_bytes_phy", "tx_octets"), ("rx_crc_errors_phy", "rx_errors"),
    ("tx_errors_phy", "tx_errors"), ("rx_discards_phy", "rx_discards"), ("tx_discards_phy", "tx_discards"),
    ("rx_pause_ctrl_phy", _sum("rx_pfc", "_frames")), ("tx_pause_ctrl_phy", _sum("tx_pfc", "_frames")),
    *((name, name) for name in ("rx_symbol_err_phy", "link_down_events_phy", "rx_buffer_passed_thres_phy",
                                "tx_pause_storm_warning_events", "tx_pause_storm_error_events"))]
GLOBAL_PAUSE = ("rx_global_pause", "rx_global_pause_duration", "tx_global_pause", "tx_global_pause_duration",
                "rx_global_pause_transition")


def _per_prio(p: int) -> list[tuple[str, Source]]:
    return [(f"rx_prio{p}_bytes", f"rx_prio{p}_bytes"), (f"rx_prio{p}_packets", f"rx_prio{p}_packets"),
            (f"rx_prio{p}_discards", f"rx_prio{p}_discards"), (f"tx_prio{p}_bytes", f"q{p}_tx_bytes"),
            (f"tx_prio{p}_packets", f"q{p}_tx_pkts")]


def _pfc(p: int) -> list[tuple[str, Source]]:
    return [(f"rx_prio{p}_pause", f"rx_pfc{p}_frames"), (f"rx_prio{p}_pause_duration", f"rx_pfc{p}_pause_us"),
            (f"tx_prio{p}_pause", f"tx_pfc{p}_frames"), (f"tx_prio{p}_pause_duration", f"tx_pfc{p}_pause_us"),
            (f"rx_prio{p}_pause_transition", f"rx_prio{p}_pause_transition")]


def mlx5_stats(dev: Netdev, counters: Counters) -> list[tuple[str, int]]:
    """``ethtool -S`` of an mlx5 netdev, in the driver's group order, from the canonical counter store."""
    spec = list(BASIC)
    if not dev.infiniband:
        spec += PORT + [stat for p in range(8) for stat in _per_prio(p)]
        spec += [stat for p in range(8) if dev.qos is not None and dev.qos.pfc_enabled(p) for stat in _pfc(p)]
        spec += [(name, name) for name in GLOBAL_PAUSE if dev.pause_rx or dev.pause_tx]
        spec += [(f"rx_prio{p}_{kind}", f"rx_prio{p}_{kind}") for p in range(8)
                 for kind in ("buf_discard", "cong_discard", "marked")]
    return [(name, counters.get(source, 0) if isinstance(source, str) else source(counters))
            for name, source in spec]


# -- ethtool ---------------------------------------------------------------------------------------------

def ethtool(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """ethtool IF | -i IF | -a IF | -A IF [autoneg|rx|tx on|off]... | -S IF."""
    args = argv[1:]
    if not args:
        return Result(err="ethtool: bad command line argument(s)\nFor more information run ethtool -h\n", status=1)
    option = args[0] if args[0].startswith("-") else ""
    names = args[1:] if option else args
    if not names:
        return Result(err="ethtool: bad command line argument(s)\nFor more information run ethtool -h\n", status=1)
    dev = ctx.host.state.netdevs.get(names[0])
    if option in ("-A", "--pause"):
        return _set_pause(ctx, dev, names[0], names[1:])
    if dev is None:
        return _no_device(option, names[0])
    if option in ("-a", "--show-pause"):
        return Result(out=f"Pause parameters for {dev.name}:\nAutonegotiate:\t{_onoff(dev.pause_autoneg)}\n"
                          f"RX:\t\t{_onoff(dev.pause_rx)}\nTX:\t\t{_onoff(dev.pause_tx)}\n\n")
    if option in ("-S", "--statistics"):
        stats = mlx5_stats(dev, ctx.host.device.counters.port(dev.name))
        return Result(out="NIC statistics:\n" + "".join(f"     {name}: {value}\n" for name, value in stats))
    if option in ("-i", "--driver"):
        return Result(out=_driver(ctx, dev))
    if option == "":
        return Result(out=_settings(ctx, dev))
    return Result(err="ethtool: bad command line argument(s)\nFor more information run ethtool -h\n", status=1)


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def _no_device(option: str, name: str) -> Result:
    if option in ("-S", "--statistics", "-i", "--driver"):
        return Result(err="Cannot get driver information: No such device\n", status=71)
    return Result(err="netlink error: no device matches name (offset 24)\nnetlink error: No such device\n", status=1)


def _set_pause(ctx: Ctx, dev: Netdev | None, name: str, params: list[str]) -> Result:
    wanted: dict[str, bool] = {}
    while params:
        param = params.pop(0)
        if param not in ("autoneg", "rx", "tx"):
            return Result(err=f"ethtool (-A): unknown parameter '{param}'\n", status=1)
        if param in wanted:
            return Result(err=f"ethtool (-A): duplicate parameter '{param}'\n", status=1)
        if not params:
            return Result(err=f"ethtool (-A): no value for parameter '{param}'\n", status=1)
        value = params.pop(0)
        if value not in ("on", "off"):
            return Result(err=f"ethtool (-A): invalid value '{value}' for parameter '{param}'\n", status=1)
        wanted[param] = value == "on"
    if not ctx.root or ctx.host.rejecting:
        return Result(err="netlink error: Operation not permitted\n", status=76)
    if dev is None:
        return Result(err="netlink error: no device matches name (offset 24)\nnetlink error: No such device\n",
                      status=76)
    if wanted.get("autoneg"):  # mlx5e_ethtool_set_pauseparam: pause autonegotiation is not supported
        return Result(err="netlink error: Invalid argument\n", status=76)
    dev.pause_rx = wanted.get("rx", dev.pause_rx)
    dev.pause_tx = wanted.get("tx", dev.pause_tx)
    return Result()


def _driver(ctx: Ctx, dev: Netdev) -> str:
    nic = ctx.host.device.inventory.nic or "ConnectX-7"
    bus = f"0000:{0x16 + dev.ifindex:02x}:00.0"
    return (f"driver: {'mlx5_core[ib_ipoib]' if dev.infiniband else 'mlx5_core'}\nversion: 24.10-1.1.4\n"
            f"firmware-version: {FIRMWARE.get(nic, FIRMWARE['ConnectX-7'])}\nexpansion-rom-version: \n"
            f"bus-info: {bus}\nsupports-statistics: yes\nsupports-test: yes\nsupports-eeprom-access: no\n"
            "supports-register-dump: no\nsupports-priv-flags: yes\n")


def _settings(ctx: Ctx, dev: Netdev) -> str:
    up = ctx.host.fs.link_up(dev)
    speed = f"{dev.speed_gbps * 1000}Mb/s" if up else "Unknown!"
    return (f"Settings for {dev.name}:\n\tSpeed: {speed}\n\tDuplex: {'Full' if up else 'Unknown! (255)'}\n"
            f"\tAuto-negotiation: on\n\tPort: Direct Attach Copper\n\tPHYAD: 0\n\tTransceiver: internal\n"
            f"\tLink detected: {'yes' if up else 'no'}\n")


# -- ip link -----------------------------------------------------------------------------------------------

def ip(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """ip link [show [dev] IF] | ip link set [dev] IF {mtu N | up | down}..."""
    args = [a for a in argv[1:] if a not in ("-d", "-details")]
    if not args:
        return Result(err="Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n", status=255)
    if not "link".startswith(args[0]):
        return Result(err=f'Object "{args[0]}" is unknown, try "ip help".\n', status=255)
    rest = args[1:]
    if not rest or "show".startswith(rest[0]) or "list".startswith(rest[0]):
        return _show(ctx, [a for a in rest[1:] if a != "dev"])
    if rest[0] == "set":
        return _set_link(ctx, rest[1:])
    return Result(err=f'Command "{rest[0]}" is unknown, try "ip link help".\n', status=255)


def _show(ctx: Ctx, names: list[str]) -> Result:
    devs = list(ctx.host.state.netdevs.values())
    if names:
        dev = ctx.host.state.netdevs.get(names[0])
        if dev is None:
            return Result(err=f'Device "{names[0]}" does not exist.\n', status=1)
        devs = [dev]
    lines = [] if names else ["1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT "
                              "group default qlen 1000",
                              "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"]
    for dev in devs:
        up = ctx.host.fs.link_up(dev)
        flags = ("NO-CARRIER," if dev.admin_up and not up else "") + "BROADCAST,MULTICAST" + \
            (",UP" if dev.admin_up else "") + (",LOWER_UP" if up else "")
        lines.append(f"{dev.ifindex}: {dev.name}: <{flags}> mtu {dev.mtu} qdisc mq state {'UP' if up else 'DOWN'} "
                     f"mode DEFAULT group default qlen {256 if dev.infiniband else 1000}")
        kind = "infiniband" if dev.infiniband else "ether"
        brd = "00:ff:ff:ff:ff:12:40:1b:ff:ff:00:00:00:00:00:00:ff:ff:ff:ff" if dev.infiniband else "ff:ff:ff:ff:ff:ff"
        lines.append(f"    link/{kind} {dev.mac} brd {brd}")
    return Result(out="\n".join(lines) + "\n")


def _set_link(ctx: Ctx, args: list[str]) -> Result:
    name, changes = "", {}
    while args:
        word = args.pop(0)
        if word == "dev" and args and not name:
            name = args.pop(0)
        elif word == "mtu" and args:
            value = args.pop(0)
            if not value.isdigit():
                return Result(err=f'Error: argument "{value}" is wrong: Invalid "mtu" value\n\n', status=255)
            changes["mtu"] = int(value)
        elif word in ("up", "down"):
            changes["admin_up"] = word == "up"
        elif not name:
            name = word
        else:
            return Result(err=f'Error: either "dev" is duplicate, or "{word}" is a garbage.\n', status=255)
    dev = ctx.host.state.netdevs.get(name)
    if dev is None:
        return Result(err=f'Cannot find device "{name}"\n', status=1)
    if not ctx.root or ctx.host.rejecting:
        return Result(err="RTNETLINK answers: Operation not permitted\n", status=2)
    mtu = int(changes.get("mtu", dev.mtu))
    if mtu > dev.max_mtu:
        return Result(err="Error: mtu greater than device maximum.\n", status=2)
    if mtu < dev.min_mtu:
        return Result(err="Error: mtu less than device minimum.\n", status=2)
    dev.mtu = mtu
    dev.admin_up = bool(changes.get("admin_up", dev.admin_up))
    return Result()


# -- RDMA devices ------------------------------------------------------------------------------------------

def rdma(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """iproute2 rdma: ``rdma link [show]`` and ``rdma statistic [show] [link DEV/1]`` (the hw_counters)."""
    args = [a for a in argv[1:] if a != "show"]
    if not args or args[0] not in ("link", "statistic", "stat"):
        return Result(err=f'Object "{args[0] if args else ""}" is unknown, try "rdma help".\n', status=1)
    wanted = args[2] if len(args) > 2 and args[1] == "link" else args[1] if len(args) > 1 else ""
    lines = []
    for dev in ctx.host.state.rdma.values():
        if wanted and wanted not in (dev.name, f"{dev.name}/1"):
            continue
        netdev = ctx.host.state.netdevs[dev.netdev]
        up = ctx.host.fs.link_up(netdev)
        if args[0] == "link":
            lines.append(f"link {dev.name}/1 state {'ACTIVE' if up else 'DOWN'} physical_state "
                         f"{'LINK_UP' if up else 'DISABLED'} netdev {netdev.name}")
            continue
        values = ctx.host.fs.read_dir(f"/sys/class/infiniband/{dev.name}/ports/1/hw_counters")
        lines.append(f"link {dev.name}/1 " + " ".join(f"{name} {value}" for name, value in values.items()))
    if wanted and not lines:
        return Result(err="Wrong device name\n", status=1)
    return Result(out="".join(line + "\n" for line in lines))


def ibdev2netdev(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """MLNX_OFED ibdev2netdev: ``mlx5_0 port 1 ==> ens1np0 (Up)``."""
    lines = []
    for dev in ctx.host.state.rdma.values():
        netdev = ctx.host.state.netdevs[dev.netdev]
        lines.append(f"{dev.name} port 1 ==> {netdev.name} ({'Up' if ctx.host.fs.link_up(netdev) else 'Down'})\n")
    return Result(out="".join(lines))
