-- docker-compose: one PostgreSQL server, two databases (the app's and Dagster's instance storage).
CREATE DATABASE dagster OWNER arb;
