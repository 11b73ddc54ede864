"""linux_mlx5: the bash login shell of a GPU server with ConnectX NICs (MLNX_OFED tools, iproute2, ethtool).

Sessions start as the login user (``fabric@gpu01:~$ ``, Debian's PS1). ``sudo -s`` gives a root shell
(``root@gpu01:/home/fabric# ``): netmiko's ``linux`` driver enters it as its config mode and leaves it with
``exit``; the user has passwordless sudo, so no ``secret`` is needed. The rendered host script
(templates/linux_mlx5/*.j2 -> roce.sh) runs line by line in that root shell, or as ``sudo bash -c '...'``/``sudo
bash FILE``. ``ssh host CMD`` runs CMD as ``bash -c`` would (exit status, ``bash: line 1: X: command not found``).

Commands: mlnx_qos (fabric.lab.dialects.mlnx_tools), cma_roce_tos (.cma_roce_tos), ip link, ethtool, rdma and
ibdev2netdev (.host_net), cat/echo/printf with redirections into the virtual /sys (.host_fs), base64, tee, grep,
ls, cd, set, sudo, bash, hostname, id (.host_commands); the shell is .host_shell over .host_syntax, the state
.host_state.
"""

from __future__ import annotations

from typing import ClassVar

from fabric.lab.device import LabDevice
from fabric.lab.dialects.base import Dialect, EndSession
from fabric.lab.dialects.cma_roce_tos import cma_roce_tos
from fabric.lab.dialects.host_commands import COMMANDS
from fabric.lab.dialects.host_net import ethtool, ibdev2netdev, ip, rdma
from fabric.lab.dialects.host_shell import Ctx, Host, Program, run_line, run_script
from fabric.lab.dialects.host_state import HostState, boot_state
from fabric.lab.dialects.mlnx_tools import mlnx_qos


class LinuxHostDialect(Dialect):
    """A bash login shell on a lab host; root shells are pushed by sudo and popped by ``exit``."""

    programs: ClassVar[dict[str, Program]] = {**COMMANDS, "mlnx_qos": mlnx_qos, "cma_roce_tos": cma_roce_tos,
                                              "ip": ip, "ethtool": ethtool, "rdma": rdma,
                                              "ibdev2netdev": ibdev2netdev}

    def __init__(self, device: LabDevice, username: str) -> None:
        super().__init__(device, username)
        state: HostState = device.config
        root = username == "root"
        home = "/root" if root else f"/home/{username}" if username else "/"
        state.dirs.add(home)
        self.host = Host(state, device, self.programs)
        self.shells = [Ctx(self.host, username, root, home, home)]

    @classmethod
    def initial_config(cls, device: LabDevice) -> HostState:
        return boot_state(device.name, device.inventory.interfaces)

    def prompt(self) -> str:
        ctx = self.shells[-1]
        where = ctx.cwd
        if ctx.cwd == ctx.home or ctx.cwd.startswith(ctx.home + "/"):
            where = "~" + ctx.cwd[len(ctx.home):]
        return f"{ctx.user}@{self.host.state.hostname.split('.')[0]}:{where}{'#' if ctx.root else '$'} "

    def handle(self, line: str) -> str:
        result = run_line(self.shells[-1], line)
        if result.push is not None:
            self.shells.append(result.push)
        elif result.exit_shell:
            self.shells.pop()
            if not self.shells:
                raise EndSession
            self.shells[-1].status = result.status
        return _terminal(result.text)

    def run_command(self, command: str) -> tuple[str, int]:
        """``ssh host COMMAND``: sshd runs ``bash -c COMMAND`` as the login user."""
        ctx = self.shells[0].child(interactive=False, prefix="bash", options=set())
        result = run_script(ctx, command)
        return _terminal(result.text), result.status

    def config_digest_text(self) -> str:
        return self.host.state.digest_text()


def _terminal(text: str) -> str:
    """The SSH server ends every reply with a newline of its own."""
    return text[:-1] if text.endswith("\n") else text
