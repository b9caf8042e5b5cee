"""openstacksdk's placement proxy (version discovery through the catalog included)."""

from __future__ import annotations

from typing import Any

from tests.functional.placement.conftest import new


def test_sdk_resource_providers_inventories_and_traits(admin: Any) -> None:
    name = f"sdk-{new()[:8]}"
    rp = admin.placement.create_resource_provider(name=name)
    try:
        assert rp.id and rp.generation == 0
        assert name in [p.name for p in admin.placement.resource_providers(name=name)]
        inv = admin.placement.create_resource_provider_inventory(
            rp, resource_class="VCPU", total=8, allocation_ratio=2.0,
            resource_provider_generation=0)
        assert inv.total == 8
        listed = list(admin.placement.resource_provider_inventories(rp))
        assert [i.resource_class for i in listed] == ["VCPU"]
        assert "COMPUTE_NODE" in [t.name for t in admin.placement.traits()]
        assert "VCPU" in [c.name for c in admin.placement.resource_classes()]
    finally:
        admin.placement.delete_resource_provider(rp)
    assert not list(admin.placement.resource_providers(name=name))
