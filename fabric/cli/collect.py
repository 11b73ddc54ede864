"""fabric collect: poll every switch's SNMP agent, derive rates and alerts, write to one or more sinks.

Credentials: SNMPv3 authPriv (SHA/AES) when ``FABRIC_SNMP_USER`` is set (keys in ``FABRIC_SNMP_AUTH_KEY`` /
``FABRIC_SNMP_PRIV_KEY``), else v2c with ``FABRIC_SNMP_COMMUNITY``. Secrets come from the environment only,
never from flags, files or output. ``--lab STATE_DIR`` polls a running twin instead (its endpoints and keys).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from fabric.cli import exitcodes
from fabric.cli.output import err
from fabric.collect.alerts import AlertThresholds
from fabric.collect.cli_source import CLI_COMMANDS, CLI_TRANSPORT, SshLogin, SshTarget
from fabric.collect.run import Collector
from fabric.collect.snmp import SnmpAuth, SnmpTarget
from fabric.collect.table import snmp_groups
from fabric.inventory.models import Device, Fabric
from fabric.sink import Sink, SinkError, open_sinks


def _fabric(inventory: Path) -> Fabric:
    from fabric.inventory.check import load_and_check

    loaded = load_and_check(str(inventory))
    if loaded.fabric is None or not loaded.report.ok:
        first = loaded.report.problems[0] if loaded.report.problems else None
        err.print(f"error: {inventory}: invalid inventory ({first}); run 'fabric validate {inventory}'",
                  markup=False, emoji=False)
        raise typer.Exit(exitcodes.INVALID)
    return loaded.fabric


def _env_auth() -> SnmpAuth:
    env = os.environ
    if env.get("FABRIC_SNMP_USER"):
        if not env.get("FABRIC_SNMP_AUTH_KEY") or not env.get("FABRIC_SNMP_PRIV_KEY"):
            err.print("error: FABRIC_SNMP_USER is set but FABRIC_SNMP_AUTH_KEY/FABRIC_SNMP_PRIV_KEY are not; "
                      "set both (SNMPv3 authPriv SHA/AES)", markup=False, emoji=False)
            raise typer.Exit(exitcodes.USAGE)
        short = next((k for k in ("FABRIC_SNMP_AUTH_KEY", "FABRIC_SNMP_PRIV_KEY") if len(env[k]) < 8), None)
        if short:  # pysnmp refuses it only once polling starts, and every device would fail the same way
            err.print(f"error: {short} is shorter than 8 characters; SNMPv3 keys (RFC 3414) are 8 or more: set the "
                      "key the agents use", markup=False, emoji=False)
            raise typer.Exit(exitcodes.USAGE)
        return SnmpAuth(user=env["FABRIC_SNMP_USER"], auth_key=env["FABRIC_SNMP_AUTH_KEY"],
                        priv_key=env["FABRIC_SNMP_PRIV_KEY"])
    if not env.get("FABRIC_SNMP_COMMUNITY"):
        err.print("error: no SNMP credentials; set FABRIC_SNMP_COMMUNITY (v2c) or FABRIC_SNMP_USER, "
                  "FABRIC_SNMP_AUTH_KEY, FABRIC_SNMP_PRIV_KEY (v3)", markup=False, emoji=False)
        raise typer.Exit(exitcodes.USAGE)
    return SnmpAuth(community=env["FABRIC_SNMP_COMMUNITY"])


def _targets(fabric: Fabric, lab_dir: Path | None, v3: bool) -> tuple[list[SnmpTarget], SnmpAuth | None]:
    switches = [d for d in fabric.devices.values() if snmp_groups(d.platform)]
    if lab_dir is None:
        return [SnmpTarget(d.name, d.platform, d.hostname, 161) for d in switches], None
    from fabric.lab.control import Lab, LabError
    from fabric.lab.snmp import load_credentials

    lab = Lab(lab_dir)
    try:
        endpoints = {d.name: lab.endpoint(d.name, "snmp") for d in switches}
        creds = load_credentials(lab)
    except LabError as exc:
        err.print(f"error: --lab {lab_dir}: {exc}; start it with 'fabric lab up'", markup=False, emoji=False)
        raise typer.Exit(exitcodes.UNREACHABLE) from None
    auth = (SnmpAuth(user=creds.user, auth_key=creds.auth_key, priv_key=creds.priv_key) if v3
            else SnmpAuth(community=creds.community))
    return [SnmpTarget(d.name, d.platform, endpoints[d.name]["address"], int(endpoints[d.name]["port"]))
            for d in switches], auth


def _cli_targets(fabric: Fabric, lab_dir: Path | None) -> tuple[list[SshTarget], SshLogin | None]:
    """CLI targets of the platforms with CLI collectors (SSH, or eAPI for EOS: HTTPS on the inventory port or 443,
    the lab's HTTP endpoint with --lab); the lab's login with --lab, else the inventory's usernames and
    ``FABRIC_SSH_PASSWORD`` (no password: the CLI collectors are skipped, with a warning)."""
    devices = [d for d in fabric.devices.values() if d.platform in CLI_COMMANDS]
    if lab_dir is None:
        password = os.environ.get("FABRIC_SSH_PASSWORD")
        if not password:
            if devices:
                err.print("warning: FABRIC_SSH_PASSWORD is not set; CLI collectors (ECN marks, watermarks, host "
                          "NIC counters) skipped", markup=False, emoji=False)
            return [], None
        targets = []
        for d in devices:
            transport = CLI_TRANSPORT.get(d.platform, "ssh")
            targets.append(SshTarget(d.name, d.platform, d.hostname, d.port or (22 if transport == "ssh" else 443),
                                     d.username or "admin", tuple(d.interfaces), transport, _lossless(fabric, d)))
        return targets, SshLogin(password)
    from fabric.lab.control import Lab, LabError

    lab = Lab(lab_dir)
    targets = []
    for d in devices:
        transport = "ssh" if CLI_TRANSPORT.get(d.platform, "ssh") == "ssh" else "http"  # the lab's eAPI is HTTP
        try:
            ep = lab.endpoint(d.name, "ssh" if transport == "ssh" else "eapi")
        except LabError:
            continue
        targets.append(SshTarget(d.name, d.platform, ep["address"], int(ep["port"]), ep["username"],
                                 tuple(d.interfaces), transport, _lossless(fabric, d)))
    return targets, SshLogin(lab.password, lab.known_hosts)


def _lossless(fabric: Fabric, device: Device) -> int:
    """The device's RoCE priority: the lowest with PFC (its override, else fabric.yaml's)."""
    return min(device.pfc.priorities or fabric.spec.pfc.priorities)


def collect(
    inventory: Annotated[Path, typer.Argument(help="Inventory folder (fabric.yaml, hosts.yaml).")],
    sink: Annotated[list[str], typer.Option(
        "--sink", help="influx | jsonl:PATH | lineprotocol:PATH | stdout; repeat for several.")] = ["stdout"],  # noqa: B006
    once: Annotated[bool, typer.Option("--once", help="One cycle, then exit (cron, systemd timers).")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="Seconds between aligned cycles.")] = 10.0,
    duration: Annotated[float | None, typer.Option("--duration", min=0.1, help="Stop after this many seconds.")]
    = None,
    deadline: Annotated[float, typer.Option("--deadline", min=0.1, help="Per-device time limit per cycle, seconds.")]
    = 5.0,
    lab: Annotated[Path | None, typer.Option("--lab", help="Poll the running twin of this state dir.")] = None,
    v3: Annotated[bool, typer.Option("--v3", help="With --lab: SNMPv3 authPriv instead of v2c.")] = False,
    cli: Annotated[bool, typer.Option("--cli/--no-cli", help="Also run the CLI collectors over SSH.")] = True,
    influx_url: Annotated[str | None, typer.Option("--influx-url", help="Or FABRIC_INFLUX_URL.")] = None,
    influx_org: Annotated[str | None, typer.Option("--influx-org", help="Or FABRIC_INFLUX_ORG.")] = None,
    influx_bucket: Annotated[str | None, typer.Option("--influx-bucket", help="Or FABRIC_INFLUX_BUCKET.")] = None,
    spool: Annotated[Path | None, typer.Option("--spool", help="Spool folder while InfluxDB is down (default "
                                               "$XDG_STATE_HOME or ~/.local/state, then fabric/collect-spool).")]
    = None,
) -> None:
    """Collect per-port congestion counters (SNMP, CLI over SSH) with rates and alerts. Token: FABRIC_INFLUX_TOKEN
    only."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fabric = _fabric(inventory)
    targets, lab_auth = _targets(fabric, lab, v3)
    auth = lab_auth or _env_auth()
    try:
        sinks: list[Sink] = open_sinks(sink, os.environ, {"url": influx_url, "org": influx_org,
                                                          "bucket": influx_bucket,
                                                          "spool": str(spool) if spool else None})
    except SinkError as exc:
        err.print(f"error: {exc}", markup=False, emoji=False)
        raise typer.Exit(exitcodes.USAGE) from None
    alerts = fabric.spec.telemetry.alerts
    thresholds = AlertThresholds(alerts.pfc_storm_frames_per_s, alerts.lossless_drop_pkts_per_s,
                                 tuple(fabric.spec.pfc.priorities), alerts.ecn_absent_pause_frames_per_s,
                                 alerts.cnp_surge_per_s, {d.name: tuple(d.pfc.priorities)
                                                          for d in fabric.devices.values() if d.pfc.priorities})
    cli_targets, login = _cli_targets(fabric, lab) if cli else ([], None)
    if not once:
        deadline = min(deadline, 0.8 * interval)  # a slow device never pushes a cycle into the next tick
    collector = Collector(targets, auth, sinks, thresholds, deadline, cli_targets, login)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, collector.stop.set)
        await collector.run(None if once else interval, duration)

    try:
        asyncio.run(main())
    finally:
        for s in sinks:
            s.close()
    failed = {d for r in collector.reports for d in r.failed}
    cycles = len(collector.reports)
    samples = sum(r.samples for r in collector.reports)
    alerts_raised = sum(len(r.alerts) for r in collector.reports)
    devices = len({t.device for t in targets} | {t.device for t in cli_targets})
    lost = sum(s.health().get("sink_dropped", 0) for s in sinks if not s.health().get("gone"))
    err.print(f"collect: {cycles} cycle(s), {devices} devices, {samples} samples, {alerts_raised} alerts, "
              f"{len(failed)} device(s) failed{': ' + ', '.join(sorted(failed)) if failed else ''}"
              f"{f'; {lost} points a sink could not write (its error above)' if lost else ''}",
              markup=False, emoji=False)
    if failed or lost:
        raise typer.Exit(exitcodes.SOME_FAILED)


