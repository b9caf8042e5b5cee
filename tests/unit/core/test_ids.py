"""Buffered random UUIDs: version 4 as the standard library's, never repeated, also
across a fork (the child does not hand out the ids its parent has buffered)."""

from __future__ import annotations

import os
import uuid

from nubo.core import ids


def test_ids_are_random_version_4_uuids() -> None:
    made = [ids.uuid4() for _ in range(3000)]       # several buffers' worth
    assert len(set(made)) == len(made)
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in made)
    assert uuid.UUID(ids.new_uuid()).version == 4


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    ids.uuid4()                                      # the parent has bytes buffered
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                     # the child: its next ids, then exit
        os.close(read)
        os.write(write, "".join(ids.new_uuid() for _ in range(4)).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    theirs = {child[i:i + 36] for i in range(0, len(child), 36)}
    mine = {ids.new_uuid() for _ in range(4)}
    assert len(theirs) == 4 and not theirs & mine
