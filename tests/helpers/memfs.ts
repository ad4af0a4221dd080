import { Volume, createFsFromVolume } from "memfs";
import type { FsLike } from "../../src/write/fs.js";

/** An in-memory disk for the writer's unit tests, seeded from a path -> content map. */
export function memDisk(seed: Record<string, string | null> = {}) {
  const vol = Volume.fromJSON(seed);
  const fs = createFsFromVolume(vol).promises as unknown as FsLike;
  return { vol, fs, snapshot: () => vol.toJSON() };
}
