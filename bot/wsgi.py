"""WSGI entry for production servers: `gunicorn 'bot.wsgi:app'`.

Web workers only store and acknowledge callbacks and serve documents; the inbox worker, the outbox dispatcher and the
scheduler run in `ordertalk worker` unless ORDERTALK_RUN_INBOX / _RUN_DISPATCHER / _RUN_SCHEDULER say otherwise (they are safe
to run in several processes, but one worker process is enough).
"""

from __future__ import annotations

import os

from bot.bootstrap import build
from bot.settings import Settings

_settings = Settings(run_dispatcher=os.environ.get("ORDERTALK_RUN_DISPATCHER", "0") not in ("0", "false", "False"),
                     run_scheduler=os.environ.get("ORDERTALK_RUN_SCHEDULER", "0") not in ("0", "false", "False"),
                     run_inbox=os.environ.get("ORDERTALK_RUN_INBOX", "0") not in ("0", "false", "False"))
ordertalk = build(_settings)
ordertalk.check_receivers()  # a DingTalk callback-mode mismatch stops the start (bot.receivers)
ordertalk.start_background()
app = ordertalk.flask
