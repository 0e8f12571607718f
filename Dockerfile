# The voxbook application image (API, SMS worker and CLI; PostgreSQL runs in its own container).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY voxbook ./voxbook
COPY api ./api
COPY workers ./workers
COPY db ./db
# A regular install of the wheel: everything, the SQL included (voxbook/sql), lives in the package, so the
# sources go. `voxbook doctor` in the container checks the configuration.
RUN pip install --no-cache-dir . && rm -rf /src && useradd --system --no-create-home voxbook
WORKDIR /app
USER voxbook
EXPOSE 8000
CMD ["voxbook", "serve", "--host", "0.0.0.0", "--port", "8000"]
