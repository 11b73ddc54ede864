"""fabric: provision, observe and tune the lossless RDMA network of AI training clusters."""

__version__ = "0.1.0"
