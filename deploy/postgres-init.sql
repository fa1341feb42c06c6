-- One database per service: each service owns its data and reaches the others only through events.
CREATE DATABASE ipm_strategy;
CREATE DATABASE ipm_projects;
CREATE DATABASE ipm_forecast;
CREATE DATABASE ipm_performance;
