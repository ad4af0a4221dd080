import { DataSource } from "typeorm";
import { loadConfig } from "../core/config.js";
import { dataSourceOptions } from "./index.js";

// For the TypeORM CLI only (`npm run migration:generate`, `npm run migration:check`, which
// read .env); the app builds its DataSource in index.ts.
export default new DataSource(dataSourceOptions(loadConfig(process.env).databaseUrl));
