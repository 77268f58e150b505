#!/usr/bin/env python3
"""The real-print operating point with turned fingers: ../shared/tools/operating_protocol.py with 180°
added to its probe rotations (a phone held upside down), for any command with the fphal-eval interface.

usage: operating_point.py EVAL_BIN REAL_DIR IMPOSTOR_DIR WORK_DIR [--sizes 160,192] [--check]

Everything else (14-touch templates, crops, jitter, the decision taken from the command's own match
column) is the protocol's own; see its docstring. IMPOSTOR_DIR "-" scores the unturned probes against
the other sets' templates as outsiders.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools"))
import operating_protocol  # noqa: E402

operating_protocol.ANGLES = (0, 30, 60, 90, 180)

if __name__ == "__main__":
    sys.exit(operating_protocol.main())
