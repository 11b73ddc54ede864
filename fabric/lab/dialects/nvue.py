"""nvue: a Cumulus Linux 5.x switch's login shell (``admin@leaf2:mgmt:~$``) and its ``nv`` CLI.

``nv set``/``nv unset`` edit a pending revision (an unknown path or a bad value is refused at once with
``Error: Invalid Command: ...``, as NVUE does); ``nv config apply [-y]`` checks the revision and makes it the
applied one atomically (``applied [rev_id: N]``), or prints ``Invalid config [rev_id: N]`` and the problems and
changes nothing; ``nv config replace|patch FILE`` (YAML as ``nv config show`` prints it) into the pending
revision; ``nv config diff``, ``nv config show [-o yaml|json|commands]``, ``nv config detach``, ``nv config save``;
``nv show interface <if> qos roce counters [-o json]`` and ``nv show qos roce [-o json]``.
A deploy sends the rendered nvue.cfg line by line (comments are bash comments), then ``nv config apply -y``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from fabric.lab.device import LabDevice
from fabric.lab.dialects import nvue_show as shows
from fabric.lab.dialects.nvue_model import (
    NvueError,
    Tree,
    diff,
    invalid,
    merge_trees,
    natural_order,
    set_path,
    to_commands,
    tree_from_yaml,
    unset_path,
)
from fabric.lab.dialects.unix_shell import Program, Result, UnixShellDialect


@dataclass
class NvueState:
    """A Cumulus switch's NVUE state: the applied revision, the pending one, the saved startup config, files."""

    applied: Tree
    model: str
    ports: int
    applied_rev: int = 1
    pending: Tree | None = None
    pending_rev: int = 0
    next_rev: int = 2
    saved: Tree = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def edit(self) -> Tree:
        """The pending revision, created from the applied one on the first change."""
        if self.pending is None:
            self.pending, self.pending_rev = copy.deepcopy(self.applied), self.next_rev
            self.next_rev += 1
        return self.pending


def check_revision(tree: Tree, ports: int) -> list[str]:
    """What ``nv config apply`` refuses: dangling profiles, PFC with link pause, pools over 100 %, bad ports."""
    problems: list[str] = []
    qos = tree.get("qos", {})
    for name, intf in sorted(tree.get("interface", {}).items(), key=lambda kv: natural_order(kv[0])):
        m = re.fullmatch(r"swp(\d+)", name)
        if m and not 1 <= int(m.group(1)) <= ports:
            problems.append(f"interface {name}: there is no such interface on this platform")
        for feature, profile in ((f, p.get("profile")) for f, p in intf.get("qos", {}).items()
                                 if isinstance(p, dict)):
            if profile is not None and profile not in qos.get(feature, {}):
                problems.append(f"interface {name} qos {feature} profile: {profile} does not exist in qos {feature}")
        if "pfc" in intf.get("qos", {}) and "link-pause" in intf.get("qos", {}):
            problems.append(f"interface {name} qos: link-pause and pfc cannot be configured on the same interface")
    total = sum(p.get("memory-percent", 0) for p in qos.get("traffic-pool", {}).values())
    if total > 100:
        problems.append(f"qos traffic-pool: memory-percent adds up to {total}, more than 100")
    for name, profile in qos.get("congestion-control", {}).items():
        for tc, params in profile.get("traffic-class", {}).items():
            if params.get("min-threshold", 0) > params.get("max-threshold", 2**32):
                problems.append(f"qos congestion-control {name} traffic-class {tc}: min-threshold is larger than "
                                "max-threshold")
    return problems


NVUED_DOWN = ("Error: Could not connect to nvued.\nTo start nvued, use\n\n    sudo systemctl start nvued\n\n"
              "To check the status of nvued, use\n\n    sudo systemctl status nvued\n")
MODELS = {"spectrum2": ("SN3700", 32), "spectrum3": ("SN4700", 32), "spectrum4": ("SN5600", 64)}


def initial_state(device: LabDevice) -> NvueState:
    """A freshly installed switch: hostname, eth0 on DHCP in the management VRF, nothing else applied."""
    model, ports = MODELS.get(device.inventory.asic or "", ("SN5600", 64))
    ports = max([ports, *(int(n[3:]) for n in device.inventory.interfaces if n[3:].isdigit())])
    applied: Tree = {"system": {"hostname": device.name},
                     "interface": {"eth0": {"ip": {"address": {"dhcp": {}}, "vrf": "mgmt"}, "type": "eth"}}}
    return NvueState(applied=applied, model=model, ports=ports, saved=json.loads(json.dumps(applied)))


def option(words: list[str], name: str, short: str) -> tuple[list[str], str | None]:
    """Remove ``-o VALUE``/``--output VALUE`` style options from ``words``."""
    for flag in (name, short):
        if flag in words:
            i = words.index(flag)
            value = words[i + 1] if i + 1 < len(words) else ""
            return words[:i] + words[i + 2:], value
    return words, None


