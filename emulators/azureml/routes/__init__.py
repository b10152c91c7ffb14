"""HTTP route families: ARM workspace resources, model assets (shared by workspaces and
registries), the registry data plane, registry discovery and the ARM cloud metadata document."""
