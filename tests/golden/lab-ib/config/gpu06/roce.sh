#!/bin/bash
# fabric: lossless RoCE settings for gpu06 (reference/lossless.md §6); every line sets a value, so a re-run changes nothing.
set -euo pipefail
# infiniband host: QoS, SL2VL and partitions are programmed by the subnet manager; nothing to set here.
