"""IPM forecast service: the actuals ledger, budgets and rolling forecasts."""
