FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=portal.settings.production \
    PORTAL_VAR_DIR=/var/lib/shouhou
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY portal ./portal
COPY cases ./cases
COPY pickups ./pickups
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
RUN useradd --system --home /app shouhou && mkdir -p /var/lib/shouhou && chown shouhou /var/lib/shouhou
USER shouhou
EXPOSE 8000
CMD ["sh", "-c", "gunicorn portal.wsgi --workers ${WEB_CONCURRENCY:-4} --bind 0.0.0.0:8000"]
