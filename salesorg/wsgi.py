import os

from django.core.wsgi import get_wsgi_application

from salesorg.startup import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesorg.settings")
require_secret_key()  # before anything signs a cookie with an empty key
application = get_wsgi_application()
