"""The lab: a digital twin of an inventory, every device a real network endpoint on its own loopback address.

Nothing outside ``fabric.cli`` and the tests imports this package.
"""
