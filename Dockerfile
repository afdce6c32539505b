# The registry as a container. In a pod it uses its service account (in-cluster mode);
# mount a tokens file and pass --tokens-file to require bearer tokens.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["event-registry", "serve", "--host", "0.0.0.0", "--port", "8080", "--cluster", "in-cluster"]