class NvueDialect(UnixShellDialect):
    """Cumulus Linux: bash in the management VRF, NVUE's ``nv`` on the path."""

    prompt_suffix = ":mgmt"

    @classmethod
    def initial_config(cls, device: LabDevice) -> NvueState:
        return initial_state(device)

    @property
    def state(self) -> NvueState:
        state: NvueState = self.device.config
        return state

    @property
    def files(self) -> dict[str, str]:
        return self.state.files

    def config_digest_text(self) -> str:
        return self._yaml(self.state.applied, self.state.applied_rev)

    def program(self, name: str, root: bool) -> Program | None:
        return self._nv if name == "nv" else None

    # -- nv -------------------------------------------------------------------------------------------------

    def _nv(self, args: list[str], stdin: str) -> Result:
        commands: dict[str, Callable[[list[str]], Result]] = {
            "set": self._set, "unset": self._unset, "config": self._config, "show": self._show}
        command = commands.get(args[0]) if args else None
        if command is None:
            return Result(err=f"{invalid(args[0] if args else '', args[1:])}\n", rc=1)
        try:
            return command(args[1:])
        except NvueError as exc:
            return Result(err=f"{exc}\n", rc=1)

    def _set(self, words: list[str]) -> Result:
        return self._edit(words, set_path)

    def _unset(self, words: list[str]) -> Result:
        return self._edit(words, unset_path)

    def _edit(self, words: list[str], change: Callable[[Tree, list[str]], Tree]) -> Result:
        if self.device.faults.active("reject-config"):
            return Result(err=NVUED_DOWN, rc=1)
        base = self.state.pending if self.state.pending is not None else self.state.applied
        changed = change(base, words)  # raises before anything is kept
        self.state.edit()
        self.state.pending = changed
        return Result()

    def _config(self, words: list[str]) -> Result:
        words, output = option(words, "--output", "-o")
        actions: dict[str, Callable[[], Result]] = {
            "apply": lambda: self._apply(), "diff": lambda: self._diff(output), "detach": lambda: self._detach(),
            "show": lambda: self._config_show(output), "save": lambda: self._save(),
            "replace": lambda: self._load(words, replace=True), "patch": lambda: self._load(words, replace=False)}
        action = actions.get(words[0]) if words else None
        if action is None:
            raise invalid("config", words)
        return action()

    def _apply(self) -> Result:
        state = self.state
        if self.device.faults.active("reject-config"):
            return Result(err=NVUED_DOWN, rc=1)
        if state.pending is None:
            return Result(f"applied [rev_id: {state.applied_rev}]\n")
        problems = check_revision(state.pending, state.ports)
        if problems:
            body = "".join(f"  {p}\n" for p in problems)
            return Result(err=f"Invalid config [rev_id: {state.pending_rev}]\n{body}", rc=1)
        state.applied, state.applied_rev, state.pending = state.pending, state.pending_rev, None
        return Result(f"applied [rev_id: {state.applied_rev}]\n")

    def _load(self, words: list[str], replace: bool) -> Result:
        """``nv config replace|patch FILE``: the file's YAML becomes (or is merged into) the pending revision."""
        if len(words) != 2:
            raise invalid("config", words)
        text = self.read_file(words[1], "")
        if text is None:
            raise NvueError(f"Error: [Errno 2] No such file or directory: '{words[1]}'")
        if self.device.faults.active("reject-config"):
            return Result(err=NVUED_DOWN, rc=1)
        tree = tree_from_yaml(text, words[1])
        base = self.state.pending if self.state.pending is not None else self.state.applied
        self.state.edit()
        self.state.pending = tree if replace else merge_trees(base, tree)
        return Result()

    def _diff(self, output: str | None) -> Result:
        if self.state.pending is None:
            return Result()
        removed, added = diff(self.state.applied, self.state.pending)
        if output == "commands":
            lines = to_commands(removed, "unset") + to_commands(added, "set")
            return Result("".join(f"{line}\n" for line in lines))
        doc = ([{"unset": removed}] if removed else []) + ([{"set": added}] if added else [])
        return Result(yaml.safe_dump(doc, default_flow_style=False, sort_keys=True) if doc else "")

    def _detach(self) -> Result:
        self.state.pending = None
        return Result()

    def _save(self) -> Result:
        self.state.saved = json.loads(json.dumps(self.state.applied))
        self.files["/etc/nvue.d/startup.yaml"] = self._yaml(self.state.applied, self.state.applied_rev)
        return Result(f"saved [rev_id: {self.state.applied_rev}]\n")

    def _config_show(self, output: str | None) -> Result:
        applied = self.state.applied
        if output == "commands":
            return Result("".join(f"{line}\n" for line in to_commands(applied)))
        if output == "json":
            return Result(json.dumps(applied, indent=2, default=str) + "\n")
        return Result(self._yaml(applied, self.state.applied_rev))

    def _yaml(self, tree: Tree, rev: int) -> str:
        header = {"model": self.state.model, "nvue-api-version": "nvue_v1", "rev-id": float(rev),
                  "version": "Cumulus Linux 5.14.0"}
        return yaml.safe_dump([{"header": header}, {"set": tree}], default_flow_style=False, sort_keys=True)

    # -- nv show --------------------------------------------------------------------------------------------

    def _show(self, words: list[str]) -> Result:
        words, output = option(words, "--output", "-o")
        applied = self.state.applied
        if words == ["qos", "roce"]:
            doc = shows.qos_roce(applied)
            return Result((json.dumps(doc, indent=2) if output == "json" else shows.qos_roce_text(doc)) + "\n")
        if len(words) == 5 and words[0] == "interface" and words[2:] == ["qos", "roce", "counters"]:
            port = words[1]
            if port not in self.device.counters.ports:
                raise NvueError(f"Error: The requested item does not exist: interface {port}")
            counters = shows.roce_counters(self.device, applied, port)
            text = json.dumps(counters, indent=2) if output == "json" else shows.counters_text(counters)
            return Result(text + "\n")
        raise invalid("show", words)
