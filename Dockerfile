# Haven, production image: gunicorn serving facility.wsgi; the same image runs the Celery
# worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF reports) needs Pango and HarfBuzz; fonts for the printed pages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-dejavu-core fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .

# Hashed, compressed static files for whitenoise. Settings insist on a SECRET_KEY when DEBUG is
# off; this one exists only during this build step and is never in the image's environment.
RUN SECRET_KEY="collectstatic-only-build-time-key-not-used-at-runtime-0123456789" DEBUG=0 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin haven \
    && mkdir -p /app/var/media /app/var/beat \
    && chown -R haven:haven /app/var

USER haven

ENV DEBUG=0 \
    MEDIA_ROOT=/app/var/media \
    CELERY_BEAT_SCHEDULE_FILENAME=/app/var/beat/celerybeat-schedule \
    WEB_CONCURRENCY=3

EXPOSE 8000

CMD ["gunicorn", "facility.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
