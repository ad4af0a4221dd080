import { afterAll } from "vitest";
import { describeBootStep } from "./boot-step.js";
import { removeProjectImages } from "./harness.js";
import { describeVariants, type VariantNumbers } from "./variants.js";

// One file, in this order: the variants build the images that the boot-step checks then reuse
// (same project name, so every layer comes from the cache).
const numbers = new Map<string, VariantNumbers>();
const names = new Map<string, string>();

describeVariants(numbers, names);
describeBootStep(names);

afterAll(async () => {
  await removeProjectImages([...names.values()]);
  const rows = [...numbers].map(([variant, n]) =>
    `  ${variant.padEnd(26)} ${fmt(n.coldBuildS)} ${fmt(n.warmBuildS)} ${fmt(n.bootToHealthyS)} ${fmt(n.healthWaitS)} ${fmt(n.webImageMB, "MB")} ${fmt(n.dbImageMB, "MB")}  ${fmt(n.makeUpS)} ${fmt(n.upWaitS)}`);
  console.log(
    `Boot tier (real engine, local stand-in base images)\n  ${"variant".padEnd(26)} ${"cold build".padStart(10)} ${"warm build".padStart(10)} ${"--boot->ok".padStart(10)} ${"health wait".padStart(10)} ${"web image".padStart(10)} ${"db image".padStart(10)} ${"make up->ok".padStart(11)} ${"(up wait)".padStart(10)}\n${rows.join("\n")}`,
  );
});

const fmt = (n: number | undefined, unit = "s") => (n === undefined ? "-" : `${n} ${unit}`).padStart(10);
