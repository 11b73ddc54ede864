"""Feature ``qos``: DSCP -> TC classification, TC -> queue/PG maps and ETS scheduling."""

from __future__ import annotations

from functools import lru_cache

from fabric.intent.models import EtsClass, QosIntent
from fabric.inventory.effective import dscp_to_tc
from fabric.inventory.models import QosSpec

PRIORITIES = range(8)


def ets_classes(qos: QosSpec) -> list[EtsClass]:
    """CNPs strict; the lossless TC and the default TC share DWRR."""
    return [
        EtsClass(tc=qos.default_priority, mode="dwrr", name="default",
                 bandwidth_percent=100 - qos.lossless_bandwidth_percent),
        EtsClass(tc=qos.lossless_priority, mode="dwrr", name="roce",
                 bandwidth_percent=qos.lossless_bandwidth_percent),
        EtsClass(tc=qos.cnp_priority, mode="strict", name="cnp"),
    ]


def build_qos(qos: QosSpec, pfc_priorities: list[int] | None = None) -> QosIntent:
    """The ``qos`` intent of a device whose effective settings are ``qos`` and PFC ``pfc_priorities``.

    Every PFC priority gets its own priority group (SONiC AZURE: TC3 -> PG3, TC4 -> PG4): a second lossless
    priority folded into PG 0 would give the lossy PG the lossless headroom and pause all default traffic.
    Devices share their QoS settings, so the (frozen) result is built once per distinct setting.
    """
    lossless = (qos.lossless_priority, *(pfc_priorities or ()))
    return _build_qos(qos.model_dump_json(), tuple(sorted(set(lossless))))


@lru_cache(maxsize=64)
def _build_qos(raw: str, lossless_pgs: tuple[int, ...]) -> QosIntent:
    qos = QosSpec.model_validate_json(raw)
    table = dscp_to_tc(qos)
    groups: dict[int, list[int]] = {}
    for dscp, tc in table.items():
        groups.setdefault(tc, []).append(dscp)
    return QosIntent(
        trust=qos.trust, roce_dscp=sorted(qos.roce_dscp), cnp_dscp=qos.cnp_dscp,
        lossless_tc=qos.lossless_priority, cnp_tc=qos.cnp_priority, default_tc=qos.default_priority,
        dscp_to_tc=table, dscp_groups=dict(sorted(groups.items())),
        tc_to_queue={tc: tc for tc in PRIORITIES},
        tc_to_pg={tc: (tc if tc in lossless_pgs else 0) for tc in PRIORITIES},
        ets=ets_classes(qos),
    )
