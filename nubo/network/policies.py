"""Default policy rules of the networking API, named as Neutron names them
(its secure-RBAC defaults: admin, project member, project reader).

A resource's target carries ``project_id`` and, where they apply, ``shared``,
``router:external`` and ``network:project_id`` (the owner of the port's or
subnet's network). Rules named ``<action>_<resource>:<attribute>`` guard one
attribute; they are listed in ``ATTRIBUTE_RULES`` so the API checks them for
the attributes a body sets or a reply shows.
"""

from __future__ import annotations

DEFAULTS: dict[str, str] = {
    "context_is_admin": "role:admin",
    "admin_only": "rule:context_is_admin",
    "context_is_advsvc": "role:advsvc",
    "service_api": "role:service",
    "admin_or_owner": "rule:context_is_admin or project_id:%(project_id)s",
    "project_member": "role:member and project_id:%(project_id)s",
    "project_reader": "role:reader and project_id:%(project_id)s",
    "admin_or_project_member": "rule:context_is_admin or rule:project_member",
    "admin_or_project_reader": "rule:context_is_admin or rule:project_reader",
    "network_owner": "project_id:%(network:project_id)s",
    "network_owner_member": "role:member and project_id:%(network:project_id)s",
    "network_owner_reader": "role:reader and project_id:%(network:project_id)s",
    "shared": "'True':%(shared)s",
    "external": "'True':%(router:external)s",
    "regular_user": "",
}

_ADMIN = "rule:admin_only"
_MEMBER = "rule:admin_or_project_member"
_READER = "rule:admin_or_project_reader"
_ANY = "rule:regular_user"

# --- networks -------------------------------------------------------------------
DEFAULTS.update({
    "create_network": _MEMBER,
    "create_network:shared": _ADMIN,
    "create_network:router:external": _ADMIN,
    "create_network:is_default": _ADMIN,
    "create_network:port_security_enabled": _MEMBER,
    "create_network:segments": _ADMIN,
    "create_network:provider:network_type": _ADMIN,
    "create_network:provider:physical_network": _ADMIN,
    "create_network:provider:segmentation_id": _ADMIN,
    "get_network": f"{_READER} or rule:shared or rule:external or rule:context_is_advsvc",
    "get_network:segments": _ADMIN,
    "get_network:provider:network_type": _ADMIN,
    "get_network:provider:physical_network": _ADMIN,
    "get_network:provider:segmentation_id": _ADMIN,
    "update_network": _MEMBER,
    "update_network:shared": _ADMIN,
    "update_network:router:external": _ADMIN,
    "update_network:is_default": _ADMIN,
    "update_network:port_security_enabled": _MEMBER,
    "update_network:segments": _ADMIN,
    "update_network:provider:network_type": _ADMIN,
    "update_network:provider:physical_network": _ADMIN,
    "update_network:provider:segmentation_id": _ADMIN,
    "delete_network": _MEMBER,
})

# --- routers, floating IPs, port forwardings --------------------------------------
# a port forwarding's target carries its floating IP's project as ``ext_parent_owner_id``
_PARENT_MEMBER = ("rule:admin_only or "
                  "(role:member and project_id:%(ext_parent_owner_id)s)")
_PARENT_READER = ("rule:admin_only or "
                  "(role:reader and project_id:%(ext_parent_owner_id)s)")
for _action in ("create", "update"):
    DEFAULTS.update({
        f"{_action}_router:distributed": _ADMIN,
        f"{_action}_router:ha": _ADMIN,
        f"{_action}_router:external_gateway_info": _MEMBER,
        f"{_action}_router:external_gateway_info:network_id": _MEMBER,
        f"{_action}_router:external_gateway_info:enable_snat": _ADMIN,
        f"{_action}_router:external_gateway_info:external_fixed_ips": _ADMIN,
    })
DEFAULTS.update({
    "create_router": _MEMBER,
    "get_router": _READER,
    "get_router:distributed": _ADMIN,
    "get_router:ha": _ADMIN,
    "update_router": _MEMBER,
    "delete_router": _MEMBER,
    "add_router_interface": _MEMBER,
    "remove_router_interface": _MEMBER,
    "add_extraroutes": _MEMBER,
    "remove_extraroutes": _MEMBER,
    "create_floatingip": _MEMBER,
    "create_floatingip:floating_ip_address":
        "rule:admin_only or (role:manager and project_id:%(project_id)s)",
    "get_floatingip": _READER,
    "update_floatingip": _MEMBER,
    "delete_floatingip": _MEMBER,
    "create_floatingip_port_forwarding": _PARENT_MEMBER,
    "get_floatingip_port_forwarding": _PARENT_READER,
    "update_floatingip_port_forwarding": _PARENT_MEMBER,
    "delete_floatingip_port_forwarding": _PARENT_MEMBER,
})

