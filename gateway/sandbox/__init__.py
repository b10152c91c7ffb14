"""Local services for the sandbox and the test suite: a real MLflow server, moto's S3, emulators."""
