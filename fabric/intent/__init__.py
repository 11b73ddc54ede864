"""Intent: vendor-neutral structured configuration, built by pure functions from the inventory."""

from fabric.intent.build import build_device, build_intent
from fabric.intent.models import DeviceIntent

__all__ = ["DeviceIntent", "build_device", "build_intent"]
