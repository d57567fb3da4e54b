"""Ways to find an address of this host that workers elsewhere can connect to (Parsl's
``parsl.addresses``).  The code lives in ``parsl._htex.addresses``."""
from parsl._htex.addresses import (  # noqa: F401
    address_by_hostname,
    address_by_interface,
    address_by_query,
    address_by_route,
    get_all_addresses,
    get_any_address,
    sorted_for_probing,
    tcp_url,
)

__all__ = ["address_by_hostname", "address_by_interface", "address_by_query", "address_by_route",
           "get_all_addresses", "get_any_address", "sorted_for_probing", "tcp_url"]
