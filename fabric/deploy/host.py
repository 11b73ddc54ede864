"""GPU servers (linux_mlx5): the rendered roce.sh, line by line, as settings read back from the NIC.

Each script line sets one absolute value, so it maps to one *setting* with a key and the value it sets
(``ens1np0 pfc`` -> ``0,0,0,1,0,0,0,0``). The running state is the same settings read back (``mlnx_qos -i IF``,
``ethtool -a IF``, ``cma_roce_tos -d DEV``, sysfs through ``grep -H``); the diff is the settings that differ,
``push`` runs only their lines as root, ``verify`` reads them back, and the backup (JSON of the readings) turns
into the lines that restore them.
"""

from __future__ import annotations

import json
import re
import shlex

from fabric.deploy.driver import DeployError, Target, check_output
from fabric.deploy.ssh import NetmikoSession, send_batch

ERRORS = ("rror", "No such", "not permitted", "Invalid", "Bad value", "command not found", "must be root",
          "RTNETLINK")
ROOT_PROMPT = r"@[\w.-]+:[^\n#$]*#"
Settings = dict[str, str]
MARK = "@@fabric@@"  # separates the outputs of the read-back commands run as one line
LINE_CHARS = 2000  # longest read-back command line: well inside a pty's 4095 characters (the twin's limit too)
TC_ROW = re.compile(r"tc: (\d) ratelimit: [^,]+, tsa: (\w+)(?:, bw: (\d+)%)?\n((?:\t priority:\s+\d\n?)*)")


def setting(line: str) -> tuple[str, str] | None:
    """The (key, value) a roce.sh line sets; None for lines that set nothing (comments, ``set -e``).

    >>> setting("mlnx_qos -i ens1np0 --pfc 0,0,0,1,0,0,0,0")
    ('ens1np0 pfc', '0,0,0,1,0,0,0,0')
    """
    words = shlex.split(line, comments=True)
    if words[:1] == ["echo"] and len(words) == 4 and words[2] == ">":
        return f"sysfs {words[3]}", words[1]
    if words[:4] == ["ip", "link", "set", "dev"] and words[5:6] == ["mtu"]:
        return f"sysfs /sys/class/net/{words[4]}/mtu", words[6]
    if words[:1] == ["cma_roce_tos"] and len(words) == 5:
        return f"tos {words[2]}", words[4]
    if words[:2] == ["ethtool", "-A"]:
        return f"{words[2]} pause", " ".join(words[3:])
    if words[:2] == ["mlnx_qos", "-i"]:
        return _qos_setting(words[2], words[3:])
    return None


def _qos_setting(ifname: str, args: list[str]) -> tuple[str, str] | None:
    options = dict(zip(args[::2], args[1::2], strict=False))
    if "--dscp2prio" in options:
        _, dscp, prio = options["--dscp2prio"].split(",")
        return f"{ifname} dscp {dscp}", prio
    if "--prio_tc" in options:
        return f"{ifname} ets", _ets(options["--prio_tc"].split(","), options["--tsa"].split(","),
                                     options["--tcbw"].split(","))
    for option, name in (("--trust", "trust"), ("--pfc", "pfc"), ("--dcbx", "dcbx")):
        if option in options:
            return f"{ifname} {name}", options[option]
    return None


def _ets(prio_tc: list[str], tsa: list[str], tcbw: list[str]) -> str:
    """ETS as mlnx_qos prints it: the TCs in use, each with its TSA (and bandwidth when ets)."""
    used = sorted({int(tc) for tc in prio_tc})
    return ";".join([",".join(prio_tc)] + [f"{tc}:{tsa[tc]}" + (f":{tcbw[tc]}" if tsa[tc] == "ets" else "")
                                           for tc in used])


