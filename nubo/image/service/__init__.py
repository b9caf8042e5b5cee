"""The image service's operations; ``images.py`` holds what other services call."""
