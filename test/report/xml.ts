/**
 * A strict little XML parser for the SVG tests: rejects what an XML parser rejects in our output (unescaped < or &,
 * unknown entities, unquoted or duplicate attributes, mismatched or unclosed tags, text outside the root) and
 * returns the element tree for queries.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

const NAME = /^[A-Za-z_:][\w:.-]*/;

function decode(s: string, at: number): string {
  return s.replace(/&([^;&<]*);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) throw new SyntaxError(`bare "&" near offset ${at}`);
    if (ent === "amp") return "&";
    if (ent === "lt") return "<";
    if (ent === "gt") return ">";
    if (ent === "quot") return '"';
    if (ent === "apos") return "'";
    if (/^#\d+$/.test(ent)) return String.fromCodePoint(Number(ent.slice(1)));
    if (/^#x[0-9a-fA-F]+$/.test(ent)) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    throw new SyntaxError(`unknown entity ${m} near offset ${at}`);
  });
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const fail = (msg: string): never => {
    throw new SyntaxError(`${msg} at offset ${i}: ${JSON.stringify(src.slice(i, i + 40))}`);
  };
  while (i < src.length) {
    if (src.startsWith("<?", i)) {
      const end = src.indexOf("?>", i);
      if (end < 0) fail("unterminated processing instruction");
      i = end + 2;
    } else if (src.startsWith("<!--", i)) {
      const end = src.indexOf("-->", i);
      if (end < 0) fail("unterminated comment");
      i = end + 3;
    } else if (src.startsWith("</", i)) {
      const m = NAME.exec(src.slice(i + 2));
      if (!m) fail("bad closing tag");
      const top = stack.pop();
      if (!top || top.name !== m![0]) fail(`closing </${m![0]}> does not match <${top?.name ?? "nothing"}>`);
      i += 2 + m![0].length;
      while (/\s/.test(src[i] ?? "")) i++;
      if (src[i] !== ">") fail("expected >");
      i++;
    } else if (src[i] === "<") {
      const m = NAME.exec(src.slice(i + 1));
      if (!m) fail("bad tag name");
      const el: XmlElement = { name: m![0], attrs: {}, children: [] };
      i += 1 + m![0].length;
      let open = false;
      for (;;) {
        const ws = /^\s*/.exec(src.slice(i))![0].length;
        i += ws;
        if (src.startsWith("/>", i)) {
          i += 2;
          break;
        }
        if (src[i] === ">") {
          i++;
          open = true;
          break;
        }
        if (!ws) fail("expected whitespace before an attribute");
        const a = NAME.exec(src.slice(i));
        if (!a) fail("bad attribute name");
        i += a![0].length;
        if (src[i] !== "=") fail(`attribute ${a![0]} has no value`);
        const q = src[i + 1];
        if (q !== '"' && q !== "'") fail(`attribute ${a![0]} is not quoted`);
        const end = src.indexOf(q!, i + 2);
        if (end < 0) fail("unterminated attribute");
        const raw = src.slice(i + 2, end);
        if (raw.includes("<")) fail(`"<" in attribute ${a![0]}`);
        if (a![0] in el.attrs) fail(`duplicate attribute ${a![0]}`);
        el.attrs[a![0]] = decode(raw, i);
        i = end + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (!root) root = el;
      else fail("a second root element");
      if (open) stack.push(el);
    } else {
      const end = src.indexOf("<", i);
      const text = src.slice(i, end < 0 ? src.length : end);
      if (stack.length) stack[stack.length - 1]!.children.push(decode(text, i));
      else if (text.trim()) fail("text outside the root element");
      i = end < 0 ? src.length : end;
    }
  }
  if (stack.length) throw new SyntaxError(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new SyntaxError("no root element");
  return root;
}

/** All descendants (and the element itself) with this tag name, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    for (const c of e.children) if (typeof c !== "string") walk(c);
  };
  walk(el);
  return out;
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** The <svg>…</svg> fragments of an HTML page (ours are never nested). */
export function svgFragments(html: string): string[] {
  return [...html.matchAll(/<svg[\s>][\s\S]*?<\/svg>/g)].map((m) => m[0]);
}
