# The voxbook application image (API, SMS worker and CLI; PostgreSQL runs in its own container).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY voxbook ./voxbook
COPY api ./api
COPY workers ./workers
COPY db ./db
# Editable install: `voxbook db migrate` reads the SQL from /app/db.
RUN pip install --no-cache-dir -e . && useradd --system --no-create-home voxbook
USER voxbook
EXPOSE 8000
CMD ["voxbook", "serve", "--host", "0.0.0.0", "--port", "8000"]
