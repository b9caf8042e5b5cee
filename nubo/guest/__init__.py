"""The guest image nubo builds from Debian packages (docs/guest-image.md).

A small Linux like CirrOS — the Debian kernel, busybox and dropbear in an
initramfs — that takes DHCP, reads the metadata service or a config drive, lets
root in with the injected ssh key and prints a ready marker on the console.

``build`` makes it (cached by its inputs), ``register`` puts it in the image
service, ``cloud`` decides whether ``nubo up`` does both.
"""
