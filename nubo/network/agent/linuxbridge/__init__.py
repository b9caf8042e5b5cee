"""The Linux bridge data plane: bridges and VXLAN, dnsmasq in ``qdhcp-`` namespaces,
routers in ``qrouter-`` namespaces with nftables NAT, security groups as nftables
rules, the metadata proxy (``driver.LinuxBridgeDriver``; docs/network.md, "Linux
bridge data plane")."""
