"""SSH channels were removed from Parsl (2024.11); constructing one says what to use instead."""
from parsl._base.errors import ConfigurationError
from parsl.channels.base import Channel

_ADVICE = ("{name} is not supported: Parsl removed SSH channels in 2024.11 and Chervil does not "
           "implement them. Run the Parsl script on the remote login node itself (or use a batch "
           "provider there), and let workers connect back to it.")


class _Removed(Channel):
    def __init__(self, *args, **kwargs):
        raise ConfigurationError(_ADVICE.format(name=type(self).__name__))


class SSHChannel(_Removed):
    pass


class SSHInteractiveLoginChannel(_Removed):
    pass


class OAuthSSHChannel(_Removed):
    pass
