"""Fault injection: scenarios that crash, pause and disconnect the services, then reconcile every posting."""
