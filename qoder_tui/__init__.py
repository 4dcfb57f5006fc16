"""qoder-tui: watch and debug Qoder Cloud Agents sessions in the terminal."""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client (`httpx._main`, which pulls in click, pygments
# and rich's progress bars: about 27 ms of every launch here) whenever it is installed,
# and carries on without it when it is not (its `httpx[cli]` extra).  We never use it,
# so we tell Python it is absent; the first `import httpx` then takes httpx's own path
# for "CLI not installed".  Nothing changes if httpx was imported before us.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
