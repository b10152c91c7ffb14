"""Vertex ML Metadata: stores, artifacts, executions, contexts, events and lineage queries.

Artifacts, executions and contexts share one life cycle (create with an optional ID,
get, list with an AIP-160 filter, patch, delete as an LRO), so one table per kind drives
them. Lineage is the bipartite graph artifact -(event)- execution; a hop is one edge.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from . import protos
from .errors import already_exists, invalid, not_found
from .filtering import matches, parse_filter
from .listing import paginate, parse_order_by, sort_items
from .operations import Operations
from .validation import validate_labels, validate_metadata_id

STORE_RE = re.compile(r"^(projects/[^/]+/locations/[^/]+)/metadataStores/([^/]+)$")
KINDS = {"artifacts": "Artifact", "executions": "Execution", "contexts": "Context"}
_MUTABLE = {
    "artifacts": {
        "display_name",
        "uri",
        "etag",
        "labels",
        "state",
        "metadata",
        "description",
        "schema_version",
    },
    "executions": {
        "display_name",
        "state",
        "etag",
        "labels",
        "metadata",
        "description",
        "schema_version",
    },
    "contexts": {
        "display_name",
        "etag",
        "labels",
        "metadata",
        "description",
        "schema_version",
    },
}
_FILTER_FIELDS = {
    "artifacts": {
        "name",
        "display_name",
        "uri",
        "state",
        "schema_title",
        "create_time",
        "update_time",
        "metadata",
    },
    "executions": {
        "name",
        "display_name",
        "state",
        "schema_title",
        "create_time",
        "update_time",
        "metadata",
    },
    "contexts": {
        "name",
        "display_name",
        "schema_title",
        "create_time",
        "update_time",
        "metadata",
        "parent_contexts",
        "child_contexts",
    },
}
INPUT, OUTPUT = 1, 2


def _message_class(kind: str) -> type[Message]:
    return {
        "artifacts": protos.Artifact,
        "executions": protos.Execution,
        "contexts": protos.Context,
    }[kind]


@dataclass
class Store:
    """One MetadataStore and everything recorded in it."""

    resource: Message
    items: dict[str, dict[str, Message]] = field(default_factory=lambda: {k: {} for k in KINDS})
    events: list[Message] = field(default_factory=list)  # Event with .execution set
    members: dict[str, list[str]] = field(default_factory=dict)  # context -> artifact/execution names


def _metadata_value(msg: Message, path: tuple[str, ...]) -> Any:
    """``metadata.<field>.<type>_value``: the value when its JSON type matches, else None."""
    if len(path) != 3:
        raise invalid(f"Invalid metadata filter '{'.'.join(path)}': use metadata.<field>.<type>_value.")
    value = msg.metadata.fields.get(path[1])
    if value is None:
        return None
    kind = value.WhichOneof("kind")
    if path[2] != kind:
        return None
    return getattr(value, kind)


class MetadataService:
    def __init__(self, operations: Operations) -> None:
        self.stores: dict[str, Store] = {}
        self.operations = operations

    # ---- stores --------------------------------------------------------------------------
    def store(self, name: str) -> Store:
        m = STORE_RE.match(name)
        if not m:
            raise invalid(f"Invalid MetadataStore name '{name}'.")
        if name not in self.stores:
            if m.group(2) != "default":
                raise not_found(f'MetadataStore "{name}" does not exist.')
            ts = protos.now()
            res = protos.MetadataStore(name=name, description="Default MetadataStore")
            res.create_time.CopyFrom(ts)
            res.update_time.CopyFrom(ts)
            self.stores[name] = Store(resource=res)
        return self.stores[name]

    def get_store(self, name: str) -> Message:
        return self.store(name).resource

    def list_stores(self, parent: str, page_size: int, page_token: str) -> Message:
        self.store(f"{parent}/metadataStores/default")
        names = sorted(n for n in self.stores if n.startswith(parent + "/metadataStores/"))
        page, token = paginate(names, page_size, page_token, {"p": parent})
        resp = protos.ListMetadataStoresResponse(next_page_token=token)
        resp.metadata_stores.extend(self.stores[n].resource for n in page)
        return resp

    def create_store(self, parent: str, store_id: str, body: Message) -> Message:
        if not store_id:
            store_id = protos.new_numeric_id()
        validate_metadata_id(store_id, "MetadataStore")
        name = f"{parent}/metadataStores/{store_id}"
        if name in self.stores:
            raise already_exists(f'MetadataStore "{name}" already exists.')
        res = protos.copy(body)
        res.name = name
        ts = protos.now()
        res.create_time.CopyFrom(ts)
        res.update_time.CopyFrom(ts)
        self.stores[name] = Store(resource=res)
        meta = protos.CreateMetadataStoreOperationMetadata()
        meta.generic_metadata.create_time.CopyFrom(ts)
        meta.generic_metadata.update_time.CopyFrom(ts)
        return self.operations.record(name, meta, res)

    # ---- artifacts / executions / contexts -----------------------------------------------
    def _locate(self, name: str, kind: str) -> tuple[Store, Message]:
        store_name, _, rest = name.partition(f"/{kind}/")
        if not rest or "/" in rest:
            raise invalid(f"Invalid {KINDS[kind]} name '{name}'.")
        st = self.store(store_name)
        item = st.items[kind].get(name)
        if item is None:
            raise not_found(f'{KINDS[kind]} "{name}" does not exist.')
        return st, item

    def create(self, kind: str, parent: str, resource_id: str, body: Message) -> Message:
        st = self.store(parent)
        if resource_id:
            validate_metadata_id(resource_id, KINDS[kind])
        else:
            resource_id = protos.new_numeric_id()
        name = f"{parent}/{kind}/{resource_id}"
        if name in st.items[kind]:
            raise already_exists(f'{KINDS[kind]} "{name}" already exists.')
        validate_labels(body.labels)
        item = protos.copy(body)
        item.name = name
        ts = protos.now()
        item.create_time.CopyFrom(ts)
        item.update_time.CopyFrom(ts)
        if not item.schema_version and item.schema_title:
            item.schema_version = "0.0.1"
        st.items[kind][name] = item
        return item

    def get(self, kind: str, name: str) -> Message:
        return self._locate(name, kind)[1]

    def _resolver(self, kind: str, st: Store) -> Any:
        allowed = _FILTER_FIELDS[kind]

        def resolve(msg: Message, path: tuple[str, ...]) -> Any:
            head = path[0]
            if head not in allowed:
                raise invalid(f"Unsupported filter field '{'.'.join(path)}'.")
            if head == "metadata":
                return _metadata_value(msg, path)
            if head == "state":
                return protos.enum_name(msg, "state")
            if head in ("create_time", "update_time"):
                return getattr(msg, head).ToDatetime(tzinfo=UTC)
            if head in ("parent_contexts", "child_contexts"):
                return list(getattr(msg, "parent_contexts", []))
            return getattr(msg, head)

        return resolve

    def _in_context(self, st: Store) -> Any:
        def fn(msg: Message, args: tuple[str, ...]) -> bool:
            if len(args) != 1:
                raise invalid("in_context() takes exactly one context resource name.")
            return msg.name in st.members.get(args[0], [])

        return fn

    def list(
        self,
        kind: str,
        parent: str,
        flt: str,
        page_size: int,
        page_token: str,
        order_by: str,
    ) -> Message:
        st = self.store(parent)
        node = parse_filter(flt)
        keys = parse_order_by(
            order_by,
            ("name", "display_name", "create_time", "update_time", "state", "uri"),
        )
        functions = {"in_context": self._in_context(st)} if kind != "contexts" else {}
        items = [m for m in st.items[kind].values() if matches(node, m, self._resolver(kind, st), functions)]

        def sort_value(msg: Message, fld: str) -> Any:
            value = getattr(msg, fld, "")
            return (value.seconds, value.nanos) if hasattr(value, "seconds") else value

        items = sort_items(items, keys, sort_value)
        page, token = paginate(
            items,
            page_size,
            page_token,
            {"p": parent, "f": flt, "o": order_by, "k": kind},
        )
        resp_cls = {
            "artifacts": protos.ListArtifactsResponse,
            "executions": protos.ListExecutionsResponse,
            "contexts": protos.ListContextsResponse,
        }[kind]
        resp = resp_cls(next_page_token=token)
        getattr(resp, kind).extend(page)
        return resp

    def update(
        self,
        kind: str,
        name: str,
        body: Message,
        mask_paths: list[str],
        allow_missing: bool,
    ) -> Message:
        store_name, _, resource_id = name.partition(f"/{kind}/")
        st = self.store(store_name)
        if name not in st.items[kind]:
            if not allow_missing:
                raise not_found(f'{KINDS[kind]} "{name}" does not exist.')
            return self.create(kind, store_name, resource_id, body)
        item = st.items[kind][name]
        if body.etag and body.etag != item.etag and item.etag:
            raise invalid(f'The etag of {KINDS[kind]} "{name}" does not match.')
        paths = mask_paths or [f.name for f, _ in body.ListFields() if f.name in _MUTABLE[kind]]
        for path in paths:
            if path not in _MUTABLE[kind]:
                raise invalid(f"Field '{path}' of {KINDS[kind]} cannot be updated.")
        if "labels" in paths:
            validate_labels(body.labels)
        protos.FieldMask(paths=paths).MergeMessage(body, item, replace_message_field=True, replace_repeated_field=True)
        item.update_time.CopyFrom(protos.now())
        return item

    def delete(self, kind: str, name: str) -> Message:
        st, _ = self._locate(name, kind)
        del st.items[kind][name]
        if kind == "contexts":
            st.members.pop(name, None)
        meta = protos.DeleteOperationMetadata()
        meta.generic_metadata.create_time.CopyFrom(protos.now())
        meta.generic_metadata.update_time.CopyFrom(protos.now())
        return self.operations.record(name, meta)

    # ---- events and context membership ---------------------------------------------------
    def add_execution_events(self, execution: str, events: list[Message]) -> Message:
        st, _ = self._locate(execution, "executions")
        for ev in events:
            if ev.type_ not in (INPUT, OUTPUT):
                raise invalid("Event type must be INPUT or OUTPUT.")
            self._locate(ev.artifact, "artifacts")
            validate_labels(ev.labels)
        for ev in events:
            exists = any(e.execution == execution and e.artifact == ev.artifact for e in st.events)
            if exists:  # documented: an Event already linking the two is skipped
                continue
            new = protos.copy(ev)
            new.execution = execution
            new.event_time.CopyFrom(protos.now())
            st.events.append(new)
        return protos.AddExecutionEventsResponse()

    def add_context_members(self, context: str, artifacts: list[str], executions: list[str]) -> Message:
        st, _ = self._locate(context, "contexts")
        for a in artifacts:
            self._locate(a, "artifacts")
        for e in executions:
            self._locate(e, "executions")
        members = st.members.setdefault(context, [])
        for n in [*artifacts, *executions]:
            if n not in members:  # documented: already-added members are skipped
                members.append(n)
        return protos.AddContextArtifactsAndExecutionsResponse()

    # ---- lineage -------------------------------------------------------------------------
    def _subgraph(self, st: Store, artifacts: list[str], executions: list[str]) -> Message:
        graph = protos.LineageSubgraph()
        graph.artifacts.extend(st.items["artifacts"][a] for a in artifacts if a in st.items["artifacts"])
        graph.executions.extend(st.items["executions"][e] for e in executions if e in st.items["executions"])
        aset, eset = set(artifacts), set(executions)
        graph.events.extend(e for e in st.events if e.artifact in aset and e.execution in eset)
        return graph

    def query_artifact_lineage(self, artifact: str, max_hops: int | None, flt: str) -> Message:
        st, _ = self._locate(artifact, "artifacts")
        if max_hops is not None and max_hops < 0:
            raise invalid("max_hops must not be negative.")
        node = parse_filter(flt)
        resolve = self._resolver("artifacts", st)
        arts, execs = [artifact], []
        seen = {artifact}
        queue: deque[tuple[str, int]] = deque([(artifact, 0)])
        while queue:
            current, hops = queue.popleft()
            if max_hops is not None and hops >= max_hops:
                continue
            is_artifact = current in st.items["artifacts"]
            for ev in st.events:
                if is_artifact and ev.artifact == current:
                    neighbour = ev.execution
                elif not is_artifact and ev.execution == current:
                    neighbour = ev.artifact
                    if neighbour not in seen and not matches(node, st.items["artifacts"][neighbour], resolve):
                        continue
                else:
                    continue
                if neighbour in seen or neighbour not in st.items["artifacts" if not is_artifact else "executions"]:
                    continue
                seen.add(neighbour)
                (execs if is_artifact else arts).append(neighbour)
                queue.append((neighbour, hops + 1))
        return self._subgraph(st, arts, execs)

    def query_execution_io(self, execution: str) -> Message:
        st, _ = self._locate(execution, "executions")
        arts = [e.artifact for e in st.events if e.execution == execution]
        return self._subgraph(st, list(dict.fromkeys(arts)), [execution])

    def query_context_lineage(self, context: str) -> Message:
        st, _ = self._locate(context, "contexts")
        members = st.members.get(context, [])
        arts = [m for m in members if "/artifacts/" in m]
        execs = [m for m in members if "/executions/" in m]
        return self._subgraph(st, arts, execs)

    # ---- the artifact UploadModel creates ------------------------------------------------
    def create_model_artifact(self, model_version_name: str, display_name: str) -> str:
        """Model.metadataArtifact: "created in MetadataStore when creating the Model"."""
        parent = model_version_name.split("/models/")[0]
        store = f"{parent}/metadataStores/default"
        location = parent.split("/")[3]
        body = protos.Artifact(
            display_name=display_name,
            schema_title="google.VertexModel",
            uri=f"https://{location}-aiplatform.googleapis.com/v1/{model_version_name}",
            state=2,
        )
        body.metadata.update({"resourceName": model_version_name})
        return self.create("artifacts", store, "", body).name

    # ---- persistence ---------------------------------------------------------------------
    def dump(self) -> list[dict[str, Any]]:
        return [
            {
                "resource": protos.to_dict(st.resource),
                "items": {k: [protos.to_dict(m) for m in v.values()] for k, v in st.items.items()},
                "events": [protos.to_dict(e) for e in st.events],
                "members": st.members,
            }
            for st in self.stores.values()
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            res = json_format.ParseDict(row["resource"], protos.MetadataStore())
            st = Store(resource=res, members={k: list(v) for k, v in row["members"].items()})
            for kind, items in row["items"].items():
                for raw in items:
                    msg = json_format.ParseDict(raw, _message_class(kind)())
                    st.items[kind][msg.name] = msg
            st.events = [json_format.ParseDict(e, protos.Event()) for e in row["events"]]
            self.stores[res.name] = st
