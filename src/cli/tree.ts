/**
 * Draws project-relative paths as an indented tree, marking files that already exist:
 *
 *   my-api/
 *   ├── app/
 *   │   └── main.py
 *   ├── .env  (exists, kept)
 *   └── README.md  (exists, replaced)
 */
export function formatTree(root: string, paths: readonly string[], existing: ReadonlySet<string>, kept: ReadonlySet<string> = new Set()): string {
  interface Node { children: Map<string, Node>; file?: string }
  const top: Node = { children: new Map() };
  for (const p of paths) {
    let node = top;
    const parts = p.split("/");
    parts.forEach((part, i) => {
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
      }
      if (i === parts.length - 1) child.file = p;
      node = child;
    });
  }
  const lines = [`${root.replace(/\/+$/, "")}/`];
  const walk = (node: Node, prefix: string) => {
    // Folders first, then files, each alphabetically: the order people expect from `tree`.
    const entries = [...node.children.entries()].sort(([a, x], [b, y]) =>
      Number(Boolean(x.file)) - Number(Boolean(y.file)) || a.localeCompare(b));
    entries.forEach(([name, child], i) => {
      const last = i === entries.length - 1;
      const mark = child.file && existing.has(child.file) ? `  (exists, ${kept.has(child.file) ? "kept" : "replaced"})` : "";
      lines.push(`${prefix}${last ? "└── " : "├── "}${name}${child.file ? "" : "/"}${mark}`);
      walk(child, `${prefix}${last ? "    " : "│   "}`);
    });
  };
  walk(top, "");
  return lines.join("\n");
}
