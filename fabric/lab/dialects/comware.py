"""comware: an H3C Comware 7 switch CLI, as netmiko's ``hp_comware`` driver drives it.

``<leaf4>`` user view (``screen-length disable`` at login), ``system-view`` -> ``[leaf4]``, sub-views
``[leaf4-HundredGigE1/0/1]``, ``[leaf4-maptbl-dscp-dot1p]``, ``[leaf4-wred-table-NAME]``; ``quit`` goes up,
``return`` back to the user view; ``save force`` writes the saved configuration. Changes apply at once (no
commit). Errors print a caret under the bad word and `` % Unrecognized command found at '^' position.``
The PFC, QoS and ECN statements are those of reference/lossless.md §5.1.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fabric.lab.device import LabDevice
from fabric.lab.dialects.comware_show import priority_flow_control, queue_statistics
from fabric.lab.dialects.viewgrammar import Command, Grammar, Value
from fabric.lab.dialects.views import Question, ViewDialect, act
from fabric.lab.dialects.viewshow import RateMeter

C = Command
NAV = [C("quit", "action", run=act("quit")), C("return", "action", run=act("return_"))]
DISPLAY = [
    C("display current-configuration", "action", run=act("display_current")),
    C("display current-configuration interface <iface>", "action", run=act("display_current")),
    C("display saved-configuration", "action", run=act("display_saved")),
    C("display this", "action", run=act("display_this")),
    C("display priority-flow-control interface", "action", run=act("display_pfc")),
    C("display priority-flow-control interface <iface>", "action", run=act("display_pfc")),
    C("display qos queue-statistics interface outbound", "action", run=act("display_queues")),
    C("display qos queue-statistics interface <iface> outbound", "action", run=act("display_queues")),
    C("display qos queue-statistics interface <iface>", "action", run=act("display_queues")),
    C("save force", "action", run=act("save_force")),
    C("save", "action", run=act("save_ask")),
]
USER = [C("system-view", "action", run=act("system_view")), C("quit", "action", run=act("quit")),
        C("screen-length disable", "action", run=act("no_paging")), *DISPLAY]
SYSTEM = [
    *NAV, *DISPLAY,
    C("sysname <word>", key=1),
    C("interface <iface>", "enter", view="interface", removable=False, label=lambda v: str(v[1])),
    C("qos map-table {dscp-dot1p|dscp-dp|dscp-dscp}", "enter", view="maptbl-dscp", removable=False,
      label=lambda v: f"maptbl-{v[2]}"),
    C("qos map-table {dot1p-dp|dot1p-lp|lp-dot1p}", "enter", view="maptbl-dot1p", removable=False,
      label=lambda v: f"maptbl-{v[2]}"),
    C("qos wred queue table <word>", "enter", view="wred-table", label=lambda v: f"wred-table-{v[4]}"),
    C("priority-flow-control deadlock auto-recover action {discard|forwarding}", key=4),
    C("priority-flow-control deadlock auto-recover cos <int:0-7> delay <int:1-10000>", key=5),
    C("priority-flow-control deadlock cos <int:0-7> interval <int:1-10000>", key=4),
    C("priority-flow-control deadlock precision {high|normal|low}", key=3),
]
PFC_DOT1P = "priority-flow-control dot1p <int:0-7>"
INTERFACE = [
    *NAV, *DISPLAY,
    C("description <text>", key=1),
    C("jumboframe enable", key=2),
    C("jumboframe enable <int:1536-10000>", key=2),
    C("flow-control", key=1),
    C("qos trust {dscp|dot1p|tunnel-dot1p}", key=2),
    # [unverified] whether "undo qos wfq" also drops the per-queue "qos wfq <q> group ..." lines: kept as it was
    C("qos wfq", key=2, undo_clears_below=True),
    C("qos wfq {byte-count|weight}", key=2, undo_clears_below=True),
    C("qos wfq <int:0-7> group {1|2} {byte-count|weight} <int:1-100>", key=3),
    C("qos wfq <int:0-7> group sp", key=3),
    C("qos wred apply <word>", key=3),
    C("priority-flow-control {enable|auto}", key=1),
    C("priority-flow-control no-drop dot1p <ints:0-7>", key=3),
    C("priority-flow-control deadlock enable"),
    C("priority-flow-control deadlock recover-mode {auto|manual}", key=3),
    C(f"{PFC_DOT1P} headroom <int:1-1000000>", key=4),
    C(f"{PFC_DOT1P} ingress-buffer {{dynamic|static}} <int:0-1000000>", key=4),
    C(f"{PFC_DOT1P} ingress-threshold-offset <int:0-1000000>", key=4),
    C(f"{PFC_DOT1P} reserved-buffer <int:0-1000000>", key=4),
    C("priority-flow-control early-warning dot1p <ints:0-7> {inpps|outpps} <int:1-1000000000>", key=5,
      per_value=True),
]
WRED_TABLE = [
    *NAV, *DISPLAY,
    C("queue <int:0-7> low-limit <int:0-16000> high-limit <int:0-16000>", key=3),
    C("queue <int:0-7> low-limit <int:0-16000> high-limit <int:0-16000> discard-probability <int:0-100>", key=3),
    C("queue <int:0-7> drop-level <int:0-2> low-limit <int:0-16000> high-limit <int:0-16000> "
      "discard-probability <int:0-100>", key=5),
    C("queue <int:0-7> weighting-constant <int:0-15>", key=3),
    C("queue <int:0-7> ecn"),
]


def map_table(import_max: int, export_max: int) -> list[Command]:
    return [*NAV, *DISPLAY, C(f"import <ints:0-{import_max}> export <int:0-{export_max}>", key=2, per_value=True)]


class ComwareDialect(ViewDialect):
    """One SSH session on an H3C Comware 7 switch."""

    error_prefix: ClassVar[str] = " % "
    global_indent: ClassVar[str] = " "
    kind_order: ClassVar[list[str]] = ["maptbl-dscp", "maptbl-dot1p", "wred-table", "interface"]
    # every speed ``fabric inventory generate`` names (COMWARE_PREFIX); "EightHundredGigE" follows Comware's
    # pattern for 200G/400G [unverified: no H3C 800G reference found]
    interface_types: ClassVar[list[str]] = [
        "HundredGigE", "EightHundredGigE", "FourHundredGigE", "TwoHundredGigE", "FiftyGigE", "FortyGigE",
        "Twenty-FiveGigE", "Ten-GigabitEthernet", "GigabitEthernet", "M-GigabitEthernet"]
    interface_aliases: ClassVar[dict[str, str]] = {"hge": "HundredGigE", "fge": "FortyGigE", "wge": "Twenty-FiveGigE",
                                                   "xge": "Ten-GigabitEthernet", "ge": "GigabitEthernet"}
    grammars: ClassVar[dict[str, Grammar]] = {
        "user": Grammar(USER), "system": Grammar(SYSTEM), "interface": Grammar(INTERFACE),
        "maptbl-dscp": Grammar(map_table(63, 63)), "maptbl-dot1p": Grammar(map_table(7, 7)),
        "wred-table": Grammar(WRED_TABLE)}

    def __init__(self, device: LabDevice, username: str) -> None:
        super().__init__(device, username)
        self.meter = RateMeter()

    @classmethod
    def initial_config(cls, device: LabDevice) -> Any:
        return cls.boot_config(device)

    def refused(self) -> str:
        # [unverified wording] Comware's refusal while the configuration is locked by another session.
        return " % The configuration is locked by another user."

    def system_view_banner(self) -> str:
        return "System View: return to User View with Ctrl+Z."

    def no_paging(self, values: list[Value]) -> str:
        return ""

    def running_text(self) -> str:
        lines = ["#", " version 7.1.070, Release 6710", *self.config_lines(self.state.running), "#", "return"]
        return "\n".join(lines)

    def config_digest_text(self) -> str:
        return self.running_text()

    def display_current(self, values: list[Value]) -> str:
        if len(values) > 2:
            return "\n".join([*self.config_lines(self.state.running, f"interface {values[3]}"), "#", "return"])
        return self.running_text()

    def display_saved(self, values: list[Value]) -> str:
        return self.state.saved_text

    def _ports(self, values: list[Value]) -> list[str]:
        named = [v for v in values if isinstance(v, str) and v in self.ports()]
        return named or self.ports()

    def display_pfc(self, values: list[Value]) -> str:
        return priority_flow_control(self.device, self.state.running, self._ports(values), self.meter)

    def display_queues(self, values: list[Value]) -> str:
        return queue_statistics(self.device, self._ports(values), self.meter)

    def save_force(self, values: list[Value]) -> str:
        self.state.saved_text = self.running_text()
        return "Validating file. Please wait...\nSaved the current configuration to mainboard device successfully."

    def save_ask(self, values: list[Value]) -> str:
        def file_name(answer: str) -> str:
            return self.save_force([])

        def confirm(answer: str) -> str:
            if answer.lower() not in ("y", "yes"):
                return ""
            self.question = Question("Please input the file name(*.cfg)[flash:/startup.cfg]\n"
                                     "(To leave the existing filename unchanged, press the enter key):", file_name)
            return ""

        self.question = Question("The current configuration will be written to the device. Are you sure? [Y/N]:",
                                 confirm)
        return ""