# --- segments, RBAC policies, quotas, agents, availability zones ------------------
# an RBAC policy's target carries ``target_tenant``: only admins share with everyone
DEFAULTS.update({
    "create_segment": _ADMIN,
    "get_segment": _ADMIN,
    "update_segment": _ADMIN,
    "delete_segment": _ADMIN,
    "restrict_wildcard": "rule:admin_only or not '*':%(target_tenant)s",
    "create_rbac_policy": _MEMBER,
    "create_rbac_policy:target_tenant": "rule:restrict_wildcard",
    "get_rbac_policy": _READER,
    "update_rbac_policy": _MEMBER,
    "update_rbac_policy:target_tenant": "rule:restrict_wildcard and rule:admin_or_owner",
    "delete_rbac_policy": _MEMBER,
    # a project reads its own quota without a rule; these guard the others'
    "get_quota": _ADMIN,
    "update_quota": _ADMIN,
    "delete_quota": _ADMIN,
    "get_agent": _ADMIN,
    "update_agent": _ADMIN,
    "delete_agent": _ADMIN,
    "get_availability_zone": _ANY,
    "get_auto_allocated_topology": _READER,
    "delete_auto_allocated_topology": _MEMBER,
})

# --- subnets, subnet pools, address scopes, IP availability -----------------------
# a subnet's target carries its network's owner (``network:project_id``) and whether
# the network is shared with the caller (``shared``) or external (``router:external``)
_NET_OWNER_MEMBER = "rule:admin_only or rule:network_owner_member"
DEFAULTS.update({
    "create_subnet": _NET_OWNER_MEMBER,
    "create_subnet:segment_id": _ADMIN,
    "create_subnet:service_types": _ADMIN,
    "get_subnet": (f"{_READER} or rule:shared or rule:external or "
                   "rule:network_owner_reader or rule:service_api"),
    "get_subnet:segment_id": _ADMIN,
    "update_subnet": f"{_MEMBER} or rule:network_owner_member",
    "update_subnet:segment_id": _ADMIN,
    "update_subnet:service_types": _ADMIN,
    "delete_subnet": f"{_MEMBER} or rule:network_owner_member",
    "shared_subnetpools": "'True':%(shared)s",
    "create_subnetpool": _MEMBER,
    "create_subnetpool:shared": _ADMIN,
    "create_subnetpool:is_default": _ADMIN,
    "get_subnetpool": f"{_READER} or rule:shared_subnetpools",
    "update_subnetpool": _MEMBER,
    "update_subnetpool:is_default": _ADMIN,
    "delete_subnetpool": _MEMBER,
    "add_prefixes": _MEMBER,
    "remove_prefixes": _MEMBER,
    "shared_address_scopes": "'True':%(shared)s",
    "create_address_scope": _MEMBER,
    "create_address_scope:shared": _ADMIN,
    "get_address_scope": f"{_READER} or rule:shared_address_scopes",
    "update_address_scope": _MEMBER,
    "update_address_scope:shared": _ADMIN,
    "delete_address_scope": _MEMBER,
    "get_network_ip_availability": "rule:admin_only or rule:service_api",
})

