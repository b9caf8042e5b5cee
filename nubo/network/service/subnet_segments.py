"""A subnet's ``segment_id``: which segment of a routed network the subnet lives on.

Neutron's rules (``ipam_backend_mixin._validate_segment``): the segment is one of
the subnet's network; a network's subnets are either all on segments or none is;
a subnet already on a segment keeps it; an existing subnet may be put on a
segment only when it is its network's only subnet and the network has one segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row

from nubo.core.db.engine import Tx
from nubo.core.errors import NotFound
from nubo.network import tables as t
from nubo.network.errors import bad_request

SEG, S = t.network_segments, t.subnets
ROUTED = "network:routed"


async def _check_segment(tx: Tx, network_id: str, segment_id: str) -> None:
    found = (await tx.execute(select(SEG.c.network_id).where(SEG.c.id == segment_id))
             ).first()
    if found is None:
        raise NotFound(f"Segment {segment_id} could not be found.", type="SegmentNotFound")
    if found.network_id != network_id:
        raise bad_request("NetworkIdsDontMatch", f"The subnet's network id, '{network_id}', "
                          f"doesn't match the network_id of segment '{segment_id}'")


def _not_all(network_id: str) -> Exception:
    return bad_request("SubnetsNotAllAssociatedWithSegments", "All of the subnets on "
                       f"network '{network_id}' must either all be associated with "
                       "segments or all not associated with any segment.")


def _counted(rows: Sequence[Row[Any]]) -> list[Row[Any]]:
    """Subnets that take part in the rule (not those serving routed networks)."""
    return [r for r in rows if ROUTED not in (r.service_types or [])]


async def check_create_tx(tx: Tx, network_id: str, segment_id: str | None,
                          existing: Sequence[Row[Any]]) -> None:
    """A new subnet's segment, against the network's other subnets."""
    if segment_id is not None:
        await _check_segment(tx, network_id, segment_id)
    on_segments = {r.segment_id is not None for r in _counted(existing)}
    if on_segments and on_segments != {segment_id is not None}:
        raise _not_all(network_id)


async def check_update_tx(tx: Tx, row: Row[Any], segment_id: str | None) -> None:
    """``segment_id`` changed on an existing subnet (``subnet-segmentid-writable``)."""
    if segment_id == row.segment_id:
        return
    others = list(await tx.execute(select(S).where(S.c.network_id == row.network_id,
                                                   S.c.id != row.id)))
    if _counted(others):
        raise _not_all(row.network_id)
    if row.segment_id is not None:
        raise bad_request("SubnetSegmentAssociationChangeNotAllowed", "A subnet that is "
                          "already associated with a segment cannot have its segment "
                          "association changed.")
    count = (await tx.execute(select(func.count()).select_from(SEG).where(
        SEG.c.network_id == row.network_id))).scalar()
    if (count or 0) > 1:
        raise bad_request("NoUpdateSubnetWhenMultipleSegmentsOnNetwork",
                          f"The network '{row.network_id}' has multiple segments, it is "
                          "only possible to associate an existing subnet with a segment "
                          "on networks with a single segment.")
    if segment_id is not None:
        await _check_segment(tx, row.network_id, segment_id)
