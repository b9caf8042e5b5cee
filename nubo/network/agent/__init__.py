"""The network agent of a host: it realises the networking service's desired state
(bridges, ports, DHCP, routers, firewall rules) through a driver."""
