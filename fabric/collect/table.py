"""Which collectors run for which platform: a table, not code branches (issue 6)."""

from __future__ import annotations

# SNMP table groups: "if" (IF-MIB), "ieee_pfc" (IEEE8021-PFC-MIB totals) everywhere an agent runs;
# "cisco_pfc" (CISCO-PFC-EXT-MIB per priority) and "cisco_queue" (CISCO-SWITCH-QOS-MIB per queue) where the
# platform's agent serves them: NX-OS natively, SONiC through sonic-snmpagent (reference/lossless.md §1.7).
SNMP_GROUPS: dict[str, tuple[str, ...]] = {
    "sonic": ("if", "ieee_pfc", "cisco_pfc", "cisco_queue"),
    "nxos": ("if", "ieee_pfc", "cisco_pfc", "cisco_queue"),
    "eos": ("if", "ieee_pfc"),
    "nvue": ("if", "ieee_pfc"),
    "comware": ("if", "ieee_pfc"),
    "huawei_ce": ("if", "ieee_pfc"),
}


def snmp_groups(platform: str) -> tuple[str, ...]:
    """The SNMP groups polled on ``platform``; empty for hosts (no agent)."""
    return SNMP_GROUPS.get(platform, ())
