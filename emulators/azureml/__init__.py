"""Azure ML model-asset emulator: ARM workspace models, datastores and the registry data plane.

The official ``azure.ai.ml.MLClient`` reaches it through a custom cloud (``cloud=`` plus
``cloud_metadata``) over TLS with a CA generated at start-up; artifact bytes live in Azurite,
Microsoft's own storage emulator, which this package installs, starts and stops. See
``docs/emulators/azureml.md`` for the wiring and for every behaviour that is inferred rather than
confirmed against the real service. :mod:`emulators.azureml.client` holds what a user's own
process needs (an offline credential, trust and name-resolution set-up, client factories).
"""
