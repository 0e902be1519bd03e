"""MongoDB state: collection names and the database handle, typed documents, the
ledger, life cycles, alerts, the operations log, seeding."""