# --- ports --------------------------------------------------------------------------
# a port's target carries its network's owner (``network:project_id``), whether the
# network is shared with the caller (``shared``) and whether the port is the network
# service's own (``network_device``: its device_owner starts with "network:")
_SERVICE = "rule:admin_only or rule:service_api"
_PORT_NET_MEMBER = f"{_SERVICE} or rule:network_owner_member"
_PORT_PAIRS = "rule:admin_only or rule:network_owner_member or rule:service_api"
DEFAULTS.update({
    "network_device": "'True':%(network_device)s",
    "network_owner_manager": "role:manager and project_id:%(network:project_id)s",
    "create_port": f"{_PORT_NET_MEMBER} or rule:shared",
    "create_port:device_id": f"{_MEMBER} or rule:service_api",
    "create_port:device_owner": f"not rule:network_device or {_PORT_NET_MEMBER}",
    "create_port:mac_address": _PORT_NET_MEMBER,
    "create_port:fixed_ips": f"{_PORT_NET_MEMBER} or rule:shared",
    "create_port:fixed_ips:ip_address": _PORT_NET_MEMBER,
    "create_port:fixed_ips:subnet_id": f"{_PORT_NET_MEMBER} or rule:shared",
    "create_port:port_security_enabled": _PORT_NET_MEMBER,
    "create_port:binding:host_id": _SERVICE,
    "create_port:binding:profile": "rule:service_api",
    "create_port:binding:vnic_type": f"{_MEMBER} or rule:service_api",
    "create_port:allowed_address_pairs": _PORT_PAIRS,
    "create_port:allowed_address_pairs:mac_address": _PORT_PAIRS,
    "create_port:allowed_address_pairs:ip_address": _PORT_PAIRS,
    "create_port:tags": f"{_MEMBER} or rule:context_is_advsvc",
    "get_port": (f"{_SERVICE} or rule:network_owner_reader or rule:project_reader "
                 "or rule:context_is_advsvc"),
    "get_port:binding:vif_type": _SERVICE,
    "get_port:binding:vif_details": _SERVICE,
    "get_port:binding:host_id": _SERVICE,
    "get_port:binding:profile": _SERVICE,
    "update_port": f"{_SERVICE} or rule:project_member",
    "update_port:device_id": f"{_MEMBER} or rule:service_api",
    "update_port:device_owner": f"not rule:network_device or {_PORT_NET_MEMBER}",
    "update_port:mac_address": f"{_SERVICE} or rule:network_owner_manager",
    "update_port:fixed_ips": _PORT_NET_MEMBER,
    "update_port:fixed_ips:ip_address": _PORT_NET_MEMBER,
    "update_port:fixed_ips:subnet_id": f"{_PORT_NET_MEMBER} or rule:shared",
    "update_port:port_security_enabled": _PORT_NET_MEMBER,
    "update_port:binding:host_id": _SERVICE,
    "update_port:binding:profile": "rule:service_api",
    "update_port:binding:vnic_type": f"{_SERVICE} or rule:project_member",
    "update_port:allowed_address_pairs": _PORT_PAIRS,
    "update_port:allowed_address_pairs:mac_address": _PORT_PAIRS,
    "update_port:allowed_address_pairs:ip_address": _PORT_PAIRS,
    "delete_port": f"{_PORT_NET_MEMBER} or rule:project_member",
})

# --- security groups, rules, default rules, address groups ------------------------
# a rule's target carries its group's owner (``security_group:project_id``); a group's
# and an address group's carry whether they are shared with the caller (``shared``)
DEFAULTS.update({
    "sg_owner": "project_id:%(security_group:project_id)s",
    "admin_or_sg_owner": "rule:context_is_admin or rule:sg_owner",
    "shared_security_group": "'True':%(shared)s",
    "create_security_group": _MEMBER,
    "get_security_group": f"{_READER} or rule:shared_security_group",
    "update_security_group": _MEMBER,
    "delete_security_group": _MEMBER,
    "create_security_group_rule": "rule:context_is_admin or (role:member and rule:sg_owner)",
    "get_security_group_rule": "rule:context_is_admin or (role:reader and rule:sg_owner)",
    "delete_security_group_rule": "rule:context_is_admin or (role:member and rule:sg_owner)",
    # templates belong to no project: any reader sees them, only admins change them
    "create_default_security_group_rule": _ADMIN,
    "get_default_security_group_rule": "role:reader",
    "delete_default_security_group_rule": _ADMIN,
    "shared_address_groups": "'True':%(shared)s",
    "create_address_group": _MEMBER,
    "get_address_group": f"{_READER} or rule:shared_address_groups",
    "update_address_group": _MEMBER,
    "delete_address_group": _MEMBER,
    "add_addresses": _MEMBER,
    "remove_addresses": _MEMBER,
})

# --- tags (any taggable resource: the rule of updating it applies) ---------------
DEFAULTS.update({
    "get_tags": _ANY,
})

# (keep this last: rules added above it by each resource's section are included)
ATTRIBUTE_RULES = frozenset(rule for rule in DEFAULTS if ":" in rule and (
    rule.startswith(("create_", "update_", "get_", "delete_"))))
