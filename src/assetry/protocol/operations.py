"""Which role each Backend operation needs (API.md §11).

Roles nest: reader < writer < curator < admin. Every route of the server is in this
table or in the object, upload and admin routes, each of which names its role too; a
test calls every route with no token, a wrong token and each role.
"""

from __future__ import annotations

READER, WRITER, CURATOR, ADMIN = "reader", "writer", "curator", "admin"

OPERATIONS: dict[str, str] = {
    # reads
    "model_document": READER,
    "settings": READER,
    "table_columns": READER,
    "resolve_rid": READER,
    "rows_page": READER,
    "query_rows": READER,
    "path_query": READER,
    "sorted_rows": READER,
    "count_rows": READER,
    "value_counts": READER,
    "search": READER,
    "snapshot": READER,
    "history": READER,
    "lookup_term": READER,
    "list_terms": READER,
    "get_row": READER,
    "table_kind": READER,
    "asset_dicts": READER,
    "iter_asset_rids": READER,
    "find_asset": READER,
    "check_staging": READER,
    "execution_assets": READER,
    "asset_executions": READER,
    "lineage": READER,
    "stored_objects": READER,
    "referenced_keys": READER,
    "dataset_element_types": READER,
    "dataset_versions": READER,
    "dataset_version": READER,
    "dataset_members": READER,
    "dataset_relatives": READER,
    "dataset_summaries": READER,
    "bag_content": READER,
    "find_artifacts": READER,
    "artifact_partition_values": READER,
    "artifact_declaration": READER,
    "list_stores": READER,
    "store_rules": READER,
    # rows, assets, executions, datasets
    "insert": WRITER,
    "update": WRITER,
    "delete": WRITER,
    "create_workflow": WRITER,
    "create_execution": WRITER,
    "set_status": WRITER,
    "link_assets": WRITER,
    "link_datasets": WRITER,
    "record_outputs": WRITER,
    "recorded_outputs": READER,
    "ensure_asset": WRITER,
    "create_dataset": WRITER,
    "add_dataset_members": WRITER,
    "delete_dataset_members": WRITER,
    "increment_dataset_version": WRITER,
    "delete_dataset": WRITER,
    "record_features": WRITER,
    # named artifacts: the operations check curator themselves for declaring and deleting
    "register_artifact": WRITER,
    "tag_artifact": WRITER,
    "alias_artifact": WRITER,
    "set_artifact_references": WRITER,
    "declare_artifact": CURATOR,
    "delete_artifact": CURATOR,
    # writer for rows into existing tables; the route asks for curator when the bag's
    # model would create tables
    "import_rows": WRITER,
    # the model
    "create_vocabulary": CURATOR,
    "create_table": CURATOR,
    "create_asset": CURATOR,
    "add_column": CURATOR,
    "create_index": CURATOR,
    "apply_model": CURATOR,
    "add_term": CURATOR,
    "change_term": CURATOR,
    "add_dataset_element_type": CURATOR,
    "create_feature": CURATOR,
    "delete_feature": CURATOR,
    # object stores: routing rules are curators' work, the stores themselves admins'
    "set_store_rule": CURATOR,
    "remove_store_rule": CURATOR,
    "add_store": ADMIN,
    "remove_store": ADMIN,
    "set_default_store": ADMIN,
    "migrate_objects": ADMIN,
}

# Routes outside the operation table: (method, path) -> role.
OTHER_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/whoami"): READER,
    ("GET", "/objects"): READER,
    ("GET", "/objects/{sha256}"): READER,
    ("HEAD", "/objects/{sha256}"): READER,
    ("PUT", "/objects/{sha256}"): WRITER,
    ("DELETE", "/objects/{sha256}"): ADMIN,
    ("POST", "/uploads"): WRITER,
    ("GET", "/uploads/{upload_id}"): WRITER,
    ("PUT", "/uploads/{upload_id}"): WRITER,
    ("POST", "/uploads/{upload_id}/complete"): WRITER,
    ("DELETE", "/uploads/{upload_id}"): WRITER,
    ("POST", "/transfers/uploads"): WRITER,
    ("GET", "/transfers/uploads/{upload_id}"): WRITER,
    ("POST", "/transfers/uploads/{upload_id}/complete"): WRITER,
    ("DELETE", "/transfers/uploads/{upload_id}"): WRITER,
    ("GET", "/transfers/objects/{sha256}"): READER,
    ("GET", "/api/v1/tokens"): ADMIN,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): ADMIN,
    ("POST", "/api/v1/tokens/revoke"): ADMIN,
    ("POST", "/api/v1/upgrade"): ADMIN,
}


def operation_path(name: str) -> str:
    return f"/api/v1/ops/{name}"
