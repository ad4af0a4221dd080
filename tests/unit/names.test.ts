import { describe, expect, it } from "vitest";
import { checkDbIdentifier, checkProjectName, defaultDbName, defaultDbUser, suggestProjectName, toPyPackage, toTitle } from "../../src/options/names.js";

describe("project names", () => {
  it.each(["my-api", "api", "orders.service", "a1", "svc_2"])("accepts %s", (name) => {
    expect(checkProjectName(name)).toEqual({ ok: true });
  });

  it.each([
    ["", "empty"],
    ["My API", "capital"],
    ["my api", "URL-friendly"],
    ["-api", "starting with a letter"],
    ["1api", "starting with a letter"],
    ["api-", "ends with"],
    ["node_modules", "not a valid package name"],
    ["http", "core module"],
    ["class", "Python keyword"],
    ["a".repeat(215), "215 characters"],
    ["café", "URL-friendly"],
    ["@scope/api", "starting with a letter"],
  ])("rejects %j with a reason mentioning %s", (name, reason) => {
    const check = checkProjectName(name);
    expect(check.ok).toBe(false);
    expect(check.ok ? "" : check.reason).toContain(reason);
  });

  it("suggests a valid name for an invalid one", () => {
    expect(suggestProjectName("My API")).toBe("my-api");
    expect(suggestProjectName("  Café Orders!! ")).toBe("cafe-orders");
    expect(suggestProjectName("class")).toBe("class-app");
    expect(suggestProjectName("123")).toBeUndefined();
  });

  it("maps to Python and titles", () => {
    expect(toPyPackage("my-api.v2")).toBe("my_api_v2");
    expect(toTitle("my-api")).toBe("My Api");
  });
});

describe("database identifiers", () => {
  it("derives the database from the project name and the user from the database, as --help says", () => {
    expect(defaultDbName("my-api")).toBe("my_api");
    expect(defaultDbUser("orders")).toBe("orders_user");
    expect(defaultDbUser(defaultDbName("a".repeat(100))).length).toBeLessThanOrEqual(63);
    expect(defaultDbUser("d".repeat(63)).length).toBe(63);
  });

  it.each([
    ["my_db", "db-name", true],
    ["MyDb", "db-name", false],
    ["my-db", "db-name", false],
    ["postgres", "db-user", false],
    ["template1", "db-name", false],
    ["pg_stuff", "db-user", false],
    ["x".repeat(64), "db-name", false],
    ["1db", "db-name", false],
  ] as const)("%s as %s valid=%s", (value, kind, ok) => {
    expect(checkDbIdentifier(value, kind).ok).toBe(ok);
  });
});
