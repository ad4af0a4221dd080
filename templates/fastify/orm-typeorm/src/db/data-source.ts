import { DataSource } from "typeorm";
import { dataSourceOptions } from "./index.js";

// For the TypeORM CLI only (`npm run migration:generate`, `npm run migration:check`);
// the app builds its DataSource in index.ts.
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? ""));
