"""A local, wire-faithful SageMaker Model Registry emulator (AWS JSON 1.1 over HTTP).

Run it with ``python -m emulators.sagemaker --port 0``; point boto3 at the announced
``endpoint`` (SageMaker) and ``s3_endpoint`` (moto's S3). Behaviours that could not be
checked against the real service are listed in ``docs/emulators/sagemaker.md``.
"""
