"""The network agent's reconcile: desired state and the driver's inventory in,
the changes and status reports out."""

from __future__ import annotations

from dataclasses import replace

from nubo.network.agent.driver import Inventory, PlacedPort, PlacedRouter
from nubo.network.agent.reconcile import Desired, Plan, Scope, plan
from nubo.network.agent.state import (
    Dhcp,
    Firewall,
    FixedIp,
    FloatingIp,
    Network,
    Port,
    PortForwarding,
    Router,
    RouterPort,
    SecurityGroup,
    Segment,
    digest_of,
)

ALL = Scope.everything()


def net(nid: str, mtu: int = 1450) -> Network:
    return Network(nid, mtu, True, (Segment("vxlan", None, 100),))


def port(pid: str, nid: str = "n1", *, up: bool = True, ip: str = "10.0.0.5") -> Port:
    return Port(pid, nid, "fa:16:3e:00:00:01", (FixedIp("s1", ip, "10.0.0.0/24"),), up,
                1450, "compute:nova", "server-1", True, (), ("sg1",))


def dhcp(nid: str) -> Dhcp:
    return Dhcp(nid, 1450, "openstacklocal", (), ())


def router(rid: str, *, up: bool = True, fips: tuple[str, ...] = (),
           forwarded: tuple[str, ...] = ()) -> Router:
    leg = RouterPort(f"{rid}-if", "n1", "fa:16:3e:00:00:09",
                     (FixedIp("s1", "10.0.0.1", "10.0.0.0/24"),), 1450)
    return Router(rid, up, True, None, (), (leg,), (),
                  tuple(FloatingIp(f, "172.24.4.10", "10.0.0.5", "p1") for f in fips),
                  tuple(PortForwarding(f"pf-{f}", f, "172.24.4.11", "tcp", "10.0.0.5",
                                       22, 22, 2222, 2222) for f in forwarded))


def placed(*objs: Network | Port | Dhcp | Router) -> Inventory:
    """An inventory holding exactly ``objs`` as applied."""
    inv = Inventory()
    for o in objs:
        if isinstance(o, Network):
            inv.networks[o.id] = digest_of(o)
        elif isinstance(o, Port):
            inv.ports[o.id] = PlacedPort(o.network_id, digest_of(o))
        elif isinstance(o, Dhcp):
            inv.dhcp[o.network_id] = digest_of(o)
        else:
            inv.routers[o.id] = PlacedRouter(digest_of(o), o.network_ids(),
                                             tuple(sorted(o.floating_ip_ids())))
    return inv


def test_empty_host_gets_everything_in_dependency_order() -> None:
    p1 = port("p1")
    desired = Desired(networks={"n1": net("n1")}, ports={"p1": p1},
                      port_status={"p1": "DOWN"}, dhcp={"n1": dhcp("n1")},
                      routers={"r1": router("r1")}, firewall=Firewall())
    out = plan(desired, Inventory(), ALL)
    assert [n.id for n in out.ensure_networks] == ["n1"]
    assert out.plug_ports == [p1]
    assert [d.network_id for d in out.ensure_dhcp] == ["n1"]
    assert [r.id for r in out.ensure_routers] == ["r1"]
    assert out.firewall == Firewall()
    assert out.ports_up == ["p1"] and out.ports_down == []
    assert out.router_ports_up == ["r1-if"]
    assert not (out.remove_networks or out.unplug_ports or out.remove_dhcp
                or out.remove_routers)


def test_host_in_step_changes_nothing_and_reports_nothing() -> None:
    p1, n1, d1, r1 = port("p1"), net("n1"), dhcp("n1"), router("r1")
    inv = placed(n1, p1, d1, r1)
    inv.firewall = digest_of(Firewall())
    desired = Desired(networks={"n1": n1}, ports={"p1": p1},
                      port_status={"p1": "ACTIVE", "r1-if": "ACTIVE"},
                      dhcp={"n1": d1}, routers={"r1": r1}, firewall=Firewall())
    out = plan(desired, inv, ALL)
    assert out.changes() == 0
    assert out == Plan()


def test_changed_objects_are_applied_again() -> None:
    p1, n1 = port("p1"), net("n1")
    moved = replace(p1, fixed_ips=(FixedIp("s1", "10.0.0.9", "10.0.0.0/24"),))
    desired = Desired(networks={"n1": n1}, ports={"p1": moved},
                      port_status={"p1": "ACTIVE"})
    out = plan(desired, placed(n1, p1), ALL)
    assert out.plug_ports == [moved]
    assert out.ensure_networks == []


def test_unknown_digest_is_applied_again() -> None:
    n1 = net("n1")
    inv = Inventory(networks={"n1": None})
    out = plan(Desired(networks={"n1": n1}), inv, ALL)
    assert out.ensure_networks == [n1]


