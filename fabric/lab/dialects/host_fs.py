"""The files a lab host session can read and write: regular files, and a virtual /sys backed by HostState.

/sys paths (MLNX_OFED and upstream names, reference/lossless.md §6.2 and §6.5):
- /sys/class/net/<if>/{mtu,operstate,carrier,address,speed,ifindex}; mtu is writable
- /sys/class/net/<if>/ecn/roce_np|roce_rp/enable/<prio> and .../params/<name> (writable, as MLNX_OFED)
- /sys/class/infiniband/<dev>/ports/1/{state,rate,link_layer}, .../hw_counters/<name>, .../counters/<name>
Counters are read live from ``LabDevice.counters`` of the netdev the RDMA device belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fabric.lab.device import LabDevice
from fabric.lab.dialects.host_state import PARAM_RANGES, PRIORITIES, U32_MAX, HostState, Netdev

HW_COUNTERS = ("duplicate_request", "implied_nak_seq_err", "lifespan", "local_ack_timeout_err",
               "np_cnp_sent", "np_ecn_marked_roce_packets", "out_of_buffer", "out_of_sequence",
               "packet_seq_err", "req_cqe_error", "req_remote_access_errors", "req_remote_invalid_request",
               "resp_cqe_error", "resp_local_length_error", "resp_remote_access_errors", "rnr_nak_retry_err",
               "roce_adp_retrans", "roce_adp_retrans_to", "roce_slow_restart", "roce_slow_restart_cnps",
               "roce_slow_restart_trans", "rp_cnp_handled", "rp_cnp_ignored", "rx_atomic_requests",
               "rx_icrc_encapsulated", "rx_read_requests", "rx_write_requests")
IB_COUNTERS: dict[str, Callable[[dict[str, int]], int]] = {
    "excessive_buffer_overrun_errors": lambda c: 0, "link_downed": lambda c: c.get("link_downed", 0),
    "link_error_recovery": lambda c: 0, "local_link_integrity_errors": lambda c: 0,
    "port_rcv_data": lambda c: c.get("rx_octets", 0) // 4, "port_rcv_errors": lambda c: c.get("rx_errors", 0),
    "port_rcv_packets": lambda c: c.get("rx_ucast_pkts", 0), "port_xmit_data": lambda c: c.get("tx_octets", 0) // 4,
    "port_xmit_discards": lambda c: c.get("tx_discards", 0), "port_xmit_packets": lambda c: c.get("tx_ucast_pkts", 0),
    "port_xmit_wait": lambda c: c.get("port_xmit_wait", 0), "symbol_error": lambda c: 0,
    "VL15_dropped": lambda c: 0,
}


class FsError(Exception):
    """A failed file operation: ``at_open`` (bash: ``PATH: msg``) or at write (``CMD: write error: msg``)."""

    def __init__(self, message: str, at_open: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.at_open = at_open


@dataclass
class Attr:
    """A sysfs attribute: its text, and how a write is parsed (None: read-only)."""

    read: Callable[[], str]
    write: Callable[[str], None] | None = None


def parse_u32(text: str, low: int = 0, high: int = U32_MAX) -> int:
    """kstrtouint as sysfs stores use it: one optional trailing newline, base 0, then the range check."""
    body = text[:-1] if text.endswith("\n") else text
    try:
        value = int(body, 0)
    except ValueError:
        raise FsError("Invalid argument", at_open=False) from None
    if not low <= value <= high:
        raise FsError("Invalid argument", at_open=False)
    return value


def _list_item(values: list[int], index: int, low: int, high: int) -> Attr:
    def write(text: str) -> None:
        values[index] = parse_u32(text, low, high)
    return Attr(lambda: str(values[index]), write)


def _dict_item(values: dict[str, int], key: str, low: int, high: int) -> Attr:
    def write(text: str) -> None:
        values[key] = parse_u32(text, low, high)
    return Attr(lambda: str(values[key]), write)


def _counter(counters: Callable[[], dict[str, int]], derive: Callable[[dict[str, int]], int]) -> Attr:
    return Attr(lambda: str(derive(counters())))


def _named(name: str) -> Callable[[dict[str, int]], int]:
    return lambda counters: counters.get(name, 0)


def _slashes(path: str) -> list[int]:
    """Where each parent directory of ``path`` ends (``/a/b/c`` -> the ends of ``/a`` and ``/a/b``)."""
    return [i for i in range(1, len(path)) if path[i] == "/"]


class HostFs:
    """Path resolution over the host state: directories, regular files and sysfs attributes."""

    def __init__(self, state: HostState, device: LabDevice) -> None:
        self.state = state
        self.device = device
        # the sysfs tree is built once per shape of the host (netdevs, RDMA devices, ECN parameter names): every
        # attribute reads its live value, and a ``grep -H . /sys/class/infiniband/*/ports/*/hw_counters/*``
        # resolves hundreds of paths, which rebuilding the tree per path made cost ~0.5 s of the lab's event loop
        self._shape: tuple[object, ...] = ()
        self._attrs: dict[str, Attr] = {}
        self._dirs: set[str] = set()

    # -- the /sys tree -------------------------------------------------------------------------------

    def _netdev_attrs(self, dev: Netdev) -> dict[str, Attr]:
        base = f"/sys/class/net/{dev.name}"

        def up() -> bool:
            return self.link_up(dev)

        def set_mtu(text: str) -> None:
            dev.mtu = parse_u32(text, dev.min_mtu, dev.max_mtu)

        attrs = {f"{base}/mtu": Attr(lambda: str(dev.mtu), set_mtu),
                 f"{base}/operstate": Attr(lambda: "up" if up() else "down"),
                 f"{base}/carrier": Attr(lambda: "1" if up() else "0"),
                 f"{base}/address": Attr(lambda: dev.mac), f"{base}/ifindex": Attr(lambda: str(dev.ifindex)),
                 f"{base}/speed": Attr(lambda: str(dev.speed_gbps * 1000 if up() else -1))}
        if dev.ecn is not None:
            ecn = dev.ecn
            for point, enables, params in (("roce_np", ecn.np_enable, ecn.np_params),
                                           ("roce_rp", ecn.rp_enable, ecn.rp_params)):
                for prio in PRIORITIES:
                    attrs[f"{base}/ecn/{point}/enable/{prio}"] = _list_item(enables, prio, 0, 1)
                for name in params:
                    low, high = PARAM_RANGES.get(name, (0, U32_MAX))
                    attrs[f"{base}/ecn/{point}/params/{name}"] = _dict_item(params, name, low, high)
        return attrs

    def _rdma_attrs(self, name: str, netdev: Netdev) -> dict[str, Attr]:
        base = f"/sys/class/infiniband/{name}/ports/1"

        def counters() -> dict[str, int]:
            return self.device.counters.port(netdev.name)

        attrs = {f"{base}/state": Attr(lambda: "4: ACTIVE" if self.link_up(netdev) else "1: DOWN"),
                 f"{base}/link_layer": Attr(lambda: "InfiniBand" if netdev.infiniband else "Ethernet"),
                 f"{base}/rate": Attr(lambda: f"{netdev.speed_gbps} Gb/sec (4X)")}
        for counter in HW_COUNTERS:
            attrs[f"{base}/hw_counters/{counter}"] = _counter(counters, _named(counter))
        for counter, derive in IB_COUNTERS.items():
            attrs[f"{base}/counters/{counter}"] = _counter(counters, derive)
        return attrs

    def sysfs(self) -> dict[str, Attr]:
        """Every sysfs attribute of this host, by path (rebuilt only when the host's shape changed)."""
        shape = self._current_shape()
        if shape != self._shape:
            attrs: dict[str, Attr] = {}
            for dev in self.state.netdevs.values():
                attrs.update(self._netdev_attrs(dev))
            for rdma in self.state.rdma.values():
                attrs.update(self._rdma_attrs(rdma.name, self.state.netdevs[rdma.netdev]))
            self._attrs, self._shape = attrs, shape
            self._dirs = {path[:cut] for path in attrs for cut in _slashes(path)}
        return self._attrs

    def _current_shape(self) -> tuple[object, ...]:
        """What the tree's paths and the objects its attributes hold depend on."""
        nets = tuple((dev.name, id(dev), id(dev.ecn)) + (
            () if dev.ecn is None else (id(dev.ecn.np_enable), id(dev.ecn.rp_enable), tuple(dev.ecn.np_params),
                                        tuple(dev.ecn.rp_params), id(dev.ecn.np_params), id(dev.ecn.rp_params)))
            for dev in self.state.netdevs.values())
        return nets, tuple((r.name, r.netdev) for r in self.state.rdma.values()), id(self.state.netdevs)

    def link_up(self, dev: Netdev) -> bool:
        return dev.admin_up and dev.name not in self.device.link_down and not self.device.faults.active("link-down")

    # -- lookups -------------------------------------------------------------------------------------

    def is_dir(self, path: str) -> bool:
        if path in self.state.dirs:
            return True
        if not path.startswith("/sys"):
            return False
        self.sysfs()
        return path.rstrip("/") in self._dirs

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        names = {key[len(prefix):].split("/")[0] for key in [*self.sysfs(), *self.state.files, *self.state.dirs]
                 if key.startswith(prefix) and key != prefix}
        return sorted(names)

    def read_dir(self, path: str) -> dict[str, str]:
        """Every attribute directly in the sysfs directory ``path``, name -> value (as ``grep . DIR/*``)."""
        prefix = path.rstrip("/") + "/"
        return {key[len(prefix):]: attr.read() for key, attr in sorted(self.sysfs().items())
                if key.startswith(prefix) and "/" not in key[len(prefix):]}

    def read(self, path: str) -> str:
        """The content of ``path``, or FsError as ``cat`` reports it."""
        if path in self.state.files:
            return self.state.files[path]
        attr = self.sysfs().get(path) if path.startswith("/sys/") else None
        if attr is not None:
            return attr.read() + "\n"
        if self.is_dir(path):
            raise FsError("Is a directory")
        raise FsError("No such file or directory")

    def open_write(self, path: str, root: bool, append: bool = False) -> Callable[[str], None]:
        """Open ``path`` as ``>`` (or ``>>``) does and return the writer; FsError says where it failed."""
        if path.startswith("/sys/"):
            return self._open_attr(path, root)
        return self._open_file(path, root, append)

    def _open_attr(self, path: str, root: bool) -> Callable[[str], None]:
        attr = self.sysfs().get(path)
        if attr is None:
            raise FsError("Is a directory" if self.is_dir(path) else "No such file or directory")
        if attr.write is None or not root:
            raise FsError("Permission denied")
        store = attr.write

        def write(data: str) -> None:
            if self.device.faults.active("reject-config"):
                raise FsError("Operation not permitted", at_open=False)
            store(data)
        return write

    def _open_file(self, path: str, root: bool, append: bool) -> Callable[[str], None]:
        parent = path.rsplit("/", 1)[0] or "/"
        if self.is_dir(path):
            raise FsError("Is a directory")
        if parent not in self.state.dirs:
            raise FsError("No such file or directory")
        if not root and not (path.startswith("/tmp/") or path.startswith("/home/")):
            raise FsError("Permission denied")
        if self.device.faults.active("reject-config"):
            raise FsError("Read-only file system")
        if not append or path not in self.state.files:
            self.state.files[path] = ""

        def write(data: str) -> None:
            self.state.files[path] += data
        return write
