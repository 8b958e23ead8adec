# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY accounts ./accounts
COPY clients ./clients
COPY pipeline ./pipeline
COPY reports ./reports
COPY salesorg ./salesorg
RUN python -c "import tomllib; print(\"\\n\".join(tomllib.load(open(\"pyproject.toml\",\"rb\"))[\"project\"][\"dependencies\"]))" > /tmp/req.txt && pip install -r /tmp/req.txt
COPY . .
RUN SECRET_KEY=collectstatic-only DEBUG=0 python manage.py collectstatic --noinput
RUN useradd --create-home salesorg && mkdir -p /app/var && chown -R salesorg /app/var
USER salesorg
EXPOSE 8000
CMD ["gunicorn", "salesorg.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
