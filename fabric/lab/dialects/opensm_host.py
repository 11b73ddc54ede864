"""opensm: the shell of the InfiniBand subnet-manager host (a linux_mlx5 host plus /etc/opensm and its service).

Deploying writes the rendered files (tests/golden/<inv>/config/<sm>/{opensm,partitions,qos-policy,root_guids}.conf)
into /etc/opensm as root, then ``systemctl restart opensm``. The write form that survives netmiko and the
terminal (no here-document prompts, no line over netmiko's 511-column terminal) is base64 in chunks of at most
400 characters (a multiple of 4, so each chunk decodes alone), one line each, the first truncating:
    printf '%s' CHUNK1 | base64 -d > /etc/opensm/opensm.conf
    printf '%s' CHUNK2 | base64 -d >> /etc/opensm/opensm.conf
Files only take effect at the restart: the service then reads opensm.conf the way opensm's
osm_subn_parse_conf_file does ("key value" lines, ``#`` comments, unknown keys logged and skipped).
"""

from __future__ import annotations

import time
from typing import ClassVar

from fabric.lab.device import LabDevice
from fabric.lab.dialects.host_fs import FsError
from fabric.lab.dialects.host_shell import Ctx, Program, Result
from fabric.lab.dialects.host_state import HostState, OpensmService, boot_state
from fabric.lab.dialects.linux_host import LinuxHostDialect

CONF = "/etc/opensm/opensm.conf"
LOG = "/var/log/opensm.log"
UNIT = "opensm.service"
QOS_KEYS = ("max_vls", "high_limit", "vlarb_high", "vlarb_low", "sl2vl")
OPTIONS = {
    "guid", "m_key", "sm_key", "sa_key", "subnet_prefix", "m_key_lease_period", "m_key_protection_level",
    "m_key_lookup", "lmc", "lmc_esp0", "max_op_vls", "force_link_speed", "force_link_speed_ext", "force_link_width",
    "fdr10", "reassign_lids", "ignore_other_sm", "single_thread", "disable_multicast", "force_log_flush",
    "subnet_timeout", "packet_life_time", "vl_stall_count", "leaf_vl_stall_count", "head_of_queue_lifetime",
    "leaf_head_of_queue_lifetime", "local_phy_errors_threshold", "overrun_errors_threshold", "use_mfttop",
    "sminfo_polling_timeout", "polling_retry_number", "force_heavy_sweep", "port_prof_ignore_file",
    "hop_weights_file", "port_search_ordering_file", "port_profile_switch_nodes", "sweep_on_trap",
    "routing_engine", "avoid_throttled_links", "connect_roots", "use_ucast_cache", "log_file", "log_max_size",
    "lid_matrix_dump_file", "lfts_file", "root_guid_file", "cn_guid_file", "io_guid_file", "quasi_ftree_indexing",
    "max_reverse_hops", "ids_guid_file", "guid_routing_order_file", "guid_routing_order_no_scatter", "sa_db_file",
    "sa_db_dump", "torus_config", "do_mesh_analysis", "lash_start_vl", "nue_max_num_vls", "sm_sl", "log_prefix",
    "accum_log_file", "partition_config_file", "no_partition_enforcement", "part_enforce", "allow_both_pkeys",
    "sm_assigned_guid", "qos", "qos_policy_file", "suppress_sl2vl_mad_status_errors", "dump_files_dir",
    "sm_priority", "sweep_interval", "max_wire_smps", "max_wire_smps2", "max_smps_timeout", "transaction_timeout",
    "transaction_retries", "max_msg_fifo_timeout", "honor_guid2lid_file", "daemon", "exit_on_fatal", "log_flags",
    "perfmgr", "perfmgr_redir", "perfmgr_sweep_time_s", "perfmgr_max_outstanding_queries", "perfmgr_ignore_cas",
    "event_db_dump_file", "perfmgr_rm_nodes", "perfmgr_log_errors", "perfmgr_query_cpi", "perfmgr_xmit_wait_log",
    "perfmgr_xmit_wait_threshold", "event_plugin_name", "event_plugin_options", "node_name_map_name",
    "scatter_ports", "port_shifting", "enable_quirks", "no_clients_rereg", "prefix_routes_file",
    "consolidate_ipv6_snm_req", "consolidate_ipv4_mask", "babbling_port_policy", "drop_event_subscriptions",
    "ipoib_mcgroup_creation_validation", "mcgroup_join_validation", "use_optimized_slvl", "fsync_high_avail_files",
    "congestion_control", "cc_key", "cc_max_outstanding_mads", "cc_cct", "cc_sw_cong_setting_control_map",
    "cc_sw_cong_setting_victim_mask", "cc_sw_cong_setting_credit_mask", "cc_sw_cong_setting_threshold",
    "cc_sw_cong_setting_packet_size", "cc_sw_cong_setting_credit_starvation_threshold",
    "cc_sw_cong_setting_credit_starvation_return_delay", "cc_sw_cong_setting_marking_rate",
    "cc_ca_cong_setting_port_control", "cc_ca_cong_setting_control_map", "cc_ca_cong_setting_ccti_timer",
    "cc_ca_cong_setting_ccti_increase", "cc_ca_cong_setting_trigger_threshold", "cc_ca_cong_setting_ccti_min",
} | {f"qos{prefix}_{key}" for prefix in ("", "_ca", "_rtr", "_sw0", "_swe") for key in QOS_KEYS}


