# The development database: Postgres with the project's database and role created on first start.
FROM postgres:15-alpine

# The image's entrypoint runs every script in this folder once, when the data volume is empty.
COPY init_db.sql /docker-entrypoint-initdb.d/

WORKDIR /home/db/code
