"""Code signs of the SQLAlchemy asyncio pitfalls: the knowledge behind ``playground check``.

``check_paths`` reads the files of one project; ``signs_in_text`` reads one pasted piece
of code (for the diagnosis, which lists code signs as evidence). Both return ``Sign``
records: a finding (``strength="finding"``) points at the line that would do the IO and
says which attribute and why it is not loaded; a hint is weak evidence that only the
diagnosis weighs.

The code is read with the standard library's ``ast`` module, not regular expressions
and not an inference engine: the signs need statement order, call shapes and names
(which factory made a session, which options a statement carries), which ``ast`` gives
exactly and fast (50,000 lines in well under the 5 s budget), while the types an
inference engine would add are mostly visible in annotations already. Where the
evidence is partial the check reports less rather than guess.

Codes, one per pitfall family:

======  ============================  =====================================================
code    pitfall                       what it flags
======  ============================  =====================================================
AOR101  expired-after-commit          attribute read after commit() expired it
AOR102  lazy-relationship             relationship read that no loader option loaded
AOR103  serialization-lazy            pydantic / FastAPI serializes an unloaded attribute
AOR104  server-default-onupdate       server-generated column read after the UPDATE
AOR105  after-rollback                attribute read after rollback() expired it
AOR106  closed-session-detached       unloaded attribute read after its session closed
AOR107  repr-or-logging               __repr__ reads an unloaded attribute when logged
AOR108  deferred-column               deferred column read that no undefer() loaded
AOR109  sync-api-on-async             create_all / inspect / query() / plain with on async
AOR110  async-driver-in-sync-engine   create_engine() given an async driver URL
AOR111  concurrent-session-use        asyncio.gather / tasks sharing one session
AOR112  greenlet-missing              asyncio extension used, greenlet not required
======  ============================  =====================================================
"""

from __future__ import annotations

from .analyze import Sign
from .codes import BY_CODE, BY_PITFALL, CODES, PREFIX, Code, live_command
from .fragments import signs_in_text
from .project import CheckReport, Config, Problem, check_paths, load_config

__all__ = [
    "BY_CODE",
    "BY_PITFALL",
    "CODES",
    "PREFIX",
    "CheckReport",
    "Code",
    "Config",
    "Problem",
    "Sign",
    "check_paths",
    "live_command",
    "load_config",
    "signs_in_text",
]
