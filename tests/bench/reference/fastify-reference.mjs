// The Fastify reference: the same primary-key SELECT on the same driver (pg), no ORM.
import Fastify from "fastify";
import pg from "pg";

const env = process.env;
const pool = new pg.Pool({ host: env.DB_HOST, port: Number(env.DB_PORT), user: env.DB_USER, password: env.DB_PASSWORD, database: env.DB_NAME, max: Number(env.BENCH_POOL_SIZE ?? 10) });
const app = Fastify();
app.get("/items/:id", async (request, reply) => {
  const { rows } = await pool.query("SELECT id, name, description, created_at FROM items WHERE id = $1", [Number(request.params.id)]);
  return rows[0] ?? reply.code(404).send({ detail: "not found" });
});
app.get("/health", async () => {
  await pool.query("SELECT 1");
  return { status: "ok", database: "ok" };
});
app.addHook("onClose", () => pool.end());
process.once("SIGTERM", () => app.close());
await app.listen({ host: env.HOST, port: Number(env.PORT) });
