"""huawei_ce: a Huawei CloudEngine (VRP V8) switch CLI, as netmiko's ``huawei_vrpv8`` driver drives it.

``<spine2>`` user view (``screen-length 0 temporary`` at login), ``system-view`` -> ``[~spine2]``. Two-stage
configuration: what is typed in system view changes this session's candidate, the prompt turns to
``[*spine2]``, and ``commit`` applies every pending change to the running configuration or none (it replays
them on the current running config and gives up whole on the first that no longer applies). Leaving system
view with pending changes asks ``Warning: Uncommitted configurations found, ...``. A command of system view
typed in a sub-view runs in system view, as on VRP. Errors print a caret and ``Error: ... found at '^'
position.`` The PFC, QoS and ECN statements are those of reference/lossless.md §5.2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from fabric.lab.device import LabDevice
from fabric.lab.dialects.huawei_ce_show import dcb_pfc, ecn_statistics, queue_statistics
from fabric.lab.dialects.viewconfig import ViewConfig
from fabric.lab.dialects.viewgrammar import Command, Grammar, Line, Match, Value, render
from fabric.lab.dialects.views import Question, View, ViewDialect, act, apply
from fabric.lab.dialects.viewshow import RateMeter

C = Command
PHB = "{be|af1|af2|af3|af4|ef|cs6|cs7}"
COLOR = "{green|yellow|red}"
DISPLAY = [
    C("display current-configuration", "action", run=act("display_current")),
    C("display current-configuration interface <iface>", "action", run=act("display_current")),
    C("display saved-configuration", "action", run=act("display_saved")),
    C("display dcb pfc", "action", run=act("display_pfc")),
    C("display dcb pfc interface <iface>", "action", run=act("display_pfc")),
    C("display qos queue statistics interface <iface>", "action", run=act("display_queues")),
    C("display qos ecn statistics", "action", run=act("display_ecn")),
    C("display qos ecn statistics interface <iface>", "action", run=act("display_ecn")),
    C("save", "action", run=act("save")),
]
IN_SYSTEM = [C("quit", "action", run=act("quit")), C("return", "action", run=act("return_")),
             C("commit", "action", run=act("commit")), C("display this", "action", run=act("display_this")),
             C("display configuration candidate", "action", run=act("display_candidate")), *DISPLAY]
USER = [C("system-view", "action", run=act("system_view")), C("quit", "action", run=act("quit")),
        C("screen-length 0 temporary", "action", run=act("no_paging")), *DISPLAY]
SYSTEM = [
    *IN_SYSTEM,
    C("sysname <word>", key=1),
    C("interface <iface>", "enter", view="interface", removable=False, label=lambda v: str(v[1])),
    C("diffserv domain <word>", "enter", view="dsdomain", label=lambda v: f"dsdomain-{v[2]}"),
    C("dcb pfc", "enter", view="dcb-pfc", label=lambda v: "dcb-pfc-default"),
    C("drop-profile <word>", "enter", view="drop", label=lambda v: f"drop-{v[1]}"),
    # CE6800 V300R023C00 command reference: the timers take 10-1500 ms ("undo dcb pfc deadlock-detect [timer T]"),
    # the interval, a setting of its own (the precision of the CE6885 family's per-priority times), 10, 100, 500
    # or 1000 ms
    C("dcb pfc deadlock-detect timer <int:10-1500>", key=3),
    C("dcb pfc deadlock-recovery timer <int:10-1500>", key=3),
    C("dcb pfc deadlock-detect interval <int:10,100,500,1000>", key=4),
    C("dcb pfc deadlock recovery-behavior {discard|forwarding} slot <int:1-16>", key=4),
    C("dcb pfc dscp-mapping enable slot <int:1-16>", key=4),
    C("qos buffer headroom-pool size <int:1-100000> {kbytes|mbytes} slot <int:1-16>", key=4),
]
BUFFER = "dcb pfc buffer <int:0-7> {xoff|xon|xon-offset|hdrm|guaranteed}"
INTERFACE = [
    *IN_SYSTEM,
    C("description <text>", key=1),
    C("jumboframe enable", key=2),
    C("jumboframe enable <int:1536-12288>", key=2),
    C("flow-control", key=1),
    C("trust {dscp|8021p}", key=1),
    C("trust 8021p {inner|outer}", key=1),  # which tag of a QinQ frame; untagged and single-tagged: the one
    C("trust upstream <word>", key=2),
    C("qos drr <ints:0-7>", key=2),
    C("qos pq <ints:0-7>", key=2),
    C("qos queue <int:0-7> drr weight <int:1-100>", key=4),
    C("qos queue <int:0-7> wred <word>", key=4),
    C("qos queue <int:0-7> ecn"),
    C("dcb pfc enable", key=3),
    C("dcb pfc enable mode {auto|manual}", key=3),
    C(f"{BUFFER} <int:0-10000000> {{cells|kbytes}}", key=5),
    C(f"{BUFFER} static <int:0-10000000> {{cells|kbytes}}", key=5),
    C(f"{BUFFER} dynamic <int:0-10>", key=5),
]
DSDOMAIN = [*IN_SYSTEM,
            C(f"ip-dscp-inbound <int:0-63> phb {PHB}", key=2),
            C(f"ip-dscp-inbound <int:0-63> phb {PHB} {COLOR}", key=2),
            C(f"8021p-inbound <int:0-7> phb {PHB}", key=2),
            C(f"8021p-inbound <int:0-7> phb {PHB} {COLOR}", key=2)]
DCB_PFC = [*IN_SYSTEM,
           C("priority <ints:0-7>", key=1),
           C("priority <int:0-7> deadlock-detect time <int:1-15> deadlock-recovery time <int:0-31>", key=3),
           C("priority <int:0-7> turn-off threshold <int:1-1000>", key=3)]
LIMITS = "low-limit <int:0-1000000000> high-limit <int:0-1000000000> discard-percentage <int:0-100>"
DROP = [*IN_SYSTEM,
        C(f"ecn buffer-size {LIMITS}", key=1),
        C(f"color {COLOR} {LIMITS}", key=2), C(f"color {COLOR} buffer-size {LIMITS}", key=2)]

Op = tuple[View, Command, list[Value], bool]


class HuaweiCeDialect(ViewDialect):
    """One SSH session on a Huawei CloudEngine switch (two-stage commit)."""

    kind_order: ClassVar[list[str]] = ["dsdomain", "dcb-pfc", "drop", "interface"]
    # "800GE" follows VRP's <speed>GE pattern, as ``fabric inventory generate`` names it [unverified: no
    # CloudEngine 800G reference found]
    interface_types: ClassVar[list[str]] = ["800GE", "400GE", "200GE", "100GE", "50GE", "40GE", "25GE", "10GE", "GE",
                                            "MEth", "Eth-Trunk"]
    grammars: ClassVar[dict[str, Grammar]] = {
        "user": Grammar(USER), "system": Grammar(SYSTEM), "interface": Grammar(INTERFACE),
        "dsdomain": Grammar(DSDOMAIN), "dcb-pfc": Grammar(DCB_PFC), "drop": Grammar(DROP)}

    def __init__(self, device: LabDevice, username: str) -> None:
        super().__init__(device, username)
        self.ops: list[Op] = []
        self.candidate: ViewConfig | None = None
        self.meter = RateMeter()

    @classmethod
    def initial_config(cls, device: LabDevice) -> Any:
        return cls.boot_config(device)

    # -- two-stage configuration ----------------------------------------------------------------------------
    def edit_config(self) -> ViewConfig:
        if self.candidate is None or not self.ops:
            self.candidate = self.state.running.copy()
        return self.candidate

    def mark(self) -> str:
        return "*" if self.ops else "~"

    def recorded(self, view: View, command: Command, values: list[Value], undo: bool) -> None:
        self.ops.append((view, command, values, undo))

    def refused(self) -> str:
        # [unverified wording] VRP's refusal while another user holds the configuration lock.
        return "Error: The configuration is locked by another user."

    def check(self, config: ViewConfig, view: View, command: Command, values: list[Value], undo: bool) -> str:
        """References must exist, as VRP checks them when the statement is typed ([unverified wording])."""
        words = render(values).split()
        if not undo and words[:2] == ["qos", "queue"] and words[3:4] == ["wred"] \
                and f"drop-profile {words[4]}" not in config.sections:
            return "Error: The drop-profile does not exist."
        if not undo and words[:2] == ["trust", "upstream"] and f"diffserv domain {words[2]}" not in config.sections:
            return "Error: The DiffServ domain does not exist."
        return ""

    def commit(self, values: list[Value]) -> str:
        """Replay this session's changes on the current running config; all of them or none."""
        if not self.ops:
            return ""
        if self.device.faults.active("reject-config"):
            return self.refused()
        new = self.state.running.copy()
        for view, command, vals, undo in self.ops:
            if view.header not in new.sections or self.check(new, view, command, vals, undo):
                return "Error: Failed to generate committed config: the running configuration changed under it."
            apply(new, view, command, vals, undo)
        self.state.running = new
        self.state.committed_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
        self.state.committed_by = self.username
        self.ops, self.candidate = [], None
        return ""

    def ask_commit(self) -> str:
        def answer(reply: str) -> str:
            choice = reply.lower()[:1]
            if choice == "y":
                problem = self.commit([])
                if problem:
                    return problem
            elif choice == "n":
                self.ops, self.candidate = [], None
            elif choice != "c":
                self.question = Question("Error: Please choose 'YES', 'NO' or 'CANCEL' first before pressing "
                                         "'Enter'. [Y/N/C]:", answer)
                return ""
            if choice != "c":
                self.stack = []
            return ""

        self.question = Question("Warning: Uncommitted configurations found, commit them before exiting? "
                                 "[Y(yes)/N(no)/C(cancel)]:", answer)
        return ""

    # -- navigation -----------------------------------------------------------------------------------------
    def match(self, line: Line) -> Match:
        found = super().match(line)
        if found.command is None and len(self.stack) > 1:
            upper = self.grammars["system"].match(line, self.resolve)
            if upper.command is not None:
                del self.stack[1:]
                return upper
        return found

    def quit(self, values: list[Value]) -> str:
        if len(self.stack) == 1 and self.ops:
            return self.ask_commit()
        return super().quit(values)

    def return_(self, values: list[Value]) -> str:
        return self.ask_commit() if self.ops else super().return_(values)

    def system_view_banner(self) -> str:
        return "Enter system view, return user view with return command."

    def no_paging(self, values: list[Value]) -> str:
        return "Info: The configuration takes effect on the current user terminal interface only."

    # -- displays -------------------------------------------------------------------------------------------
    def config_text(self, config: ViewConfig, only: str | None = None) -> str:
        head = ["!Software Version V300R022C00SPC200"]
        if self.state.committed_at and only is None:
            head.append(f"!Last configuration was updated at {self.state.committed_at} by {self.state.committed_by}")
        return "\n".join([*head, *self.config_lines(config, only), "#", "return"])

    def config_digest_text(self) -> str:
        return "\n".join([*self.config_lines(self.state.running), "#", "return"])

    def display_current(self, values: list[Value]) -> str:
        only = f"interface {values[3]}" if len(values) > 2 else None
        return self.config_text(self.state.running, only)

    def display_candidate(self, values: list[Value]) -> str:
        return self.config_text(self.edit_config())

    def display_saved(self, values: list[Value]) -> str:
        return self.state.saved_text

    def _ports(self, values: list[Value]) -> list[str]:
        named = [v for v in values if isinstance(v, str) and v in self.ports()]
        return named or self.ports()

    def display_pfc(self, values: list[Value]) -> str:
        return dcb_pfc(self.device, self.state.running, self._ports(values), self.meter)

    def display_queues(self, values: list[Value]) -> str:
        return queue_statistics(self.device, self._ports(values)[0], self.meter)

    def display_ecn(self, values: list[Value]) -> str:
        return ecn_statistics(self.device, self._ports(values))

    def save(self, values: list[Value]) -> str:
        def answer(reply: str) -> str:
            if reply.lower()[:1] != "y":
                return ""
            self.state.saved_text = self.config_text(self.state.running)
            return "Now saving the current configuration to the slot 1.\nInfo: Save the configuration successfully."

        self.question = Question("Warning: The current configuration will be written to the device. Continue? [Y/N]:",
                                 answer)
        return ""