def command(key: str, value: str) -> str:
    """The script line that sets ``key`` to ``value`` (the inverse of ``setting``)."""
    kind, _, rest = key.partition(" ")
    if kind == "sysfs":
        match = re.fullmatch(r"/sys/class/net/([^/]+)/mtu", rest)
        return f"ip link set dev {match.group(1)} mtu {value}" if match else f"echo {value} > {rest}"
    if kind == "tos":
        return f"cma_roce_tos -d {rest} -t {value}"
    what = rest.split()
    if what[0] == "pause":
        return f"ethtool -A {kind} {value}"
    if what[0] == "dscp":
        return f"mlnx_qos -i {kind} --dscp2prio " + (f"set,{what[1]},{value}" if value != "none" else "flush")
    if what[0] == "ets":
        prio_tc, *tcs = value.split(";")
        tsa, bw = ["ets"] * 8, ["0"] * 8
        for tc_text in tcs:
            tc, kind_, *rate = tc_text.split(":")
            tsa[int(tc)], bw[int(tc)] = kind_, (rate[0] if rate else "0")
        return f"mlnx_qos -i {kind} --prio_tc {prio_tc} --tsa {','.join(tsa)} --tcbw {','.join(bw)}"
    return f"mlnx_qos -i {kind} --{what[0]} {value}"


def parse_qos(ifname: str, shown: str) -> Settings:
    """The settings of one ``mlnx_qos -i IF`` printout (keys as ``setting`` names them)."""
    found: Settings = {f"{ifname} dcbx": "os" if "DCBX mode: OS controlled" in shown else "fw"}
    trust = re.search(r"Priority trust state: (\w+)", shown)
    found[f"{ifname} trust"] = trust.group(1) if trust else "none"
    for prio, listed in re.findall(r"\tprio:(\d) dscp:([\d,]+)", shown):
        for dscp in filter(None, listed.split(",")):
            found[f"{ifname} dscp {int(dscp)}"] = prio
    enabled = re.search(r"\tenabled\s+([\d ]+)", shown)
    if enabled:
        found[f"{ifname} pfc"] = ",".join(enabled.group(1).split())
    prio_tc, tcs = ["0"] * 8, []
    for tc, tsa, bw, prios in TC_ROW.findall(shown):
        tcs.append(f"{tc}:{tsa}" + (f":{bw}" if tsa == "ets" else ""))
        for prio in re.findall(r"priority:\s+(\d)", prios):
            prio_tc[int(prio)] = tc
    found[f"{ifname} ets"] = ";".join([",".join(prio_tc), *tcs])
    return found


def parse_pause(ifname: str, shown: str) -> Settings:
    rx, tx = re.search(r"RX:\s+(\w+)", shown), re.search(r"TX:\s+(\w+)", shown)
    return {f"{ifname} pause": f"rx {rx.group(1) if rx else '?'} tx {tx.group(1) if tx else '?'}"}


