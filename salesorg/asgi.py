import os

from django.core.asgi import get_asgi_application

from salesorg.startup import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesorg.settings")
require_secret_key()  # before anything signs a cookie with an empty key
application = get_asgi_application()