def parse_opensm_conf(text: str) -> tuple[dict[str, str], list[str]]:
    """opensm.conf as osm_subn_parse_conf_file reads it: (options by key, unrecognized keys)."""
    options: dict[str, str] = {}
    unknown: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(None, 1)
        if not words:
            continue
        if words[0] in OPTIONS:
            options[words[0]] = words[1].strip() if len(words) > 1 else ""
        else:
            unknown.append(words[0])
    return options, unknown


def systemctl(ctx: Ctx, argv: list[str], stdin: str | None) -> Result:
    """systemctl {start|stop|restart|status|is-active|is-enabled} opensm[.service]."""
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) < 2:
        return Result(err="Too few arguments.\n", status=1)
    action, unit = args[0], args[1] if args[1].endswith(".service") else args[1] + ".service"
    service = ctx.host.state.opensm
    if action not in ("start", "stop", "restart", "reload", "status", "is-active", "is-enabled"):
        return Result(err=f'Unknown command verb {action}.\n', status=1)
    if unit != UNIT or service is None:
        return _no_unit(action, unit)
    if action == "is-active":
        return Result(out="active\n" if service.active else "inactive\n", status=0 if service.active else 3)
    if action == "is-enabled":
        return Result(out="enabled\n")
    if action == "status":
        return _status(service)
    verb = action
    if not ctx.root:
        return Result(err=f"Failed to {verb} {UNIT}: Interactive authentication required.\n"
                          f"See system logs and 'systemctl status {UNIT}' for details.\n", status=1)
    if ctx.host.rejecting:
        return Result(err=f"Failed to {verb} {UNIT}: Access denied\n"
                          f"See system logs and 'systemctl status {UNIT}' for details.\n", status=1)
    if action == "stop":
        service.active = False
        return Result()
    if action == "reload" and not service.active:
        return Result(err=f"Job for {UNIT} invalid.\n", status=1)
    if action == "start" and service.active:
        return Result()
    _start(ctx, service)
    return Result()


def _no_unit(action: str, unit: str) -> Result:
    if action == "is-active":
        return Result(out="inactive\n", status=3)
    if action in ("status", "is-enabled"):
        return Result(err=f"Unit {unit} could not be found.\n", status=4)
    return Result(err=f"Failed to {action} {unit}: Unit {unit} not found.\n", status=5)


def _start(ctx: Ctx, service: OpensmService) -> None:
    """opensm (re)reads opensm.conf; a missing file leaves every option at its default."""
    try:
        text = ctx.host.fs.read(CONF)
    except FsError:
        text = ""
    service.options, service.unrecognized = parse_opensm_conf(text)
    service.active, service.since = True, time.time()
    log = [f" Reading Cached Option File: {CONF}\n"] if text else []
    log += [f' Unrecognized token: "{key}"\n' for key in service.unrecognized]
    ctx.host.state.files[LOG] = ctx.host.state.files.get(LOG, "") + "".join(log)


def _status(service: OpensmService) -> Result:
    since = time.strftime("%a %Y-%m-%d %H:%M:%S UTC", time.gmtime(service.since))
    ago = int(time.time() - service.since)
    state = f"active (running) since {since}; {ago}s ago" if service.active else "inactive (dead)"
    dot = "●" if service.active else "○"
    return Result(out=f"{dot} {UNIT} - Starts the OpenSM InfiniBand fabric Subnet Managers\n"
                      f"     Loaded: loaded (/lib/systemd/system/{UNIT}; enabled; preset: enabled)\n"
                      f"     Active: {state}\n       Docs: man:opensm(8)\n", status=0 if service.active else 3)


class OpensmHostDialect(LinuxHostDialect):
    """The subnet-manager host: a ConnectX host whose /etc/opensm and opensm service deploy programs."""

    programs: ClassVar[dict[str, Program]] = {**LinuxHostDialect.programs, "systemctl": systemctl}

    @classmethod
    def initial_config(cls, device: LabDevice) -> HostState:
        return boot_state(device.name, device.inventory.interfaces, opensm=True)
