"""The libvirt compute driver: QEMU guests (KVM where it works, TCG otherwise)
through libvirtd. ``driver.LibvirtDriver`` is the entry point."""
