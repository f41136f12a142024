"""A dispatcher in its own process, for the test that kills a worker mid-delivery (SIGKILL, not an exception).

Usage: python -m tests.fault_worker DATABASE_URL SLACK_API_URL LEASE_SECONDS
"""

from __future__ import annotations

import sys
import time

from adapters.slack.deliverer import SlackDeliverer, make_client
from adapters.slack.settings import SlackSettings
from bot.dispatcher import Dispatcher
from domain.db import make_engine, make_session_factory


def main() -> None:
    url, api_url, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    settings = SlackSettings(_env_file=None, slack_bot_token="xoxb-fault", slack_signing_secret="s", slack_api_url=api_url)
    client = make_client(settings, rate_limit_retries=0)
    client.timeout = 60  # it waits on the platform until it is killed
    dispatcher = Dispatcher(make_session_factory(make_engine(url)), {"slack": SlackDeliverer(settings, client=client)},
                            lease_seconds=lease, owner="victim", send_threads=1)  # nothing beside the held send
    print("ready", flush=True)
    while True:
        dispatcher.run_once()
        time.sleep(0.05)


if __name__ == "__main__":
    main()
