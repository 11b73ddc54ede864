#!/bin/bash
# fabric: lossless RoCE host settings for gpu04 (reference/lossless.md §6); one command per line, each sets an absolute value, so a second run leaves the same state.
set -euo pipefail
# gpu04 is an InfiniBand host: QoS (SL2VL, VL arbitration) and partitions are programmed by the subnet manager; nothing to set here.
