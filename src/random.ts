import { closeSync, openSync, readSync } from "node:fs";

/**
 * `size` random bytes from the operating system's generator: /dev/urandom where there is one
 * (Linux, macOS, the BSDs: the kernel's CSPRNG, which also seeds node:crypto's), else (Windows)
 * node:crypto's randomBytes. Loading node:crypto costs a scaffold about 16M instructions (some
 * 2 ms), more than everything it does with the bytes: the generated passwords and the staging
 * folder's name.
 */
export async function randomBytes(size: number): Promise<Buffer> {
  let fd: number | undefined;
  try {
    fd = openSync("/dev/urandom", "r");
    const bytes = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, null);
      if (n === 0) throw new Error("/dev/urandom ended");
      done += n;
    }
    return bytes;
  } catch {
    return (await import("node:crypto")).randomBytes(size);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
