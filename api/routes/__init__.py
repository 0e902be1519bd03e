"""The API's blueprints, one per area."""

from api import metrics_route
from api.routes import (
    accounts,
    admin,
    catalog,
    content,
    copy,
    health,
    manager,
    market,
    notifications,
    operations,
    signals,
    strategies,
)

BLUEPRINTS = [
    health.bp,
    accounts.bp,
    content.bp,
    market.bp,
    strategies.bp,
    catalog.bp,
    signals.bp,
    operations.bp,
    manager.bp,
    admin.bp,
    notifications.bp,
    copy.bp,
    metrics_route.bp,
]
