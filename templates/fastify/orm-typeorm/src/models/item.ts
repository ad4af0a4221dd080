import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

// The items table. Column types are spelled out: nothing relies on emitted design-time type
// metadata, which esbuild (tsx) and vitest do not produce. Keep it in step with src/db/migrations;
// `npm run migration:check` fails when they drift apart.
// Property names are the SQL names, so rows come back in the API's snake_case shape.
@Entity({ name: "items" })
export class Item {
  @PrimaryGeneratedColumn("identity", { generatedIdentity: "ALWAYS" })
  id!: number;

  @Column({ type: "varchar", length: 100 })
  name!: string;

  @Column({ type: "varchar", length: 1000, nullable: true })
  description!: string | null;

  @CreateDateColumn({ type: "timestamptz" })
  created_at!: Date;
}
