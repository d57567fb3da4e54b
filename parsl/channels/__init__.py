"""Channels: the tutorial-era way providers ran commands.  Only a no-op LocalChannel remains.

Parsl removed channels in 2024.12.  Chervil still accepts ``LocalChannel()`` (and
``provider(channel=LocalChannel())``) so the tutorial runs unchanged; it warns once.  The SSH
channels are refused with an error that says what to do instead.
"""
from parsl.channels.base import Channel
from parsl.channels.local import LocalChannel
from parsl.channels.ssh import OAuthSSHChannel, SSHChannel, SSHInteractiveLoginChannel

__all__ = ["Channel", "LocalChannel", "SSHChannel", "SSHInteractiveLoginChannel", "OAuthSSHChannel"]