class _NoAlertLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("alert ")


def glance_rates(series: dict[str, list[float]]) -> dict[str, float]:
    """One port's rates at a glance from its per-queue series (one rate per cycle after the first): each queue's
    mean over the cycles, summed per counter. A mean, not the last cycle: the twin's engine writes counters once
    per tick and may lag the wall clock, so one interval alone can fall between its writes."""
    mean = {key: sum(values) / len(values) for key, values in series.items()}
    return {key: sum(v for k, v in mean.items() if k.startswith(f"{key}:"))
            for key in ("pfc", "pause", "ecn", "drops", "lossless", "rx")}


def demo_collect(inventory: Path, lab_dir: Path, heading: str, cycles: int = 3, interval_s: float = 1.0,
                 top: int = 5) -> None:
    """A demo telemetry step on a running twin: a few cycles into a local jsonl sink (and InfluxDB when
    ``FABRIC_INFLUX_URL`` is set), then the fabric's congestion at a glance under ``heading``."""
    import tempfile

    from fabric.cli.output import table

    fabric = _fabric(inventory)
    with tempfile.TemporaryDirectory(prefix="fabric-demo-collect-") as scratch:
        targets, auth = _targets(fabric, lab_dir, v3=False)
        assert auth is not None  # a lab always hands out its community
        specs = [f"jsonl:{Path(scratch) / 'samples.jsonl'}"] + (["influx"] if os.environ.get(
            "FABRIC_INFLUX_URL") else [])
        sinks = open_sinks(specs, os.environ, {"spool": str(Path(scratch) / "spool")})
        cli_targets, login = _cli_targets(fabric, lab_dir)
        collector = Collector(targets, auth, sinks, cli_targets=cli_targets, login=login)
        quiet = _NoAlertLines()  # the step lists the alerts itself, once, below its table
        logging.getLogger("fabric.collect").addFilter(quiet)
        try:
            asyncio.run(collector.run(interval_s, None, cycles))
        finally:
            logging.getLogger("fabric.collect").removeFilter(quiet)
            for s in sinks:
                s.close()
        import json

        rates: dict[tuple[str, str], dict[str, list[float]]] = {}
        for line in (Path(scratch) / "samples.jsonl").read_text().splitlines():
            row = json.loads(line)
            tags, fields = row["tags"], row["fields"]
            if "interface" not in tags or row["measurement"] not in ("interface", "pfc", "queue"):
                continue
            port = rates.setdefault((tags["device"], tags["interface"]), {})
            where = tags.get("queue", tags.get("priority", ""))
            lossless = where in {str(p) for p in fabric.spec.pfc.priorities}
            for field, key in (("rx_pfc_frames_per_s", "pfc"), ("rx_pause_duration_us_per_s", "pause"),
                               ("ecn_marked_pkts_per_s", "ecn"), ("drop_pkts_per_s", "drops"),
                               ("rx_octets_per_s", "rx")):
                if field not in fields:
                    continue
                if key == "drops" and lossless:
                    port.setdefault(f"lossless:{where}", []).append(fields[field])
                if key == "pfc" and row["measurement"] != "interface":
                    continue  # the port total; the per-priority rows would double it
                port.setdefault(f"{key}:{where}", []).append(fields[field])  # per queue or priority, per cycle
    ports = {at: glance_rates(series) for at, series in rates.items()}
    alerts = [a for r in collector.reports for a in r.alerts]
    err.print(f"      {len(collector.reports)} cycles of {len(targets)} switches (SNMP) and {len(cli_targets)} "
              f"devices (CLI), {sum(r.samples for r in collector.reports)} samples, {len(alerts)} alerts",
              markup=False, emoji=False)
    order = ("pause", "pfc", "ecn", "drops", "rx")
    ranked = sorted(ports.items(), key=lambda item: tuple(-item[1].get(k, 0.0) for k in order))[:top]
    table(f"{heading}: top ports by PFC pause time, pauses, ECN marks, drops",
          ["device", "port", "pause us/s", "pfc rx/s", "ecn marks/s", "drops/s", "lossless drops/s", "rx Gb/s"],
          [[d, p, f"{f.get('pause', 0.0):.0f}", f"{f.get('pfc', 0.0):.0f}", f"{f.get('ecn', 0.0):.0f}",
            f"{f.get('drops', 0.0):.0f}", f"{f.get('lossless', 0.0):.0f}", f"{f.get('rx', 0.0) * 8 / 1e9:.1f}"]
           for (d, p), f in ranked])
    for alert in alerts[:top]:
        err.print(f"      alert {alert.fields['message']}", markup=False, emoji=False)
    if len(alerts) > top:
        err.print(f"      ... and {len(alerts) - top} more alerts", markup=False, emoji=False)
