import type { MigrationInterface, QueryRunner } from "typeorm";

// TypeORM orders migrations by the 13-digit timestamp that ends the class name.
export class CreateItems1764201600000 implements MigrationInterface {
  name = "CreateItems1764201600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "items" (
        "id" integer GENERATED ALWAYS AS IDENTITY NOT NULL,
        "name" character varying(100) NOT NULL,
        "description" character varying(1000),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_items_id" PRIMARY KEY ("id")
      )
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "items"`);
  }
}
