# The development database: Postgres with the project's database and role created on first start.
FROM postgres:15-alpine

# The image's entrypoint runs every script in this folder once, when the data volume is empty.
# init_db.sql holds no secret: it reads the service's password from DB_PASSWORD, which compose
# passes to the container at run time (never a build argument, never a file in the image).
COPY init_db.sql /docker-entrypoint-initdb.d/

WORKDIR /home/db/code
