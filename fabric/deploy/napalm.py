"""EOS (eAPI) and NX-OS (SSH) through napalm: merge candidate, diff, commit, and restore.

EOS: napalm's ``compare_config`` (the config session's own diff) is the semantic diff, and the candidate goes
into a config session, where unchanged lines change nothing. NX-OS: napalm nxos_ssh's merge diff is a flat
line list that loses the block order a merge needs, so the diff is fabric's hierarchical one against
``show running-config``, and only those lines, in the candidate's order, become napalm's merge candidate.
nxos_ssh does not notice every ``%`` error, so ``verify`` re-diffs against the running config read back.
On both, the stale lines of fabric's scope (``fabric.deploy.scope``) are negated first, in their blocks.
"""

from __future__ import annotations

from typing import Any

from fabric.core.platform import get_platform
from fabric.deploy.diff import commands, differences, parse_tree, restore_ops
from fabric.deploy.driver import DeployError, Target, check_output, classify, first_problem
from fabric.deploy.scope import plan, shown
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
        """The running config read once (the backup); fabric's stale lines negated, then the candidate. EOS shows
        the config session's own diff of both; NX-OS, the hierarchical plan."""
        self.seen = self.read_running()
        removals, additions = plan(self.seen, candidate, self.target.platform)
        if self.driver_name == "eos":
            merged = "\n".join([*commands(removals, "   ", "exit"), candidate]) if removals else candidate
            shown_lines = self._compare(merged)
            self.pending = merged if shown_lines else ""
            return [line for line in shown_lines.splitlines()  # a "!" separator is no change
                    if line.startswith(("+", "-")) and line[1:].strip() not in ("", "!")]
        typed = commands(removals, leave="exit") + commands(additions, leave="exit")
        self.pending = "\n".join(typed) + "\n" if typed else ""
        return shown(removals, additions, self.target.platform)

    def push(self) -> None:
        self.seen = None
        if not self.pending:
            return
        self._call("load_merge_candidate", config=self.pending)
        self._call("commit_config")

    def verify(self, candidate: str) -> list[str]:
        """What is still not as rendered: lines missing, or stale lines still there (a new plan must be empty)."""
        problems = self.diff(candidate)
        self.seen, self.pending = None, ""
        return [line for line in problems if line.strip()]

    def restore(self, backup: str) -> None:
        self.seen = None
        if self.driver_name == "eos":
            self._call("load_replace_candidate", config=backup)
            self._call("commit_config")
        else:
            self._restore_nxos(backup)
        left = differences(parse_tree(self.read_running()), parse_tree(backup), NXOS_PREDEFINED)
        if left:
            raise DeployError("error", f"rollback incomplete: {first_problem(left)}")

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
