"""Folds: what events make of a record (its state) and of the read model's rows, kept in the
writer's transaction."""
