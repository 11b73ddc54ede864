"""Inventory: Nornir SimpleInventory files plus fabric.yaml, loaded into typed models."""

from fabric.inventory.load import load_inventory
from fabric.inventory.models import Device, Fabric

__all__ = ["Device", "Fabric", "load_inventory"]
