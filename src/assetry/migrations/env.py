"""Alembic environment, configured in code by ``assetry.sql.migrate``.

The caller passes an open connection (inside a transaction) in
``config.attributes["connection"]``; migrations run on it, so a failed migration rolls
back as a whole.
"""

from alembic import context

from assetry.faults import fault_point

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
    on_version_apply=lambda **_: fault_point("migrate.after_step"),
)
with context.begin_transaction():
    context.run_migrations()