def test_a_remade_bridge_gets_its_ports_again() -> None:
    p1, n1 = port("p1"), net("n1")
    bigger = replace(n1, mtu=1500)
    out = plan(Desired(networks={"n1": bigger}, ports={"p1": p1},
                       port_status={"p1": "ACTIVE"}), placed(n1, p1), ALL)
    assert out.ensure_networks == [bigger]
    assert out.plug_ports == [p1]


def test_orphans_are_removed_and_unplugged_ports_reported_down() -> None:
    inv = placed(net("n1"), port("p1"), dhcp("n1"), router("r1"))
    out = plan(Desired(firewall=Firewall()), inv, ALL)
    assert out.remove_routers == ["r1"]
    assert out.remove_dhcp == ["n1"]
    assert out.unplug_ports == ["p1"]
    assert out.remove_networks == ["n1"]
    assert out.ports_down == ["p1"]


def test_scope_leaves_other_objects_alone() -> None:
    inv = placed(net("n1"), port("p1"), port("p2"), dhcp("n1"), router("r1"))
    scope = Scope(ports=frozenset({"p2"}))
    out = plan(Desired(), inv, scope)
    assert out.unplug_ports == ["p2"]
    assert out.remove_networks == [] and out.remove_dhcp == [] and out.remove_routers == []
    assert out.firewall is None


def test_network_in_scope_goes_when_nothing_needs_it() -> None:
    inv = placed(net("n1"), port("p1"))
    out = plan(Desired(), inv, Scope(ports=frozenset({"p1"}), networks=frozenset({"n1"})))
    assert out.unplug_ports == ["p1"] and out.remove_networks == ["n1"]


def test_a_network_that_goes_takes_its_ports_along() -> None:
    inv = placed(net("n1"), net("n2"), port("p1"), port("dhcp1"), port("p3", "n2"))
    out = plan(Desired(), inv, Scope(networks=frozenset({"n1"})))
    assert out.remove_networks == ["n1"] and out.unplug_ports == ["dhcp1", "p1"]
    # a port the service still wants there stays (the network then stays too)
    out = plan(Desired(networks={"n1": net("n1")}, ports={"p1": port("p1")}), inv,
               Scope(networks=frozenset({"n1"})))
    assert out.remove_networks == [] and out.unplug_ports == []


def test_admin_state_decides_port_status() -> None:
    down = port("p1", up=False)
    out = plan(Desired(networks={"n1": net("n1")}, ports={"p1": down},
                       port_status={"p1": "ACTIVE"}), placed(net("n1"), down), ALL)
    assert out.plug_ports == [] and out.ports_down == ["p1"] and out.ports_up == []
    up = port("p1")
    out = plan(Desired(networks={"n1": net("n1")}, ports={"p1": up},
                       port_status={"p1": "DOWN"}), placed(net("n1"), down), ALL)
    assert out.plug_ports == [up] and out.ports_up == ["p1"]


def test_floating_ips_follow_the_routers_that_carry_them() -> None:
    r1 = router("r1", fips=("f1",), forwarded=("f4",))
    desired = Desired(routers={"r1": r1}, port_status={"r1-if": "ACTIVE"},
                      floating_ip_status={"f1": "DOWN", "f2": "ACTIVE", "f3": "DOWN",
                                          "f4": "DOWN"})
    out = plan(desired, placed(router("r1")), Scope(routers=frozenset({"r1"})))
    assert out.ensure_routers == [r1]
    assert out.floating_ips_active == ["f1", "f4"]
    assert out.floating_ips_down == ["f2"]


def test_admin_down_router_keeps_its_legs_up_but_not_its_floating_ips() -> None:
    r1 = router("r1", up=False, fips=("f1",))
    desired = Desired(routers={"r1": r1}, port_status={"r1-if": "DOWN"},
                      floating_ip_status={"f1": "ACTIVE"})
    out = plan(desired, Inventory(), Scope(routers=None))
    assert out.router_ports_up == ["r1-if"]
    assert out.floating_ips_down == ["f1"] and out.floating_ips_active == []


def test_firewall_synced_only_when_in_scope_and_changed() -> None:
    fw = Firewall(groups=(SecurityGroup("sg1", True, ()),))
    assert plan(Desired(firewall=fw), Inventory(), ALL).firewall == fw
    inv = Inventory(firewall=digest_of(fw))
    assert plan(Desired(firewall=fw), inv, ALL).firewall is None
    assert plan(Desired(), Inventory(), Scope()).firewall is None


def test_scopes_merge() -> None:
    a = Scope(ports=frozenset({"p1"}), firewall=True)
    b = Scope(ports=frozenset({"p2"}), routers=None, floating_ips=frozenset({"f"}))
    m = a.merge(b)
    assert m.ports == {"p1", "p2"} and m.routers is None and m.firewall
    assert m.floating_ips == {"f"} and m.dhcp == frozenset()
    assert Scope().is_empty() and not m.is_empty()
    assert a.merge(Scope.everything()) == Scope.everything()
