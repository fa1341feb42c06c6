"""IPM strategy service: the organisation model, plans, strategic targets and strategy reviews."""
