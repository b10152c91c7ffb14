"""A local, wire-faithful Vertex AI Model Registry + ML Metadata emulator (REST), with GCS.

Run ``python -m emulators.vertex --port 0``; see docs/emulators/vertex.md.
"""
