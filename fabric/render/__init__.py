"""Render: DeviceIntent -> configuration files, through logic-free Jinja2 templates per platform."""

from fabric.render.render import RenderedConfig, render_device, render_fabric, write_rendered

__all__ = ["RenderedConfig", "render_device", "render_fabric", "write_rendered"]
