"""The old name of the Python adapter SDK, kept for scripts that import it:
the SDK is the package tools/adapters/python/netutil_adapter."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))

import netutil_adapter  # noqa: E402

sys.modules[__name__] = netutil_adapter
