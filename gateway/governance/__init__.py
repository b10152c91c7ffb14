"""Governance: who may do what where (roles scoped by registry and model), approvals with
four-eyes, and the history of every alias and stage move with promote and rollback."""
