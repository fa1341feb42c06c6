"""IPM performance service: variances against budget and targets, full-year outlooks and alerts."""
