"""EOS (eAPI) and NX-OS (SSH) through napalm: merge candidate, diff, commit, and restore.

EOS: napalm's ``compare_config`` (the config session's own diff) is the semantic diff, and the candidate goes
into a config session, where unchanged lines change nothing. NX-OS: napalm nxos_ssh's merge diff is a flat
line list that loses the block order a merge needs, so the diff is fabric's hierarchical one against
``show running-config``, and only those lines, in the candidate's order, become napalm's merge candidate.
nxos_ssh does not notice every ``%`` error, so ``verify`` re-diffs against the running config read back.
"""

from __future__ import annotations

from typing import Any

from fabric.core.platform import get_platform
from fabric.deploy.diff import commands, differences, parse_tree, render_ops, restore_ops, to_push
from fabric.deploy.driver import DeployError, Target, check_output, classify
from fabric.deploy.ssh import fix_base_prompt, netmiko_params

NXOS_PREDEFINED = ("system qos",)  # always there; emptied by a restore, shown empty, configures nothing


class NapalmDriver:
    """eos / nxos: napalm merge candidate, compare, commit; restore by replace (eos) or negation (nxos)."""

    backup_suffix = ".cfg"

    def __init__(self, target: Target) -> None:
        self.target = target
        self.driver_name = str(get_platform(target.platform).napalm_driver)
        self.device: Any = None
        self.pending = ""
        self.seen: str | None = None

    def open(self) -> None:
        from napalm import get_network_driver

        t = self.target
        if self.driver_name == "eos":
            optional: dict[str, Any] = {"transport": t.api_transport, "port": t.api_port or 443}
        else:
            params = netmiko_params(t)
            optional = {k: v for k, v in params.items() if k not in (
                "device_type", "host", "username", "password", "secret", "session_log", "read_timeout_override")}
        try:
            self.device = get_network_driver(self.driver_name)(
                t.address, t.username, t.password or "", timeout=int(t.timeout_s), optional_args=optional)
            self.device.open()
        except Exception as exc:  # a library error is a one-line reason
            raise classify(exc) from None
        if self.driver_name != "eos":
            fix_base_prompt(self.device.device)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.device, method)(*args, **kwargs)
        except Exception as exc:  # a library error is a one-line reason
            error = classify(exc)
            if error.kind == "error" and "Exception" in type(exc).__name__:
                raise DeployError("rejected", f"{method}: {' '.join(str(exc).split())[:200]}") from None
            raise error from None

    def read_running(self) -> str:
        return str(self._call("get_config", retrieve="running")["running"])

    def get_running(self) -> str:
        """The running config the last ``diff`` read (NX-OS), else read now."""
        return self.seen if self.seen is not None else self.read_running()

    def _compare(self, candidate: str) -> str:
        self._call("load_merge_candidate", config=candidate)
        try:
            return str(self._call("compare_config")).strip()
        finally:
            self._call("discard_config")

    def diff(self, candidate: str) -> list[str]:
        if self.driver_name == "eos":
            shown = self._compare(candidate)
            self.pending = candidate if shown else ""
            return [line for line in shown.splitlines() if line.startswith(("+", "-"))]
        self.seen = self.read_running()
        ops = to_push(candidate, parse_tree(self.seen), "no")
        self.pending = "\n".join(commands(ops, leave="exit")) + "\n" if ops else ""
        return render_ops(ops)

    def push(self) -> None:
        self.seen = None
        if not self.pending:
            return
        self._call("load_merge_candidate", config=self.pending)
        self._call("commit_config")

    def verify(self, candidate: str) -> list[str]:
        if self.driver_name == "eos":
            return [line for line in self._compare(candidate).splitlines() if line.strip()]
        return render_ops(to_push(candidate, parse_tree(self.read_running()), "no"))

    def restore(self, backup: str) -> None:
        self.seen = None
        if self.driver_name == "eos":
            self._call("load_replace_candidate", config=backup)
            self._call("commit_config")
        else:
            self._restore_nxos(backup)
        left = differences(parse_tree(self.read_running()), parse_tree(backup), NXOS_PREDEFINED)
        if left:
            raise DeployError("error", f"rollback incomplete: {left[0].strip()}")

    def _restore_nxos(self, backup: str) -> None:
        """``no`` the lines the backup lacks, re-add the ones it has, over napalm's own netmiko session (a
        replace through napalm needs SCP, which a switch may not offer)."""
        removals, additions = restore_ops(parse_tree(self.read_running()), parse_tree(backup), "no")
        conn = self.device.device
        try:
            if removals:
                conn.send_config_set(commands(removals, leave="exit"), cmd_verify=False)
            if additions:
                output = conn.send_config_set(commands(additions, leave="exit"), cmd_verify=False)
                check_output(output, ("% ",), "restore")
            conn.send_command("copy running-config startup-config", read_timeout=self.target.timeout_s)
        except DeployError:
            raise
        except Exception as exc:  # a library error is a one-line reason
            raise classify(exc) from None

    def close(self) -> None:
        if self.device is not None:
            try:
                self.device.close()
            except Exception:  # closing a dead session is not a failure
                self.device = None