class HostDriver(NetmikoSession):
    """linux_mlx5: settings diff, the differing script lines run as root, read back."""

    shell = True
    backup_suffix = ".json"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.keys: list[str] = []
        self.pending: list[str] = []

    def read(self, keys: list[str]) -> Settings:
        """The current value of each key (``none`` for a DSCP with no mapping), in as few command lines as fit
        a terminal line (a server with 8 NICs reads ~150 sysfs files: one line of them would be cut)."""
        files = [key[6:] for key in keys if key.startswith("sysfs ")]
        groups = _groups(keys)
        greps = [f"grep -H . {' '.join(chunk)}" for chunk in _chunks(files, LINE_CHARS // 2)]
        commands = greps + [f"mlnx_qos -i {i}" for i in groups["qos"]] + \
            [f"ethtool -a {i}" for i in groups["pause"]] + [f"sudo cma_roce_tos -d {d}" for d in groups["tos"]]
        if not commands:
            return {}
        outputs: list[str] = []
        for batch in _chunks(commands, LINE_CHARS, len(f" ; echo {MARK} ; ")):
            got = self._run(f" ; echo {MARK} ; ".join(batch)).split(MARK)
            if len(got) != len(batch):
                first = got[0].strip().splitlines()[:1] or ["no output"]
                raise DeployError("error", f"reading the settings back failed: {first[0][:120]}")
            outputs += got
        grepped = "\n".join(outputs.pop(0) for _ in greps)
        found: Settings = {}
        if files:
            for row in grepped.strip().splitlines():
                path, _, value = row.partition(":")
                found[f"sysfs {path}"] = value.strip()
        for i in groups["qos"]:
            found.update(parse_qos(i, outputs.pop(0).strip("\n")))
        for i in groups["pause"]:
            found.update(parse_pause(i, outputs.pop(0)))
        for d in groups["tos"]:
            found[f"tos {d}"] = outputs.pop(0).strip().splitlines()[-1]
        return {key: found.get(key, "none") for key in keys}

    def read_running(self) -> str:
        """The settings the last ``diff`` looked at (the backup holds exactly what a push may change)."""
        return json.dumps(self.read(self.keys), indent=1, sort_keys=True) + "\n"

    def _wanted(self, candidate: str) -> dict[str, tuple[str, str]]:
        """key -> (value, script line), later lines winning as they would when the script runs."""
        wanted: dict[str, tuple[str, str]] = {}
        for line in candidate.splitlines():
            found = setting(line) if line.strip() and not line.lstrip().startswith("#") else None
            if found:
                wanted[found[0]] = (found[1], line)
        return wanted

    def diff(self, candidate: str) -> list[str]:
        wanted = self._wanted(candidate)
        self.keys = list(wanted)
        have = self.read(self.keys)
        self.seen = json.dumps(have, indent=1, sort_keys=True) + "\n"
        changed = [key for key, (value, _) in wanted.items() if have[key] != value]
        self.pending = [wanted[key][1] for key in changed]
        return [f"~ {key}: {have[key]} -> {wanted[key][0]}" for key in changed]

    def _as_root(self, lines: list[str], what: str) -> None:
        try:
            self.conn.config_mode()  # sudo -s: the writes and cma_roce_tos want root
            check_output(send_batch(self.conn, lines, ROOT_PROMPT, self.target.timeout_s), ERRORS, what)
        finally:
            self.conn.exit_config_mode()

    def push(self) -> None:
        self.seen = None
        if self.pending:
            self._as_root(self.pending, "roce.sh")

    def verify(self, candidate: str) -> list[str]:
        wanted = self._wanted(candidate)
        have = self.read(list(wanted))
        return [f"{key} = {have[key]} (want {value})" for key, (value, _) in wanted.items() if have[key] != value]

    def restore(self, backup: str) -> None:
        self.seen = None
        saved: Settings = json.loads(backup)
        have = self.read(list(saved))
        lines = [command(key, value) for key, value in _restore_order(saved) if have[key] != value]
        if lines:
            self._as_root(lines, "restore")
        left = [key for key, value in self.read(list(saved)).items() if saved[key] != value]
        if left:
            raise DeployError("error", f"rollback incomplete: {left[0]} = {self.read([left[0]])[left[0]]}, "
                                       f"backup {saved[left[0]]}")


def _chunks(words: list[str], limit: int, glue: int = 1) -> list[list[str]]:
    """``words`` in order, cut into runs whose joined length (``glue`` characters between) stays within
    ``limit``; a word longer than ``limit`` gets a run of its own."""
    runs: list[list[str]] = []
    size = limit + 1
    for word in words:
        if size + glue + len(word) > limit:
            runs.append([])
            size = -glue
        runs[-1].append(word)
        size += glue + len(word)
    return runs


def _groups(keys: list[str]) -> dict[str, list[str]]:
    """Which readers to run, for which interfaces/devices."""
    groups: dict[str, list[str]] = {"qos": [], "pause": [], "tos": []}
    for key in keys:
        first, _, rest = key.partition(" ")
        kind = "tos" if first == "tos" else "pause" if rest == "pause" else "qos" if first != "sysfs" else ""
        name = rest if first == "tos" else first
        if kind and name not in groups[kind]:
            groups[kind].append(name)
    return groups


def _restore_order(saved: Settings) -> list[tuple[str, str]]:
    """DSCP mappings before trust (``--trust pcp`` flushes them), DCBX first."""
    rank = {"dcbx": 0, "dscp": 1, "trust": 2}
    return sorted(saved.items(), key=lambda kv: rank.get(kv[0].split(" ")[1] if " " in kv[0] else "", 3))
