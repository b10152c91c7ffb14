"""A local, wire-faithful Hugging Face Hub for model/dataset/space repositories.

Run it with ``python -m emulators.hfhub --port 0``; point ``huggingface_hub`` at it with
``HF_ENDPOINT`` (set before import) and ``HF_HUB_DISABLE_XET=1``. The client cannot tell it from
the Hub for the calls listed in ``docs/emulators/hfhub.md``.
"""
