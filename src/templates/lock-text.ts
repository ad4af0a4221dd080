// Lock text as Handlebars source that renders it exactly (used by lock-merge.ts).

/**
 * Writes lock lines as Handlebars source that renders them exactly, and the block tags between
 * them, each on a line of its own (a standalone tag: Handlebars drops its line) except after a
 * last line without a newline, where a tag follows on the same line.
 */
export class LockWriter {
  text = "";
  private atLineStart = true;
  private afterInlineTag = false;

  constructor(private readonly projectName: string) {}

  /** A block tag: `{{#if ...}}`, `{{else}}`, `{{/if}}`. */
  tag(tag: string): void {
    if (this.atLineStart) {
      this.text += `${tag}\n`;
    } else {
      this.text += tag;
      this.afterInlineTag = true;
    }
  }

  /** One lock line with its newline (or the last, without one); `tagFollows`: a block tag comes right after it. */
  line(raw: string, tagFollows: boolean): void {
    const newline = raw.endsWith("\n");
    const body = newline ? raw.slice(0, -1) : raw;
    // "}" right after a tag would close it as "}}}": a comment keeps them apart.
    let out = this.afterInlineTag && body.startsWith("}") ? "{{!}}" : "";
    let backslashes = 0;
    let afterMustache = false;
    const mustache = (m: string) => {
      // A "\" right before "{{" escapes it; "\\" before "{{" is one "\" and a real mustache.
      out += `${backslashes > 0 ? "\\" : ""}${m}`;
      backslashes = 0;
      afterMustache = true;
    };
    const text = (t: string) => {
      if (afterMustache && t.startsWith("}")) out += "{{!}}";
      if (t) afterMustache = false;
      out += t;
      const trailing = /\\*$/.exec(t)![0].length;
      backslashes = trailing === t.length ? backslashes + trailing : trailing;
    };
    const lastTag = !newline && tagFollows;
    // A lone "{" at the very end would open the tag that follows as "{{{".
    const loneBrace = lastTag && body.endsWith("{") && !/(^|[^{])(\{\{)+$/.test(body);
    const scan = loneBrace ? body.slice(0, -1) : body;
    let i = 0;
    let plain = "";
    while (i < scan.length) {
      if (scan.startsWith("{{", i)) {
        text(plain);
        plain = "";
        // Literal braces: "\{{" (after backslashes, a comment ends them first).
        out += backslashes > 0 ? "\\{{!}}\\{{" : "\\{{";
        backslashes = 0;
        afterMustache = false;
        i += 2;
      } else if (this.projectName && scan.startsWith(this.projectName, i)) {
        // A "{" right before the mustache would open it as "{{{": it comes from a helper.
        const brace = plain.endsWith("{");
        text(brace ? plain.slice(0, -1) : plain);
        plain = "";
        if (brace) mustache('{{lower "{"}}');
        mustache("{{project.name}}");
        i += this.projectName.length;
      } else {
        plain += scan[i];
        i++;
      }
    }
    text(plain);
    if (loneBrace) mustache('{{lower "{"}}');
    // A tag right after trailing blanks or backslashes would eat or be escaped by them.
    else if (lastTag && (/^\s+$/.test(body) || backslashes > 0)) mustache("{{!}}");
    this.text += out + (newline ? "\n" : "");
    if (newline) this.atLineStart = true;
    else if (body.length > 0) this.atLineStart = false;
    this.afterInlineTag = false;
  }
}
