"""gunicorn's access log without API keys: `gunicorn --logger-class keyhouse.web.accesslog.Logger`.

Clients sometimes put a key where it does not belong — in the URL path, the
query string, the Referer or as a Basic-auth user name. Every value of the
access-log line is scrubbed of anything shaped like a key (its prefix and at
least 8 more characters) before it is written.
"""

import re

from gunicorn.glogging import Logger as GunicornLogger

KEYLIKE = re.compile(r"kh[al]_[0-9A-Za-z]{8,}")
REDACTED = "kh*_[redacted]"


def redact(text):
    return KEYLIKE.sub(REDACTED, text)


class Logger(GunicornLogger):
    def atoms(self, resp, req, environ, request_time):
        return {
            name: redact(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }
