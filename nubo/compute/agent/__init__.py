"""The compute agent: one per hypervisor host; runs operations through a driver."""
