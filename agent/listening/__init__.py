"""The listener: listening histories read from the services' exports (`history`), matched to catalog tracks
(`matching`), kept as local profiles (`profile`) with their separate tastes (`clusters`), and a profile as the
ranking's prior (`prior`). Front door: `Profiles` (import, show, forget) and `Listener` (a profile, ready to rank).
"""

from .prior import Listener
from .profile import Profiles

__all__ = ["Listener", "Profiles"]
