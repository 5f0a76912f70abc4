"""The WSGI entry point for production: `gunicorn wsgi:app`."""

import sys

from app import create_app
from keyhouse.config import ConfigError
from keyhouse.services import StartupError, check_services

try:
    app = create_app()
    check_services(app)
except (ConfigError, StartupError) as error:
    sys.exit(f"keyhouse: {error}")
