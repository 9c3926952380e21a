/**
 * Search matches marked in a line's HTML (from ansi.ts): every case-insensitive occurrence of
 * the query in the text as shown — across colour spans and HTML entities — wrapped in `<mark>`,
 * closed and reopened around span tags so the markup stays well nested.
 */

const TOKEN = /<[^>]*>|&[#\w]+;|[^<&]+|[<&]/g;

/** `html` with every occurrence of `query` in its visible text marked; `html` itself when there is none. */
export function markMatches(html: string, query: string): string {
  if (!query) return html;
  const tokens = html.match(TOKEN) ?? [];
  // The visible characters, each with the token (and offset in it) it comes from.
  const chars: Array<{ t: number; o: number; len: number }> = [];
  let visible = '';
  tokens.forEach((tok, t) => {
    if (tok.startsWith('<') && tok.length > 1) return;
    if (tok.startsWith('&') && tok.length > 1) {
      chars.push({ t, o: 0, len: tok.length });
      visible += decodeEntity(tok);
      return;
    }
    for (let o = 0; o < tok.length; o++) chars.push({ t, o, len: 1 });
    visible += tok;
  });
  const hay = visible.toLowerCase();
  const needle = query.toLowerCase();
  const inMatch = new Uint8Array(chars.length);
  let found = false;
  for (let i = hay.indexOf(needle); i >= 0 && needle; i = hay.indexOf(needle, i + needle.length)) {
    inMatch.fill(1, i, Math.min(chars.length, i + needle.length));
    found = true;
  }
  if (!found) return html;
  let out = '';
  let open = false;
  let c = 0;
  tokens.forEach((tok, t) => {
    if (tok.startsWith('<') && tok.length > 1) {
      out += open ? `</mark>${tok}<mark>` : tok;
      return;
    }
    while (c < chars.length && chars[c]!.t === t) {
      const ch = chars[c]!;
      const want = inMatch[c] === 1;
      if (want && !open) out += '<mark>';
      if (!want && open) out += '</mark>';
      open = want;
      out += tok.slice(ch.o, ch.o + ch.len);
      c++;
    }
  });
  return open ? `${out}</mark>` : out;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };
const decodeEntity = (e: string): string => ENTITIES[e] ?? (/^&#x[\da-f]+;$/i.test(e) ? String.fromCodePoint(parseInt(e.slice(3, -1), 16)) : /^&#\d+;$/.test(e) ? String.fromCodePoint(Number(e.slice(2, -1))) : e);
