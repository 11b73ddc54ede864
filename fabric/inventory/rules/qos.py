"""Rules on traffic classes and PFC: one lossless class, the same everywhere, CNPs never lossless."""

from __future__ import annotations

from collections.abc import Iterator

from fabric.core.problems import Problem
from fabric.inventory.effective import dscp_to_tc, effective_pfc, effective_qos
from fabric.inventory.models import Device, Fabric


def _lossless_devices(fabric: Fabric) -> list[Device]:
    return [d for d in fabric.devices.values() if d.role != "sm" and d.platform != "ib_switch"]


def classes(fabric: Fabric) -> Iterator[Problem]:
    """Within one device: RoCE, CNP and default traffic land in distinct classes; CNP is not lossless."""
    if fabric.spec.transport != "roce":
        return
    for device in [None, *_lossless_devices(fabric)]:
        qos = fabric.spec.qos if device is None else effective_qos(fabric.spec, device)
        pfc = fabric.spec.pfc if device is None else effective_pfc(fabric.spec, device)
        if device is not None and qos is fabric.spec.qos and pfc is fabric.spec.pfc:
            continue  # no overrides: the fabric-level check covers it
        where = "fabric.yaml:qos" if device is None else f"hosts.yaml:{device.name}.data.qos"
        if qos.cnp_dscp in qos.roce_dscp:
            yield Problem(f"{where}.cnp_dscp", f"CNP DSCP {qos.cnp_dscp} is also a RoCE data DSCP",
                          "give CNPs their own DSCP (48 by default)")
        if qos.cnp_priority in pfc.priorities:
            yield Problem(f"{where}.cnp_priority", f"CNP priority {qos.cnp_priority} has PFC enabled",
                          "CNPs go strict priority, never lossless: remove it from pfc.priorities")
        if qos.cnp_priority == qos.lossless_priority:
            yield Problem(f"{where}.cnp_priority", "CNP priority equals the lossless priority",
                          "use a separate strict priority for CNPs (6 by default)")
        if qos.default_priority in (qos.lossless_priority, qos.cnp_priority):
            yield Problem(f"{where}.default_priority", "default traffic shares the RoCE or CNP class",
                          "map other traffic to its own priority (0 by default)")
        if qos.lossless_priority not in pfc.priorities:
            yield Problem(f"{where}.lossless_priority",
                          f"lossless priority {qos.lossless_priority} is not in pfc.priorities {pfc.priorities}",
                          "add it to pfc.priorities")


def fabric_wide(fabric: Fabric) -> Iterator[Problem]:
    """The lossless priority and the DSCP -> TC map are identical on every device."""
    if fabric.spec.transport != "roce":
        return
    base_qos = fabric.spec.qos
    base_map = dscp_to_tc(base_qos)
    for device in _lossless_devices(fabric):
        qos = effective_qos(fabric.spec, device)
        if qos is base_qos:
            continue  # no overrides: nothing can differ
        where = f"hosts.yaml:{device.name}.data.qos"
        if qos.lossless_priority != base_qos.lossless_priority:
            yield Problem(f"{where}.lossless_priority",
                          f"lossless priority {qos.lossless_priority} differs from the fabric's "
                          f"{base_qos.lossless_priority}", "the lossless priority must be the same on every hop")
        diff = sorted(d for d, tc in dscp_to_tc(qos).items() if base_map[d] != tc)
        if diff:
            yield Problem(where, f"DSCP -> TC map differs from fabric.yaml for DSCP {diff[:8]}",
                          "remove the override: the DSCP map must be identical fabric-wide")


def pfc_settings(fabric: Fabric) -> Iterator[Problem]:
    """802.3x pause off, DCBX not willing, watchdog timers sane."""
    if fabric.spec.transport != "roce":
        return
    pfc = fabric.spec.pfc
    if pfc.link_pause:
        yield Problem("fabric.yaml:pfc.link_pause", "802.3x link pause is on; PFC and link pause exclude each other",
                      "set link_pause: false")
    for device in [None, *_lossless_devices(fabric)]:
        effective = pfc if device is None else effective_pfc(fabric.spec, device)
        where = "fabric.yaml:pfc" if device is None else f"hosts.yaml:{device.name}.data.pfc"
        if effective.dcbx_willing and (device is None or device.pfc.dcbx_willing):
            yield Problem(f"{where}.dcbx_willing", "DCBX willing lets the peer overwrite PFC settings",
                          "set dcbx_willing: false (static, non-willing configuration)")
    yield from _watchdog(fabric)


def _watchdog(fabric: Fabric) -> Iterator[Problem]:
    wd = fabric.spec.pfc.watchdog
    where = "fabric.yaml:pfc.watchdog"
    if not wd.enabled:
        yield Problem(where + ".enabled", "the PFC watchdog is off: a PFC storm will stall the fabric",
                      "enable it unless the NOS cannot", severity="warning")
        return
    if wd.restore_ms < wd.detect_ms:
        yield Problem(where + ".restore_ms", f"restore_ms {wd.restore_ms} is below detect_ms {wd.detect_ms}",
                      "set restore_ms >= detect_ms")
    if not 100 <= wd.detect_ms <= 5000:
        yield Problem(where + ".detect_ms", f"{wd.detect_ms} ms is outside 100-5000 ms", "use 200 (SONiC default)")
    if not 100 <= wd.restore_ms <= 60000:
        yield Problem(where + ".restore_ms", f"{wd.restore_ms} ms is outside 100-60000 ms", "use 200-400")
    if not 100 <= wd.poll_ms <= 1000:
        yield Problem(where + ".poll_ms", f"{wd.poll_ms} ms is outside 100-1000 ms", "use 100-200")
    elif wd.poll_ms > wd.detect_ms:
        yield Problem(where + ".poll_ms", f"poll_ms {wd.poll_ms} exceeds detect_ms {wd.detect_ms}",
                      "poll at least once per detection interval")


RULES = [classes, fabric_wide, pfc_settings]
